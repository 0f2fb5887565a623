"""`opsbook check-branch` and `check-pr` (runbook §2 naming, §5 PR rules). No database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from opslib import cli
from opslib.gates.branch import CIContext, check_branch, ci_context
from opslib.gates.pr import check_pr, template_items

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "examples" / "app-ci" / "pull_request_template.md").read_text(encoding="utf-8")
TODAY = dt.date(2026, 3, 1)

FILLED = (ROOT / "tests" / "fixtures" / "pr" / "filled_body.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module", autouse=True)
def embedded_server():  # overrides the suite's: these tests need no database
    yield


def _branch(name: str, **ctx) -> object:
    context = CIContext(ctx.get("ci", False), name, "test", ctx.get("event"), ctx.get("message"))
    return check_branch(name, context=context, today=TODAY, allow=ctx.get("allow", ()))


# --- branch names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kind",
    [("wi/WI-042-payment-retry", "wi"), ("hotfix/2026-02-20-webhook-fix", "hotfix"), ("hotfix/2026-03-02-x", "hotfix")],
)
def test_runbook_branch_names_pass(name, kind):
    v = _branch(name)
    assert v.ok and v.kind == kind


@pytest.mark.parametrize(
    "name,problem",
    [
        ("hotfix/2026-02-30-webhook-fix", "not a calendar date"),
        ("hotfix/2026-13-01-webhook-fix", "not a calendar date"),
        ("hotfix/2027-02-20-webhook-fix", "in the future"),
        ("hotfix/webhook-fix", "starts with its date"),
        ("wi/042-payment-retry", "WI id comes first"),
        ("wi/WI-042-Payment_Retry", "slug is lowercase"),
        ("wi/WI-042", "slug is lowercase"),
        ("feature/payment-retry", "not a work branch"),
        ("main", "pull-request merges only"),
    ],
)
def test_bad_branch_names_are_refused_with_the_reason(name, problem):
    v = _branch(name)
    assert not v.ok and problem in v.problems[0]


def test_main_in_ci_push_is_refused_unless_a_pr_merge():
    assert "direct push to main is refused" in _branch("main", ci=True, event="push").problems[0]
    direct = _branch("main", ci=True, event="push", message="quick fix of the banner copy")
    assert not direct.ok
    for message in ("Merge pull request #81 from org/wi/WI-042-payment-retry\n\nbody", "Payment retry (#81)"):
        assert _branch("main", ci=True, event="push", message=message).ok
    assert _branch("dependabot/npm/next-15", allow=["dependabot/*"]).ok


def test_ci_detection_reads_the_pr_head_then_the_pushed_ref(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"head_commit": {"message": "Merge pull request #7 from x/y"}}))
    env = {
        "CI": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_HEAD_REF": "wi/WI-7-x",
        "GITHUB_REF": "refs/pull/7/merge",
    }
    ctx = ci_context(env)
    assert (ctx.ci, ctx.branch, ctx.source, ctx.pushing) == (True, "wi/WI-7-x", "GITHUB_HEAD_REF", False)
    env = {"CI": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": str(event)}
    ctx = ci_context(env)
    assert (ctx.branch, ctx.source, ctx.pushing) == ("main", "GITHUB_REF", True)
    assert ctx.head_commit_message.startswith("Merge pull request #7")
    assert ci_context({"CI": "true", "CI_COMMIT_REF_NAME": "hotfix/2026-02-20-a"}).branch == "hotfix/2026-02-20-a"
    # outside CI the variables are not trusted: git names the branch
    repo = tmp_path / "repo"
    repo.mkdir()
    import subprocess

    subprocess.run(["git", "init", "-q", "-b", "wi/WI-9-local", str(repo)], check=True)
    ctx = ci_context({"GITHUB_HEAD_REF": "wi/WI-1-spoofed"}, cwd=repo)
    assert (ctx.ci, ctx.branch, ctx.source) == (False, "wi/WI-9-local", "git")


def test_check_branch_cli(capsys, monkeypatch):
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_EVENT_PATH", "CI_COMMIT_REF_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    assert cli.main(["check-branch", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["ci"] is True and doc["source"] == "GITHUB_REF" and doc["exit_code"] == 1
    assert cli.main(["check-branch", "wi/WI-042-payment-retry"]) == 0
    assert "ok [wi]" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.main(["check-branch", "--help"])
    assert exc.value.code == 0 and "exit codes" in capsys.readouterr().out


# --- PR body against the template --------------------------------------------------------------------


def test_template_items_are_headings_checkboxes_and_fields():
    kinds = [(i.kind, i.text) for i in template_items(TEMPLATE)]
    assert ("field", "WI") in kinds and ("field", "Slack Thread") in kinds
    assert ("text", "변경 내용 (Summary)") in kinds and ("text", "테스트 (Test evidence)") in kinds
    assert sum(k == "checkbox" for k, _ in kinds) == 9
    assert not any("Screenshots" in t for _, t in kinds)  # (optional)


def test_filled_body_passes():
    v = check_pr(TEMPLATE, "WI-042 결제 웹훅 재시도 백오프", FILLED, _branch("wi/WI-042-payment-retry"))
    assert v.ok, v.problems
    assert v.wi == "WI-042" and all(r.filled for r in v.items)


def test_the_unchanged_template_is_not_filled():
    v = check_pr(TEMPLATE, "WI-042 retry", TEMPLATE, _branch("wi/WI-042-payment-retry"))
    unfilled = [r.item.text for r in v.items if not r.filled]
    assert len(unfilled) == len(v.items)  # every required item, placeholders included
    assert any("still holds the template's placeholder" in p for p in v.problems)
    assert "the body does not name WI-042 (the branch's work item)" in v.problems


@pytest.mark.parametrize(
    "edit,problem",
    [
        (("- [x] CI 4잡", "- [ ] CI 4잡"), "unchecked"),
        (
            (
                "- [ ] 마이그레이션 런북 절차: 로컬 → 스테이징 → 프로덕션 (migration runbook order) "
                "N/A: 마이그레이션 없음",
                "- [x] 마이그레이션 런북 절차: 로컬 → 스테이징 → 프로덕션 (migration runbook order)",
            ),
            None,
        ),
        (("— N/A: no DB change", "N/A: x"), "unchecked"),  # a reason shorter than 5 characters is none
        (("- [x] 버그 수정", "- [ ] 버그 수정"), "check at least one item"),
        (("- Slack Thread: #ops-wi-042 스레드 링크", "- Slack Thread: <link>"), "placeholder"),
        (
            (
                "결제 웹훅 재시도 간격을 지수 백오프로 바꿉니다 (exponential backoff for webhook retries).",
                "무엇을 왜 바꾸는지 적어 주세요.",
            ),
            "placeholder",
        ),
        (("## 테스트 (Test evidence)", "## Tests"), "section '테스트 (Test evidence)' is missing"),
        (("- WI: WI-042", "- WI: WI-043"), "1 WI = 1 PR"),
    ],
)
def test_one_gap_is_named(edit, problem):
    body = FILLED.replace(*edit)
    v = check_pr(TEMPLATE, "WI-042 결제 웹훅 재시도 백오프", body, _branch("wi/WI-042-payment-retry"))
    if problem is None:
        assert v.ok
    else:
        assert not v.ok and any(problem in p for p in v.problems), v.problems


def test_wi_agreement_between_branch_title_and_body():
    branch = _branch("wi/WI-042-payment-retry")
    assert (
        "the title does not name WI-042 (the branch's work item)"
        in check_pr(TEMPLATE, "retry", FILLED, branch).problems
    )
    two = check_pr(TEMPLATE, "WI-042 and WI-050", FILLED, branch)
    assert "1 WI = 1 PR: branch, title and body name WI-042, WI-050" in two.problems
    # a hotfix needs no WI, but one named must agree
    hotfix = _branch("hotfix/2026-02-20-webhook-fix")
    no_wi = FILLED.replace("- WI: WI-042", "- WI: 장애 대응 (incident INC-12)")
    assert check_pr(TEMPLATE, "Hotfix webhook", no_wi, hotfix).ok
    assert not check_pr(TEMPLATE, "WI-050 hotfix", FILLED, hotfix).ok


def test_check_pr_cli_reads_the_github_event(tmp_path, capsys, monkeypatch):
    template = tmp_path / "pull_request_template.md"
    template.write_text(TEMPLATE)
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "pull_request": {
                    "title": "WI-042 결제 재시도",
                    "body": FILLED,
                    "head": {"ref": "wi/WI-042-payment-retry"},
                }
            }
        )
    )
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert cli.main(["check-pr", "--template", str(template), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["wi"] == "WI-042" and doc["branch"]["branch"] == "wi/WI-042-payment-retry"
    assert cli.main(["check-pr", "--template", str(template), "--title", "no id"]) == 1
    assert "NOT READY" in capsys.readouterr().out
    empty = {"pull_request": {"title": "WI-042 x", "body": None, "head": {"ref": "wi/WI-042-payment-retry"}}}
    event.write_text(json.dumps(empty))  # GitHub's payload for a PR opened with no description
    assert cli.main(["check-pr", "--template", str(template)]) == 1
    assert "0/13 template items filled" in capsys.readouterr().out
    assert cli.main(["check-pr", "--template", str(tmp_path / "nope.md")]) == 2
    code = cli.main(["check-pr", "--template", str(template), "--title", "x", "--body-file", str(tmp_path / "no.md")])
    assert code == 2 and "cannot use" in capsys.readouterr().err
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    assert cli.main(["check-pr", "--template", str(template)]) == 2
    assert "no PR title or body" in capsys.readouterr().err

"""The smoke page's rules without a browser: §6 verdicts, T3's disguise rule, evidence, the 10-15 minute
rule, and the inputs refused before a kernel starts. Fast: no database, no Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opslib import runner
from opslib.errors import ConfigError
from opslib.results import Outcome, Severity, Verdict, decide
from opslib.smoke import browser, cases
from opslib.smoke.judge import Judged, timing
from opslib.smoke.judge import judge as judge_run

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("OPSBOOK_SMOKE_PASSWORD", "Sm0ke-Tester!2931")
    for name in ("OPSBOOK_SMOKE_PEER_PASSWORD", "OPSBOOK_SMOKE_ADMIN_PASSWORD", "OPSBOOK_SMOKE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _plan(tmp_path: Path, **kw):
    base = {"base_url": "https://app.example.com", "test_email": "qa@example.com", "screenshots": tmp_path, "now": NOW}
    return cases.plan(**{**base, **kw})


def _run(case: cases.Case, status: str, severity=None, detail="", latency=None, calls=(), shot=None):
    return browser.CaseRun(case, status, (), shot, tuple(calls), (), NOW, 1.0, detail, severity, latency)


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    return path


# --- §6 verdicts from case results --------------------------------------------------------------


def _all_passed(plan, tmp_path, **override):
    runs = []
    for c in plan.automated:
        shot = _png(tmp_path / f"{c.id}.png")
        runs.append(override.get(c.id) or _run(c, "passed", shot=shot, latency=0.4 if c.id == "T4" else None))
    return judge_run(plan, runs)


def _verdict(j: Judged) -> Verdict:
    found = [f for r in j.cases.values() for f in r.findings] + list(j.evidence.findings)
    return decide(found)


def test_all_cases_passed_with_screenshots_is_pass(env, tmp_path):
    plan = _plan(tmp_path)
    j = _all_passed(plan, tmp_path)
    assert _verdict(j) is Verdict.PASS
    assert j.exit.exit_state.met is True


def test_a_core_case_failing_is_fail_and_a_non_core_one_conditional(env, tmp_path):
    plan = _plan(tmp_path)
    t2, t5 = plan.case("T2"), plan.case("T5")
    shot = _png(tmp_path / "x.png")
    failed_core = _all_passed(plan, tmp_path, T2=_run(t2, "failed", Severity.P0, "no packages", shot=shot))
    assert _verdict(failed_core) is Verdict.FAIL and failed_core.exit.exit_state.met is False
    failed_share = _all_passed(plan, tmp_path, T5=_run(t5, "failed", Severity.P2, "disabled", shot=shot))
    assert _verdict(failed_share) is Verdict.CONDITIONAL_PASS


def test_slow_message_is_a_non_core_issue_and_passing_with_5xx_is_not_a_clean_pass(env, tmp_path):
    plan = _plan(tmp_path)
    shot = _png(tmp_path / "x.png")
    slow = _all_passed(plan, tmp_path, T4=_run(plan.case("T4"), "passed", latency=3.1, shot=shot))
    latency = [f for f in slow.case("T4").findings if f.check == "smoke.realtime_latency"]
    assert latency[0].outcome is Outcome.WARN and latency[0].severity is Severity.P2
    assert _verdict(slow) is Verdict.CONDITIONAL_PASS
    call = browser.Call(NOW, "fetch", "GET", "/api/banners", 502)
    noisy = _all_passed(plan, tmp_path, T6=_run(plan.case("T6"), "passed", calls=[call], shot=shot))
    t6 = [f for f in noisy.case("T6").findings if f.outcome.is_problem]
    assert t6 and t6[0].severity is Severity.P2 and "502" in t6[0].detail
    assert _verdict(noisy) is Verdict.CONDITIONAL_PASS


def test_three_non_core_issues_are_no_longer_conditional(env, tmp_path):
    plan = _plan(tmp_path)
    shot = _png(tmp_path / "x.png")
    call = browser.Call(NOW, "xhr", "GET", "/api/x", 500)
    j = _all_passed(
        plan,
        tmp_path,
        T5=_run(plan.case("T5"), "failed", Severity.P2, "disabled", shot=shot),
        T6=_run(plan.case("T6"), "passed", calls=[call], shot=shot),
        T4=_run(plan.case("T4"), "passed", latency=2.5, shot=shot),
    )
    assert _verdict(j) is Verdict.FAIL  # §6 allows 1-2; the shared rule (results.decide) says more is FAIL


# --- 증적 필수 ---------------------------------------------------------------------------------


def test_missing_screenshot_refuses_pass(env, tmp_path):
    plan = _plan(tmp_path)
    j = _all_passed(plan, tmp_path, T3=_run(plan.case("T3"), "passed", shot=None))
    errors = [f for f in j.evidence.findings if f.outcome is Outcome.ERROR]
    assert [f.subject for f in errors] == ["T3"]
    assert _verdict(j) is Verdict.ERROR, "every case passed, but without T3's screenshot it is not a PASS"
    assert j.exit.exit_state.met is None


def test_manual_cases_need_their_screenshot_and_a_link_when_they_failed(env, tmp_path):
    _png(tmp_path / "t4.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    (tmp_path / "manual.yaml").write_text(
        "T4: {result: pass, screenshot: t4.png, device: two phones}\n"
        "T5: {result: fail, screenshot: bad.png, note: share sheet did not open}\n",
        encoding="utf-8",
    )
    shots = tmp_path / "bundle"
    plan = _plan(shots, manual_cases="T4, t5", manual_results=str(tmp_path / "manual.yaml"))
    assert plan.manual_cases == ("T4", "T5") and [c.id for c in plan.automated] == ["T1", "T2", "T3", "T6", "T7"]
    j = _all_passed(plan, tmp_path)
    assert j.case("T4").status == "passed" and (shots / "T4-manual.png").is_file()
    t5 = j.case("T5")
    assert t5.image is None and "PNG" in t5.detail
    missing = {f.subject: f.detail for f in j.evidence.findings if f.outcome is Outcome.ERROR}
    assert set(missing) == {"T5"} and "스크린샷" in missing["T5"] and "링크" in missing["T5"]
    assert _verdict(j) is Verdict.ERROR


def test_manual_results_file_is_checked_before_the_run(env, tmp_path):
    with pytest.raises(ConfigError, match="needs manual_results"):
        _plan(tmp_path, manual_cases="T4")
    (tmp_path / "m.yaml").write_text("T5: {result: pass}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="does not name it"):
        _plan(tmp_path, manual_cases="T4", manual_results=str(tmp_path / "m.yaml"))
    (tmp_path / "m.yaml").write_text("T4: {result: maybe}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="pass or fail"):
        _plan(tmp_path, manual_cases="T4", manual_results=str(tmp_path / "m.yaml"))
    with pytest.raises(ConfigError, match="not a Quick 7 case"):
        _plan(tmp_path, manual_cases="T8")


# --- T3: an error disguised as an empty state -------------------------------------------------


def test_an_empty_list_is_judged_by_the_calls_behind_it_and_the_database():
    assert browser.judge_list(3, False, False, [], 3) == (True, "목록 3건 (listed)")
    ok, said = browser.judge_list(0, True, False, ["GET /api/subscriptions → HTTP 500"], None)
    assert not ok and "위장" in said and "500" in said
    ok, said = browser.judge_list(0, True, False, [], 2)
    assert not ok and "2건" in said, "every call 2xx, but the database holds rows: still a disguise"
    assert browser.judge_list(0, True, False, [], 0)[0], "honestly empty"
    assert not browser.judge_list(0, False, True, [], None)[0], "an error shown is a failure too"
    assert not browser.judge_list(0, False, False, [], None)[0], "neither list nor empty state"


# --- the 10-15 minute rule ----------------------------------------------------------------------


def test_a_smoke_later_than_15_minutes_after_the_deploy_is_flagged(env, tmp_path):
    on_time = timing(_plan(tmp_path, deploy_time=(NOW - timedelta(minutes=12)).isoformat()))
    assert on_time.findings[0].outcome is Outcome.OK and on_time.findings[0].value == 12
    late = timing(_plan(tmp_path, deploy_time=(NOW - timedelta(minutes=16)).isoformat()))
    assert late.findings[0].outcome is Outcome.WARN and late.findings[0].severity is Severity.P3
    unknown = timing(_plan(tmp_path))
    assert unknown.findings[0].outcome is Outcome.NOT_EVALUATED
    with pytest.raises(ConfigError, match="in the future"):
        _plan(tmp_path, deploy_time=(NOW + timedelta(minutes=1)).isoformat())


# --- the cases as data, and inputs refused before a kernel starts ------------------------------


def test_the_cases_follow_section_6():
    found = cases.default_cases()
    assert [c.id for c in found] == list(cases.CASE_IDS)
    assert [c.core for c in found] == [True, True, True, True, False, True, True]
    assert found[1].severity is Severity.P0 and "payments-kill-switch" in found[1].stop_the_bleed
    routes = {s.arg("path") for c in found for s in c.steps if s.op == "goto"}
    assert {"/wallet/charge", "/subscriptions", "/admin/dashboard"} <= routes


def test_a_core_case_cannot_fail_at_p2(tmp_path):
    raw = {
        "id": "T6",
        "area": "x",
        "title": "y",
        "core": True,
        "severity": "P2",
        "steps": [{"op": "goto", "path": "/"}],
    }
    with pytest.raises(ConfigError, match="core case cannot fail at P2"):
        cases.parse_case(raw)
    with pytest.raises(ConfigError, match="unknown step op"):
        cases.parse_case({**raw, "severity": "P1", "steps": [{"op": "teleport"}]})


def test_a_cases_file_overrides_routes_and_selectors(env, tmp_path):
    (tmp_path / "c.yaml").write_text(
        "login: {route: /signin}\ncases:\n  T6:\n    steps:\n      - {op: goto, path: /campaigns}\n"
        "      - {op: expect_count, selector: '.campaign', min: 2}\n",
        encoding="utf-8",
    )
    plan = _plan(tmp_path, cases_file=str(tmp_path / "c.yaml"))
    assert plan.login.route == "/signin" and plan.case("T6").steps[0].arg("path") == "/campaigns"
    assert plan.case("T6").severity is Severity.P1, "what the file does not say stays as §6 has it"
    (tmp_path / "c.yaml").write_text("cases: {T9: {}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown case"):
        _plan(tmp_path, cases_file=str(tmp_path / "c.yaml"))


def test_the_password_comes_only_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("OPSBOOK_SMOKE_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=r"\$OPSBOOK_SMOKE_PASSWORD is not set"):
        _plan(tmp_path)
    monkeypatch.setenv("OPSBOOK_SMOKE_PASSWORD", "Sm0ke-Tester!2931")
    with pytest.raises(ConfigError, match="without credentials"):
        _plan(tmp_path, base_url="https://qa:pw@app.example.com")
    with pytest.raises(ConfigError, match="test_email"):
        _plan(tmp_path, test_email="")
    assert _plan(tmp_path, peer_email="").accounts["peer"].password_env == "OPSBOOK_SMOKE_PASSWORD"


def test_opsbook_run_refuses_bad_input_before_a_kernel_starts(monkeypatch, tmp_path):
    monkeypatch.delenv("OPSBOOK_SMOKE_PASSWORD", raising=False)
    monkeypatch.delenv("OPSBOOK_SMOKE_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="base_url"):
        runner.prepare("smoke", {"test_email": "qa@example.com"}, database_url=None, wi_id=None)
    with pytest.raises(ConfigError, match="OPSBOOK_SMOKE_PASSWORD"):
        runner.prepare(
            "smoke", {"base_url": "http://127.0.0.1:9", "test_email": "q@x.io"}, database_url=None, wi_id=None
        )
    with pytest.raises(ConfigError, match="share_policy"):
        runner.prepare("smoke", {"share_policy": "sometimes"}, database_url=None, wi_id=None)


def test_the_demo_does_not_pretend_to_smoke_test_a_database(capsys):
    from opslib.cli import main

    assert main(["demo", "--runbook", "smoke"]) == runner.ExitCode.USAGE
    err = capsys.readouterr().err
    assert "web app" in err and "Traceback" not in err


def test_a_long_case_detail_is_cut_visibly_in_the_summary(env, tmp_path):
    # the summary cut T1's detail at 160 characters and read "… · 페이지 응답 HTTP 400 ("
    plan = _plan(tmp_path)
    detail = "로그인 후에도 /login에 머묾 (still on /login after submitting: a login loop) " * 4
    t1 = _run(plan.case("T1"), "failed", Severity.P0, detail, shot=_png(tmp_path / "t1.png"))
    j = _all_passed(plan, tmp_path, T1=t1)
    seen = j.summary.set_index("케이스").loc["T1", "본 것 (what was seen)"]
    assert len(seen) == 160 and seen.endswith("…") and seen[:-1] in detail
    assert j.summary.set_index("케이스").loc["T2", "본 것 (what was seen)"] == j.cases["T2"].detail

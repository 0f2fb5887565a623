"""The pre-commit hooks (.pre-commit-hooks.yaml) and the CI workflow example (examples/app-ci/ops-gates.yml)
run the way the app repository runs them: in a git repository with a migration folder, each hook's
`entry` with the files its `files` pattern selects, each workflow `run:` script under bash with the
variables GitHub Actions sets. No database."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
WORKFLOW = yaml.safe_load((ROOT / "examples" / "app-ci" / "ops-gates.yml").read_text(encoding="utf-8"))
TEMPLATE = ROOT / "examples" / "app-ci" / "pull_request_template.md"

SAFE = "SET lock_timeout = '5s';\nALTER TABLE public.banners ADD COLUMN note text;\n"
UNSAFE = "CREATE INDEX banners_note_idx ON public.banners (note);\n"


@pytest.fixture(scope="module", autouse=True)
def embedded_server():  # overrides the suite's: these tests need no database
    yield


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # `opsbook` of this venv
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def app_repo(tmp_path_factory) -> tuple[Path, str]:
    """The app repository: a template, one old migration on main, then a work branch adding one."""
    assert shutil.which("opsbook", path=_env()["PATH"]), "opsbook is not installed in this venv"
    repo = tmp_path_factory.mktemp("app")
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".github").mkdir()
    shutil.copy(TEMPLATE, repo / ".github" / "pull_request_template.md")
    mig = repo / "supabase" / "migrations"
    mig.mkdir(parents=True)
    (mig / "20260101000000_banner_notes.sql").write_text(
        "CREATE TABLE public.banner_notes (id bigint PRIMARY KEY, author_id uuid REFERENCES auth.users(id));\n"
        "ALTER TABLE public.banner_notes ENABLE ROW LEVEL SECURITY;\n"
    )
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-qb", "wi/WI-042-banner-note")
    (mig / "20260301000000_add_note.sql").write_text(SAFE)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "WI-042 banner note")
    return repo, base


# --- pre-commit hooks ---------------------------------------------------------------------------------


def _run_hook(repo: Path, hook: dict, **env: str) -> subprocess.CompletedProcess:
    """What pre-commit does for a hook: the entry, then (pass_filenames) the tracked files matching `files`."""
    files = [f for f in _git(repo, "ls-files").splitlines() if re.search(hook.get("files", ""), f)]
    if hook.get("pass_filenames", True) and not files and not hook.get("always_run"):
        return subprocess.CompletedProcess([], 0, "skipped: no files", "")
    cmd = hook["entry"] + (" " + " ".join(files) if hook.get("pass_filenames", True) else "")
    return subprocess.run(cmd, shell=True, cwd=repo, env=_env(**env), capture_output=True, text=True, timeout=60)


def test_pre_commit_hooks_as_the_app_runs_them(app_repo):
    repo, _ = app_repo
    hooks = {h["id"]: h for h in HOOKS}
    assert set(hooks) == {"opsbook-lint-migrations", "opsbook-check-branch"}
    for h in HOOKS:
        assert h["language"] == "python" and h["entry"].startswith("opsbook ")
    assert re.search(hooks["opsbook-lint-migrations"]["files"], "supabase/migrations/20260301000000_add_note.sql")
    assert not re.search(hooks["opsbook-lint-migrations"]["files"], "supabase/seed.sql")

    lint = _run_hook(repo, hooks["opsbook-lint-migrations"])
    assert lint.returncode == 0, lint.stdout + lint.stderr
    branch = _run_hook(repo, hooks["opsbook-check-branch"])
    assert branch.returncode == 0 and "wi/WI-042-banner-note" in branch.stdout

    bad = repo / "supabase" / "migrations" / "20260302000000_note_index.sql"
    bad.write_text(UNSAFE)
    _git(repo, "add", str(bad))
    try:
        lint = _run_hook(repo, hooks["opsbook-lint-migrations"])
        assert lint.returncode == 1
        assert "20260302000000_note_index.sql:1:1: error[create-index-non-concurrently]" in lint.stdout
    finally:
        _git(repo, "rm", "-qf", str(bad))
    _git(repo, "checkout", "-q", "main")
    try:
        on_main = _run_hook(repo, hooks["opsbook-check-branch"])
        assert on_main.returncode == 1 and "main takes pull-request merges only" in on_main.stdout
    finally:
        _git(repo, "checkout", "-q", "wi/WI-042-banner-note")


# --- the GitHub Actions workflow ----------------------------------------------------------------------


def _run_workflow(repo: Path, event_name: str, payload: dict, github: dict[str, str], expressions: dict[str, str]):
    """Each `run:` step as the runner runs it (bash -e, the step's env with its ${{ }} resolved), in order,
    stopping at the first failure as a job does. Returns [(step name, exit code, output)]."""
    event = repo.parent / f"{repo.name}-event.json"
    event.write_text(json.dumps(payload))
    base = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event)}
    results = []
    for step in WORKFLOW["jobs"]["gates"]["steps"]:
        if "run" not in step:
            continue  # `uses:` steps (checkout, setup-python, upload-sarif) are GitHub's own actions
        if step["name"] == "Install opsbook":
            assert "pip install" in step["run"]
            continue  # already installed in this venv
        cond = step.get("if")
        if cond is not None and not _condition(cond, event_name):
            continue
        env = {k: _resolve(v, expressions) for k, v in (step.get("env") or {}).items()}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo,
            env=_env(**base, **github, **env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        results.append((step["name"], proc.returncode, proc.stdout + proc.stderr))
        if proc.returncode:
            break
    return results


def _condition(cond: str, event_name: str) -> bool:
    m = re.fullmatch(r"github\.event_name == '(\w+)'", cond.strip())
    assert m, f"the test harness does not know the condition {cond!r}"
    return event_name == m.group(1)


def _resolve(value: str, expressions: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        assert m.group(1) in expressions, f"unknown expression {m.group(1)!r}"
        return expressions[m.group(1)]

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", sub, str(value))


BASE_EXPR = "github.event.pull_request.base.sha || github.event.before"


def _pr_payload(repo: Path, base: str, body: str, title: str = "WI-042 배너 메모") -> dict:
    return {"pull_request": {"title": title, "body": body, "head": {"ref": _git(repo, "branch", "--show-current")}}}


def _filled_body() -> str:
    return (ROOT / "tests" / "fixtures" / "pr" / "filled_body.md").read_text(encoding="utf-8")


def test_workflow_on_a_good_pull_request(app_repo):
    repo, base = app_repo
    github = {"GITHUB_HEAD_REF": "wi/WI-042-banner-note", "GITHUB_REF": "refs/pull/9/merge"}
    results = _run_workflow(repo, "pull_request", _pr_payload(repo, base, _filled_body()), github, {BASE_EXPR: base})
    assert [(name, code) for name, code, _ in results] == [
        ("Branch name, no direct push to main (runbook §2, §5)", 0),
        ("PR template filled in, one WI (runbook §5)", 0),
        ("Migration safety lint (runbook §5)", 0),
    ], results
    assert "1 file(s)" in results[2][2]  # only the PR's migration is linted; the earlier one is context
    sarif = json.loads((repo / "opsbook-lint.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


def test_workflow_stops_an_unsafe_migration(app_repo):
    repo, base = app_repo
    bad = repo / "supabase" / "migrations" / "20260302000000_note_index.sql"
    bad.write_text(UNSAFE)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "WI-042 index")
    try:
        github = {"GITHUB_HEAD_REF": "wi/WI-042-banner-note"}
        payload = _pr_payload(repo, base, _filled_body())
        results = _run_workflow(repo, "pull_request", payload, github, {BASE_EXPR: base})
        assert results[-1][:2] == ("Migration safety lint (runbook §5)", 1)
        assert "error[create-index-non-concurrently]" in results[-1][2] and "2 file(s)" in results[-1][2]
        sarif = json.loads((repo / "opsbook-lint.sarif").read_text())
        assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["create-index-non-concurrently"]
        assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
            "supabase/migrations/20260302000000_note_index.sql"
        )
    finally:
        _git(repo, "reset", "-q", "--hard", "HEAD~1")


def test_workflow_refuses_a_direct_push_to_main(app_repo):
    repo, base = app_repo
    github = {"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}
    direct = {"head_commit": {"message": "fix banner copy"}, "before": base}
    results = _run_workflow(repo, "push", direct, github, {BASE_EXPR: base})
    assert results == [(results[0][0], 1, results[0][2])] and "direct push to main is refused" in results[0][2]

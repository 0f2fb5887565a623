"""The CLI answers --help everywhere, and refuses bad input with one sentence and a distinct exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from opslib.cli import build_parser, main
from opslib.runbooks import RUNBOOKS
from opslib.runner import ExitCode

pytestmark = pytest.mark.demo_database  # the seed refusals check the default database is untouched

COMMANDS = [
    [],
    ["run"],
    ["demo"],
    ["list"],
    ["verify"],
    ["db"],
    ["db", "start"],
    ["db", "stop"],
    ["db", "status"],
    ["db", "url"],
    ["db", "seed"],
    ["db", "scenarios"],
    ["action"],
    ["lint-migrations"],
    ["check-branch"],
    ["check-pr"],
    ["watch"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "opsbook")
def test_every_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*words, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: opsbook" in out and len(out) > 100


def test_every_subcommand_is_in_the_tested_list():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {w[0] for w in COMMANDS if w} >= set(sub.choices)


def test_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for word in ("0 PASS", "1 FAIL", "2 usage", "3 CONDITIONAL_PASS", "4 ERROR", "5 database"):
        assert word in out


def test_run_help_names_every_page(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for rb in RUNBOOKS.values():
        assert f"{rb.id} ({rb.section})" in out, rb.id


def test_unknown_runbook(capsys):
    assert main(["run", "paymnets"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "unknown runbook 'paymnets'" in err and "Traceback" not in err


def _page_args(page: str, tmp_path, monkeypatch) -> list[str]:
    """What a page needs besides the database to get past its checks (the rest are defaults)."""
    if page == "incident":
        (tmp_path / "wi").mkdir(exist_ok=True)
        return ["-p", "wi_id", "WI-1", "-p", "evidence_dir", str(tmp_path / "wi")]
    if page == "smoke":
        monkeypatch.setenv("OPSBOOK_SMOKE_PASSWORD", "smoke-pw-for-the-test")
        return ["-p", "base_url", "http://127.0.0.1:9", "-p", "test_email", "t@example.com"]
    return []


def _refused(page: str, args: list[str], tmp_path, monkeypatch, capsys) -> str:
    """Run `opsbook run <page> ...`: it must be a usage error (one line, no traceback, nothing written)."""
    out = tmp_path / "ev"
    code = main(["run", page, *_page_args(page, tmp_path, monkeypatch), *args, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == ExitCode.USAGE, captured
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err and captured.out == ""
    assert not out.exists(), "nothing half-written for a refused run"
    return captured.err


@pytest.mark.parametrize("page", RUNBOOKS)
def test_unknown_parameter(page, tmp_path, monkeypatch, capsys):
    assert "unknown parameter 'windw_minutes'" in _refused(
        page, ["-p", "windw_minutes", "5"], tmp_path, monkeypatch, capsys
    )


COMMON_BAD_VALUES = [
    ("window_minutes", "abc", "is not a valid int"),
    ("window_minutes", "-5", "positive"),
    ("until", "yesterday", "not an ISO-8601 time"),
    # these overflowed the window arithmetic: a traceback and exit 1 (FAIL), or a cell that raised
    ("window_minutes", "99999999999", "at most 527040"),
    ("until", "0001-01-01T00:30+00:00", "out of range"),
    ("until", "9999-12-31T23:59+00:00", "out of range"),
    ("environment", "prod", "must be one of"),
]


@pytest.mark.parametrize(
    ("page", "name", "value", "message"),
    [(page, *case) for page in RUNBOOKS for case in COMMON_BAD_VALUES]
    + [("payments", "business_date", "2026-13-01", "not a date")],
)
def test_bad_parameter_values(page, name, value, message, tmp_path, monkeypatch, capsys):
    assert message in _refused(page, ["-p", name, value], tmp_path, monkeypatch, capsys)


def test_secret_in_parameter_file_is_refused(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("window_minutes: 30\nportone_webhook_secret: whsec_abc\n")
    assert main(["run", "payments", "-f", str(f)]) == ExitCode.USAGE
    assert "secret-looking key" in capsys.readouterr().err


def test_bad_url_is_a_usage_error(capsys):
    assert main(["run", "payments", "--database-url", "mysql://x@y/z"]) == ExitCode.USAGE
    assert "PostgreSQL URL" in capsys.readouterr().err


# A generated password with an unencoded '@' is cut at its first '@' and the rest became the host:
# printed on the console and written to result.json, the notebook and the HTML report.
SPLIT_URL = "postgresql://reader:Pw@Tail-0f-Secret@127.0.0.1:9/app"


@pytest.mark.parametrize("page", RUNBOOKS)
@pytest.mark.parametrize("given", ["flag", "environment"])
def test_a_password_with_an_unencoded_at_is_refused_without_showing_it(page, given, tmp_path, monkeypatch, capsys):
    if given == "flag":
        args = ["--database-url", SPLIT_URL]
    else:
        monkeypatch.setenv("OPSBOOK_DATABASE_URL", SPLIT_URL)
        args = []
    err = _refused(page, args, tmp_path, monkeypatch, capsys)
    assert "%40" in err and "Tail-0f-Secret" not in err


@pytest.mark.parametrize("page", RUNBOOKS)
def test_a_bad_url_in_the_environment_is_a_usage_error_before_the_page_starts(page, tmp_path, monkeypatch, capsys):
    # it used to start the page, fail in its first cell and leave an ERROR bundle (exit 4)
    monkeypatch.setenv("OPSBOOK_DATABASE_URL", "mysql://reader:S3cr3t-pw@db.example/app")
    err = _refused(page, [], tmp_path, monkeypatch, capsys)
    assert "$OPSBOOK_DATABASE_URL" in err and "PostgreSQL URL" in err and "S3cr3t" not in err


def test_an_action_with_an_unencoded_at_in_its_password_shows_none_of_it(monkeypatch, capsys):
    assert main(["action", "payments-kill-switch", "--database-url", SPLIT_URL]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert "Tail-0f-Secret" not in captured.out + captured.err and "%40" in captured.err


def test_console_script_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "opslib.cli", "list"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "payments" in proc.stdout and "window_minutes" in proc.stdout


@pytest.mark.parametrize(("flag", "value"), [("--days", "1"), ("--scale", "0")])
def test_seed_refuses_bad_sizes_before_touching_the_demo_database(flag, value, capsys):
    from opslib import embedded

    existed = embedded.status().running and embedded.database_exists(embedded.DEFAULT_DATABASE)
    assert main(["db", "seed", flag, value]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert ("days must be" in err or "scale must be" in err) and "Traceback" not in err
    assert embedded.database_exists(embedded.DEFAULT_DATABASE) == existed, "nothing was dropped or created"


def test_the_cli_knows_every_registered_action():
    from opslib import actions

    actions._load()  # registers every action module
    from opslib.cli import ACTION_NAMES

    assert set(ACTION_NAMES) == set(actions.ACTIONS)


def test_an_unknown_action_is_a_usage_error(capsys):
    assert main(["action", "drop-everything"]) == ExitCode.USAGE
    assert "unknown action 'drop-everything'" in capsys.readouterr().err


def test_an_action_never_falls_back_to_the_demo_when_a_real_database_is_configured(monkeypatch, capsys):
    monkeypatch.setenv("OPSBOOK_DATABASE_URL", "postgresql://reader:S3cr3t-pw@db.example/app")
    monkeypatch.delenv("OPSBOOK_ACTION_DATABASE_URL", raising=False)
    assert main(["action", "payments-kill-switch"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "OPSBOOK_ACTION_DATABASE_URL" in err and "S3cr3t" not in err and err.count("\n") == 1


def test_a_parameter_given_twice_in_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("window_minutes: 30\nwindow_minutes: 60\n", encoding="utf-8")
    assert main(["run", "payments", "-f", str(f)]) == ExitCode.USAGE
    assert "gives 'window_minutes' more than once" in capsys.readouterr().err


def test_a_parameter_file_that_is_not_utf8_is_one_sentence(tmp_path, capsys):
    # a traceback (UnicodeDecodeError) with exit 1, the code for "P0/P1 found"
    f = tmp_path / "p.yaml"
    f.write_bytes("window_minutes: 30\nenvironment: 운영\n".encode("euc-kr"))
    assert main(["run", "payments", "-f", str(f), "--out", str(tmp_path / "ev")]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "is not UTF-8" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "ev").exists()


def test_a_fraction_in_a_parameter_file_is_not_cut_to_an_int(tmp_path, capsys):
    # YAML gives 1.5 as a float and int(1.5) is 1: the page ran a 1-minute window without a word
    f = tmp_path / "p.yaml"
    f.write_text("window_minutes: 1.5\n", encoding="utf-8")
    assert main(["run", "payments", "-f", str(f), "--out", str(tmp_path / "ev")]) == ExitCode.USAGE
    assert "window_minutes=1.5 is not a valid int" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "watch"])
@pytest.mark.parametrize("seconds", ["0", "-1"])
def test_a_cell_timeout_that_is_not_positive_is_refused(command, seconds, tmp_path, capsys):
    # nbclient took 0 or less as "no timeout at all", against what the help says
    words = ["run", "payments"] if command == "run" else ["watch", "--count", "1"]
    assert main([*words, "--cell-timeout", seconds, "--out", str(tmp_path / "ev")]) == ExitCode.USAGE
    assert f"--cell-timeout {seconds} must be a positive number" in capsys.readouterr().err
    assert not (tmp_path / "ev").exists()


def test_wi_flag_and_wi_parameter_must_agree(capsys):
    assert main(["run", "payments", "--wi", "WI-1", "-p", "wi_id", "WI-2"]) == ExitCode.USAGE
    assert "disagree" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("words", "usage"),
    [(["run", "payments", "--bogus"], "usage: opsbook run"), (["db", "seed", "--bogus"], "usage: opsbook db seed")],
)
def test_an_unknown_option_shows_the_subcommands_own_usage(words, usage, capsys):
    with pytest.raises(SystemExit) as exc:
        main(words)
    assert exc.value.code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith(usage) and "unrecognized arguments: --bogus" in err


def test_every_exit_code_is_in_the_help_and_the_readme(capsys):
    from pathlib import Path

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ExitCode:
        assert f"\n| {code.value} |" in table or f"| {code.value}, " in table or f", {code.value} |" in table, code
    for word in ("6 evidence could not be written", "130/143 interrupted"):
        assert word in out

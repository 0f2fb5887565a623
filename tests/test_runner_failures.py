"""A run that cannot finish still leaves its evidence: partial notebook, ERROR verdict, one clear sentence."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from opslib import evidence, runner
from opslib.results import Verdict

PARAMS = """environment = "demo"  # where
window_minutes = 60  # minutes
since = ""  # start
until = ""  # end
wi_id = ""  # WI"""
OPEN = """from opslib import page
book = page.open_page(
    "payments", environment=environment, since=since, until=until, window_minutes=window_minutes, wi_id=wi_id
)"""


def _notebook(folder: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# fixture"), params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "payments.ipynb")
    return folder


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    def use(*cells: str) -> None:
        monkeypatch.setenv("OPSBOOK_NOTEBOOKS", str(_notebook(tmp_path / "nb", *cells)))
        from opslib import runbooks

        runbooks._inspect.cache_clear()

    yield use
    from opslib import runbooks

    runbooks._inspect.cache_clear()


def test_a_cell_that_raises_leaves_a_partial_bundle(contract_db, notebooks, tmp_path):
    notebooks(OPEN, 'raise ValueError("boom in step 2")', "book.finish()")
    result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    assert result.verdict is Verdict.ERROR and result.exit_code == runner.ExitCode.ERROR
    assert result.error == "a notebook cell raised ValueError: boom in step 2"
    names = {p.name for p in result.folder.iterdir()}
    assert names == {"payments.ipynb", "payments.html", "result.json", "manifest.json"}
    data = json.loads((result.folder / "result.json").read_text())
    assert data["verdict"] == "ERROR" and data["error"] == result.error
    kept = [f["check"] for f in data["findings"]]
    assert "opsbook.role_visibility" in kept and all(c.startswith(("opsbook.", "traffic.")) for c in kept), (
        "findings made before the crash survive (open_page's own checks)"
    )
    nb = nbformat.read(result.folder / "payments.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in nb.cells for o in c.get("outputs", []))
    # the report says what raised, the notebook keeps where: no source paths in the HTML
    report = (result.folder / "payments.html").read_text(encoding="utf-8")
    assert "ValueError" in report and "Traceback" not in report and ".py" not in report.split("<body", 1)[-1]
    assert evidence.verify(result.folder) == []


def test_unreachable_database_writes_an_error_bundle(notebooks, tmp_path):
    notebooks(OPEN, "book.finish()")
    result = runner.run(
        "payments", database_url="postgresql://reader:pw-not-shown@127.0.0.1:9/app", out_dir=tmp_path / "ev"
    )
    assert result.exit_code == runner.ExitCode.DATABASE_UNAVAILABLE
    assert result.error.startswith("cannot reach the database at postgresql+psycopg://reader:***@127.0.0.1:9/app")
    for p in result.folder.iterdir():
        assert "pw-not-shown" not in p.read_text(errors="replace"), p.name


def test_a_secret_printed_by_a_cell_is_redacted_and_fails_the_run(contract_db, notebooks, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTONE_WEBHOOK_SECRET", "whsec_dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldA==")
    notebooks(OPEN, 'import os\nprint(os.environ["PORTONE_WEBHOOK_SECRET"])', "book.finish()")
    result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    assert result.verdict is Verdict.ERROR
    assert "redacted" in result.error
    for p in result.folder.iterdir():
        assert "dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldA" not in p.read_text(errors="replace"), p.name
    assert evidence.verify(result.folder) == []


def test_run_folders_are_never_overwritten(contract_db, notebooks, tmp_path):
    notebooks(OPEN, "book.finish()")
    a = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    b = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    assert a.folder != b.folder and a.folder.is_dir() and b.folder.is_dir()
    assert a.verdict is Verdict.PASS


def test_tampering_is_detected_by_the_manifest(contract_db, notebooks, tmp_path):
    notebooks(OPEN, "book.finish()")
    result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    (result.folder / "result.json").write_text('{"verdict": "PASS"}')
    (result.folder / "extra.txt").write_text("x")
    problems = evidence.verify(result.folder)
    assert any("result.json was changed" in p for p in problems)
    assert any("extra.txt is not in the manifest" in p for p in problems)


def test_a_secret_found_in_the_data_stays_out_of_result_json_and_the_console(contract_db, notebooks, tmp_path, capsys):
    # result.json used to be rewritten from memory after the scrub, putting the secret back
    notebooks(OPEN, 'print("sb_secret_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh")', "book.finish()")
    result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    runner.print_summary(result)
    assert result.verdict is Verdict.ERROR and "redacted" in result.error
    for p in result.folder.iterdir():
        assert "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh" not in p.read_text(errors="replace"), p.name
    assert json.loads((result.folder / "result.json").read_text())["verdict"] == "ERROR"
    assert "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh" not in capsys.readouterr().out
    assert evidence.verify(result.folder) == []


def test_a_password_given_as_a_url_query_parameter_never_reaches_the_evidence(notebooks, tmp_path):
    notebooks(OPEN, "book.finish()")
    result = runner.run(
        "payments", database_url="postgresql://reader@127.0.0.1:9/app?password=S3cr3t-qq77", out_dir=tmp_path / "ev"
    )
    assert result.exit_code == runner.ExitCode.DATABASE_UNAVAILABLE
    assert "S3cr3t-qq77" not in result.error
    for p in result.folder.iterdir():
        assert "S3cr3t-qq77" not in p.read_text(errors="replace"), p.name


def test_a_database_without_the_contract_is_one_sentence(notebooks, tmp_path):
    import psycopg

    from opslib import embedded

    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS opsbook_test_plain WITH (FORCE)")
        conn.execute("CREATE DATABASE opsbook_test_plain")
    try:
        notebooks(OPEN, "book.finish()")
        result = runner.run("payments", database_url=embedded.url("opsbook_test_plain"), out_dir=tmp_path / "ev")
    finally:
        with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS opsbook_test_plain WITH (FORCE)")
    assert result.verdict is Verdict.ERROR
    assert result.error.startswith("this database has none of the app contract's tables")
    assert "\n" not in result.error


class ZMQError(Exception):
    """Named as pyzmq's: the runner tells a kernel's failed port bind by the exception's name."""


def _failing(error: Exception, tries: list[int], succeed_on: int | None = None):
    def execute() -> str:
        tries.append(1)
        if succeed_on is not None and len(tries) >= succeed_on:
            return "ran"
        raise error

    return execute


def test_a_kernel_that_died_before_answering_is_started_again_and_a_page_error_is_not():
    from opslib.runner import KERNEL_START_TRIES, _with_kernel_port_retry

    busy = ZMQError("Address already in use (addr='tcp://127.0.0.1:52373')")
    tries: list[int] = []
    assert _with_kernel_port_retry(_failing(busy, tries, succeed_on=2), {"nb": None}) == "ran"
    assert len(tries) == 2

    # once the kernel answered (on_notebook_start set the notebook), the error is the page's: no retry
    tries = []
    with pytest.raises(ZMQError):
        _with_kernel_port_retry(_failing(busy, tries), {"nb": object()})
    assert len(tries) == 1

    # a kernel that never starts is given up after KERNEL_START_TRIES, with its own error
    tries = []
    with pytest.raises(RuntimeError, match="died before replying"):
        _with_kernel_port_retry(_failing(RuntimeError("Kernel died before replying"), tries), {"nb": None})
    assert len(tries) == KERNEL_START_TRIES

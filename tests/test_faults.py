"""Faults caused for real: signals to a real `opsbook run`, a stopped or frozen server, a read-only or
full disk, a lock held from another session, concurrent CLI processes. Nothing is mocked.

The database faults use a dedicated embedded server (its own OPSBOOK_HOME), never the session's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psycopg
import pytest

from opslib import evidence, runner
from opslib.results import Verdict

ROOT = Path(__file__).resolve().parent.parent
PARAMS = """environment = "demo"  # where
window_minutes = 60  # minutes
since = ""  # start
until = ""  # end
wi_id = ""  # WI"""
OPEN = """from opslib import page, payments
book = page.open_page(
    "payments", environment=environment, since=since, until=until, window_minutes=window_minutes, wi_id=wi_id
)"""


def _wait_for(path: Path) -> str:
    """A cell that says it is running (writes `path`), then waits to be told to go on (`path`.go)."""
    return (
        "import pathlib, time\n"
        f"pathlib.Path({str(path)!r}).write_text('running')\n"
        f"while not pathlib.Path({str(path) + '.go'!r}).exists():\n"
        "    time.sleep(0.05)"
    )


def _notebook_dir(folder: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    body = []
    for i, c in enumerate(cells, start=1):
        body += [nbformat.v4.new_markdown_cell(f"## {i}. step {i}"), nbformat.v4.new_code_cell(c)]
    nb.cells = [nbformat.v4.new_markdown_cell("# fixture"), params, *body]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "payments.ipynb")
    return folder


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _opsbook(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opslib.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "opslib.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until_exists(path: Path, proc: subprocess.Popen[str], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"opsbook ended before {path.name}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _only_bundle(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


# --- 1. signals ---------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["TERM", "INT"])
def test_a_signal_during_a_run_leaves_a_sealed_partial_bundle(contract_db, tmp_path, signum, code):
    ready = tmp_path / "ready"
    nbdir = _notebook_dir(tmp_path / "nb", OPEN, _wait_for(ready), "book.finish()")
    env = _env(OPSBOOK_NOTEBOOKS=str(nbdir))
    proc = _start("run", "payments", "--database-url", contract_db.reader, "--out", str(tmp_path / "ev"), env=env)
    _until_exists(ready, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err
    folder = _only_bundle(tmp_path / "ev")
    data = json.loads((folder / "result.json").read_text())
    assert data["verdict"] == "ERROR"
    assert data["error"].startswith(f"interrupted at step 2 of 3 (2. step 2) ({signal.Signals(signum).name})")
    kept = [f["check"] for f in data["findings"]]
    assert "opsbook.role_visibility" in kept and all(c.startswith(("opsbook.", "traffic.")) for c in kept), (
        "step 1's findings are kept"
    )
    nb = nbformat.read(folder / "payments.ipynb", as_version=4)
    assert any(runner.NOT_MEASURED_TAG in c.metadata.get("tags", []) for c in nb.cells)
    assert evidence.verify(folder) == []
    assert not (folder / evidence.INCOMPLETE).exists()


def test_a_killed_run_is_marked_incomplete_and_verify_says_so(contract_db, tmp_path):
    ready = tmp_path / "ready"
    nbdir = _notebook_dir(tmp_path / "nb", OPEN, _wait_for(ready), "book.finish()")
    env = _env(OPSBOOK_NOTEBOOKS=str(nbdir))
    proc = _start("run", "payments", "--database-url", contract_db.reader, "--out", str(tmp_path / "ev"), env=env)
    _until_exists(ready, proc)
    proc.kill()
    proc.communicate(timeout=60)
    folder = _only_bundle(tmp_path / "ev")
    assert (folder / evidence.INCOMPLETE).is_file()
    verified = _opsbook("verify", str(folder), env=env)
    assert verified.returncode == runner.ExitCode.ERROR
    assert "incomplete run" in verified.stdout


# --- 2. cell timeout, kernel death ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("import time\ntime.sleep(600)", "a cell ran longer than 30 s"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "the notebook kernel died"),
    ],
    ids=["timeout", "kernel-death"],
)
def test_a_timeout_or_a_dead_kernel_keeps_the_partial_notebook_and_its_findings(
    contract_db, tmp_path, monkeypatch, cell, message
):
    # the timeout leaves room for step 1 (imports, first queries) on a loaded 2-core machine
    monkeypatch.setenv("OPSBOOK_NOTEBOOKS", str(_notebook_dir(tmp_path / "nb", OPEN, cell, "book.finish()")))
    from opslib import runbooks

    runbooks._inspect.cache_clear()
    try:
        result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev", cell_timeout=30)
    finally:
        runbooks._inspect.cache_clear()
    assert result.verdict is Verdict.ERROR and result.exit_code == runner.ExitCode.ERROR
    assert result.error.startswith(message)
    assert {p.name for p in result.folder.iterdir()} == {
        "payments.ipynb",
        "payments.html",
        "result.json",
        "manifest.json",
    }
    kept = [f.check for f in result.findings]
    assert "opsbook.role_visibility" in kept and all(c.startswith(("opsbook.", "traffic.")) for c in kept), (
        "findings before the fault survive"
    )
    nb = nbformat.read(result.folder / "payments.ipynb", as_version=4)
    assert any(runner.NOT_MEASURED_TAG in c.metadata.get("tags", []) for c in nb.cells)
    assert evidence.verify(result.folder) == []


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("import time\ntime.sleep(600)", "a cell ran longer than 2 s"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "the notebook kernel died"),
    ],
    ids=["timeout", "kernel-death"],
)
def test_a_timeout_or_a_dead_kernel_is_one_sentence_on_the_console(contract_db, tmp_path, cell, message):
    # nbclient logged its own line to stderr ("Timeout waiting for execute reply (2s).") beside the
    # runner's sentence: two messages, one of them without the what-to-do. The fault is the page's first
    # step, so the test needs no time for the page's own queries.
    nbdir = _notebook_dir(tmp_path / "nb", cell, OPEN, "book.finish()")
    done = _opsbook(
        "run", "payments", "--database-url", contract_db.reader, "--out", str(tmp_path / "ev"), "--cell-timeout", "2",
        env=_env(OPSBOOK_NOTEBOOKS=str(nbdir)),
    )  # fmt: skip
    assert done.returncode == runner.ExitCode.ERROR, done
    assert done.stderr == "", done.stderr
    errors = [line for line in done.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {message}"), done.stdout
    assert "at step 1 of 3 (1. step 1)" in errors[0], "the sentence says which step stopped"
    folder = _only_bundle(tmp_path / "ev")
    assert (folder / "payments.ipynb").is_file() and (folder / "payments.html").is_file()
    assert evidence.verify(folder) == []


# --- 3. disk errors -------------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)")


@pytest.fixture
def mount(tmp_path) -> Iterator:
    mounted: list[Path] = []

    def make(name: str, options: str) -> Path:
        target = tmp_path / name
        target.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)
        mounted.append(target)
        return target

    yield make
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=False)


@needs_root
def test_a_read_only_out_is_one_sentence_and_exit_6(contract_db, tmp_path, mount):
    ro = mount("ro", "ro,size=1m")
    proc = _opsbook("run", "payments", "--database-url", contract_db.reader, "--out", str(ro / "ev"), env=_env())
    assert proc.returncode == runner.ExitCode.EVIDENCE_UNWRITABLE == 6
    assert (
        proc.stderr.strip()
        == f"opsbook: error: cannot write the evidence to {ro / 'ev'}: it is on a read-only file system"
    )


def test_an_out_that_is_a_file_is_one_sentence_and_exit_6(contract_db, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    proc = _opsbook("run", "payments", "--database-url", contract_db.reader, "--out", str(target), env=_env())
    assert proc.returncode == runner.ExitCode.EVIDENCE_UNWRITABLE
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "it is a file, not a folder" in proc.stderr


@needs_root
def test_a_full_disk_leaves_a_folder_marked_incomplete(contract_db, tmp_path, mount):
    # room for the marker and the notebook, not for the HTML report (~260 KB)
    small = mount("small", "size=96k")
    nbdir = _notebook_dir(tmp_path / "nb", OPEN, "book.finish()")
    proc = _opsbook(
        "run", "payments", "--database-url", contract_db.reader, "--out", str(small),
        env=_env(OPSBOOK_NOTEBOOKS=str(nbdir)),
    )  # fmt: skip
    assert proc.returncode == runner.ExitCode.EVIDENCE_UNWRITABLE, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "the disk is full" in proc.stderr
    folder = _only_bundle(small)
    assert (folder / evidence.INCOMPLETE).is_file()
    assert not list(folder.glob(".*partial*")), "no half-written file left behind"
    assert not (folder / evidence.MANIFEST).exists()
    assert any("incomplete run" in p for p in evidence.verify(folder))


# --- 4. nesting -------------------------------------------------------------------------------


def test_out_inside_a_bundle_is_refused_and_verify_checks_subfolders(contract_db, tmp_path, monkeypatch):
    monkeypatch.setenv("OPSBOOK_NOTEBOOKS", str(_notebook_dir(tmp_path / "nb", OPEN, "book.finish()")))
    from opslib import runbooks

    runbooks._inspect.cache_clear()
    try:
        first = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path / "ev")
    finally:
        runbooks._inspect.cache_clear()
    proc = _opsbook(
        "run", "payments", "--database-url", contract_db.reader, "--out", str(first.folder / "sub"),
        env=_env(OPSBOOK_NOTEBOOKS=os.environ["OPSBOOK_NOTEBOOKS"]),
    )  # fmt: skip
    assert proc.returncode == runner.ExitCode.USAGE
    assert "is inside the run folder" in proc.stderr
    assert not (first.folder / "sub").exists()
    # something slipped into a subfolder afterwards is found, from the bundle or from the tree
    (first.folder / "sub").mkdir()
    (first.folder / "sub" / "extra.txt").write_text("x")
    assert "sub/extra.txt is not in the manifest" in evidence.verify(first.folder)
    whole = _opsbook("verify", str(tmp_path / "ev"), env=_env())
    assert whole.returncode == runner.ExitCode.ERROR and "sub/extra.txt is not in the manifest" in whole.stdout


# --- 5, 6, 12 (issue 8). a dedicated embedded server: stopped, gone mid-run, frozen -----------


@pytest.fixture(scope="module")
def own_home() -> Iterator[dict[str, str]]:
    home = Path(tempfile.mkdtemp(prefix="opsbook-faults-"))
    env = _env(OPSBOOK_HOME=str(home))
    started = _opsbook("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    yield env
    _opsbook("db", "stop", env=env)
    shutil.rmtree(home, ignore_errors=True)


def _postmaster_pid(env: dict[str, str]) -> int:
    return int((Path(env["OPSBOOK_HOME"]) / "pg" / "postmaster.pid").read_text().split()[0])


def test_a_stopped_embedded_database_is_not_restarted_by_run(own_home, tmp_path):
    assert _opsbook("db", "stop", env=own_home).returncode == 0
    try:
        proc = _opsbook("run", "payments", "--out", str(tmp_path / "ev"), env=own_home)
        assert proc.returncode == runner.ExitCode.DATABASE_UNAVAILABLE
        assert "the embedded demo database is stopped" in proc.stderr and "opsbook db start" in proc.stderr
        assert proc.stderr.count("\n") == 1
        status = _opsbook("db", "status", env=own_home)
        assert status.returncode == 1 and status.stdout.startswith("stopped"), "run left it stopped"
    finally:
        assert _opsbook("db", "start", env=own_home).returncode == 0


def test_the_database_going_away_mid_run_is_exit_5_at_step_n(own_home, tmp_path):
    ready = tmp_path / "ready"
    nbdir = _notebook_dir(
        tmp_path / "nb", OPEN, _wait_for(ready), "detection = book.measure(payments.detect, book.window)",
        "book.finish()",
    )  # fmt: skip
    env = {**own_home, "OPSBOOK_NOTEBOOKS": str(nbdir)}
    proc = _start("run", "payments", "--out", str(tmp_path / "ev"), env=env)
    try:
        _until_exists(ready, proc)
        assert _opsbook("db", "stop", env=own_home).returncode == 0
        Path(str(ready) + ".go").write_text("go")
        out, err = proc.communicate(timeout=120)
    finally:
        assert _opsbook("db", "start", env=own_home).returncode == 0
    assert proc.returncode == runner.ExitCode.DATABASE_UNAVAILABLE, (out, err)
    folder = _only_bundle(tmp_path / "ev")
    data = json.loads((folder / "result.json").read_text())
    assert data["error"].startswith("the database went away")
    assert "(at step 3 of 4 (3. step 3)); the rest of the page was not measured" in data["error"]
    assert "PendingRollbackError" not in out + err
    assert evidence.verify(folder) == []


def test_a_frozen_postmaster_is_exit_5_within_the_connect_bound(own_home, tmp_path):
    from opslib import embedded

    pid = _postmaster_pid(own_home)
    os.kill(pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        # unbounded, this hangs forever (the subprocess timeout would end the test)
        proc = _opsbook("run", "payments", "--out", str(tmp_path / "ev"), env=own_home, timeout=300)
        took = time.monotonic() - t0
    finally:
        os.kill(pid, signal.SIGCONT)
    assert proc.returncode == runner.ExitCode.DATABASE_UNAVAILABLE, proc.stderr
    assert f"no answer within {embedded.CONNECT_TIMEOUT_S} s" in proc.stderr
    # the bound plus this process's start-up (imports), which a loaded 2-core machine stretches
    assert took < embedded.CONNECT_TIMEOUT_S + 120


@pytest.mark.skipif(shutil.which("pgbouncer") is None, reason="pgbouncer is not installed (.ci/run installs it)")
def test_a_pooler_with_its_backend_down_is_exit_5_within_the_first_answer_bound(own_home, tmp_path):
    import socket

    from opslib import db

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pgdata = Path(own_home["OPSBOOK_HOME"]) / "pg"
    conf = Path(tempfile.mkdtemp(prefix="opsbook-pgbouncer-"))
    (conf / "users.txt").write_text('"opsbook_reader" ""\n')
    (conf / "pgbouncer.ini").write_text(
        f"[databases]\napp = host={pgdata} dbname={embedded_db()}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {conf}/users.txt\npool_mode = transaction\nquery_wait_timeout = 900\n"
        f"logfile = {conf}/pgbouncer.log\npidfile = {conf}/pgbouncer.pid\n"
    )
    conf.chmod(0o777)
    # pgbouncer refuses to run as root; it runs as the embedded server's user, who can reach its socket
    as_user = ["-u", pgdata.owner()] if os.geteuid() == 0 else []
    subprocess.run(["pgbouncer", "-d", *as_user, str(conf / "pgbouncer.ini")], check=True, timeout=30)
    url = f"postgresql://opsbook_reader@127.0.0.1:{port}/app"
    try:
        deadline = time.monotonic() + 60  # the daemon listens a moment after it forks
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            log = conf / "pgbouncer.log"
            assert time.monotonic() < deadline, log.read_text() if log.exists() else "pgbouncer did not start"
            time.sleep(0.2)
        with psycopg.connect(url, connect_timeout=5) as warm:  # the pooler learns the server's parameters
            warm.execute("SELECT 1")
        assert _opsbook("db", "stop", env=own_home).returncode == 0
        t0 = time.monotonic()
        proc = _opsbook(
            "run", "payments", "--database-url", url, "--out", str(tmp_path / "ev"), env=own_home, timeout=600
        )
        took = time.monotonic() - t0
    finally:
        pid = conf / "pgbouncer.pid"
        if pid.exists():
            os.kill(int(pid.read_text().split()[0]), signal.SIGTERM)
        assert _opsbook("db", "start", env=own_home).returncode == 0
        shutil.rmtree(conf, ignore_errors=True)
    assert proc.returncode == runner.ExitCode.DATABASE_UNAVAILABLE, proc.stderr
    data = json.loads((_only_bundle(tmp_path / "ev") / "result.json").read_text())
    assert f"accepted the connection but did not answer within {db.FIRST_ANSWER_S} s" in data["error"]
    # unbounded, the run would wait for pgbouncer's query_wait_timeout (900 s here); the margin is for
    # the start-up of a page on a loaded 2-core machine
    assert took < 400


def embedded_db() -> str:
    from opslib import embedded

    return embedded.DEFAULT_DATABASE


# --- 7. a lock held on a table the page reads -------------------------------------------------


def test_a_lock_on_a_table_is_one_sentence_naming_the_holder(contract_db, tmp_path):
    holder = psycopg.connect(contract_db.admin, application_name="migrate-0042")
    try:
        holder.execute("LOCK TABLE public.payment_webhook_logs IN ACCESS EXCLUSIVE MODE")
        holder_pid = holder.info.backend_pid
        nbdir = _notebook_dir(tmp_path / "nb", OPEN, "book.measure(payments.detect, book.window)", "book.finish()")
        proc = _opsbook(
            "run", "payments", "--database-url", contract_db.reader, "--out", str(tmp_path / "ev"),
            env=_env(OPSBOOK_NOTEBOOKS=str(nbdir)),
        )  # fmt: skip
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == runner.ExitCode.ERROR, proc.stderr
    error = json.loads((_only_bundle(tmp_path / "ev") / "result.json").read_text())["error"]
    assert error.startswith("table payment_webhook_logs is locked: session pid ")
    assert f"pid {holder_pid}" in error and "application_name 'migrate-0042'" in error
    assert "ACCESS EXCLUSIVE" in error and "\n" not in error
    assert proc.stdout.count("lock timeout") == 0, "one sentence, not one line per query"


# --- 8. races -------------------------------------------------------------------------------


def test_four_db_starts_on_a_fresh_home_and_two_seeds_at_once(tmp_path):
    home = tmp_path / "home"
    env = _env(OPSBOOK_HOME=str(home))
    try:
        starts = [_start("db", "start", env=env) for _ in range(4)]
        results = [(p.wait(timeout=300), *p.communicate()) for p in starts]
        for code, out, err in results:
            assert code == 0 and "Traceback" not in err, (out, err)
        assert sum("created opsbook_demo" in out for _, out, _ in results) == 1
        seeds = [_start("db", "seed", env=env) for _ in range(2)]
        done = [(p.wait(timeout=600), *p.communicate()) for p in seeds]
        codes = sorted(code for code, _, _ in done)
        assert codes == [0, runner.ExitCode.ERROR], done
        refused = next(err for code, _, err in done if code)
        assert "Traceback" not in refused and refused.count("\n") == 1
        assert "the embedded database is busy: pid" in refused and "seeding the demo database" in refused
    finally:
        _opsbook("db", "stop", env=env)


# --- 9. a closed pipe ---------------------------------------------------------------------------


def test_a_closed_pipe_is_not_a_traceback(contract_db, tmp_path):
    # `| head -2` that has already left: the read end is closed before opsbook prints anything
    nbdir = _notebook_dir(tmp_path / "nb", OPEN, "book.finish()")
    proc = _start(
        "run", "payments", "--database-url", contract_db.reader, "--out", str(tmp_path / "ev"),
        env=_env(OPSBOOK_NOTEBOOKS=str(nbdir)),
    )  # fmt: skip
    proc.stdout.close()
    code = proc.wait(timeout=180)
    err = proc.stderr.read()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    folder = _only_bundle(tmp_path / "ev")
    assert code == runner.ExitCode.for_verdict(Verdict(json.loads((folder / "result.json").read_text())["verdict"]))
    assert evidence.verify(folder) == []

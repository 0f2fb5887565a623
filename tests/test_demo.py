"""The README's first command, as a user runs it: `opsbook demo`, then the same page on the embedded default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.demo_database

ROOT = Path(__file__).resolve().parent.parent


def _opsbook(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSBOOK_") or k == "OPSBOOK_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "opslib.cli", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )


def test_db_start_is_safe_twice_and_reports_status():
    first = _opsbook("db", "start")
    second = _opsbook("db", "start")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    status = _opsbook("db", "status")
    assert status.returncode == 0 and status.stdout.startswith("running")
    url = _opsbook("db", "url")
    assert url.stdout.strip().startswith("postgresql+psycopg://opsbook_reader@/opsbook_demo?host=")


def test_demo_finds_the_injected_incident_and_the_embedded_default_works(tmp_path):
    demo = _opsbook("demo", "--scale", "1", "--out", str(tmp_path))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "verdict: FAIL" in demo.stdout
    assert "found the injected incident (webhook_secret_mismatch)" in demo.stdout
    assert "Traceback" not in demo.stderr
    # a short progress display, then the verdict (not one line per seed step)
    before_verdict = demo.stdout.split("verdict:")[0].splitlines()
    assert len(before_verdict) <= 10, before_verdict
    assert sum("ANALYZE" in line for line in before_verdict) == 1, before_verdict
    assert sum(" rows in " in line or "done in" in line for line in before_verdict) == 1, before_verdict

    # An engineer's next step: the same page with no URL at all (the embedded default, read-only role),
    # with the parameter file written for production: on the demo database it is labelled demo.
    params = ROOT / "parameters" / "payments.yaml"
    assert "environment: production" in params.read_text(encoding="utf-8")
    run = _opsbook("run", "payments", "-f", str(params), "--out", str(tmp_path), "--quiet")
    assert run.returncode == 1, run.stdout + run.stderr  # FAIL: the incident is still in the data
    folder = Path(next(line.split(": ", 1)[1] for line in run.stdout.splitlines() if line.startswith("evidence:")))
    result = json.loads((folder / "result.json").read_text())
    assert result["database"]["user"] == "opsbook_reader"
    assert result["environment"] == "demo" and result["parameters"]["environment"] == "production"
    assert any("not production" in note for note in result["notes"]), result["notes"]
    # a host, not a URL: the socket directory (or host name) and the port, no scheme, user or query
    host = result["database"]["host"]
    assert host.rsplit(":", 1)[1].isdigit() and not any(c in host for c in ("@", "?", "postgresql")), host
    assert any("데모 데이터" in note for note in result["notes"]), "the page says it measures up to the demo data's end"
    assert any(f["check"] == "payments.webhook_success_rate" and f["severity"] == "P0" for f in result["findings"])


def test_notebooks_are_stored_without_outputs_and_with_a_parameters_cell():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged parameters"
        assert "import" not in tagged[0].source and "://" not in tagged[0].source, "no connection string in a notebook"

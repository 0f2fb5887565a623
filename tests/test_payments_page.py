"""The payments page (§3-A) executed for real by papermill: the drill matrix, evidence, secrets, the HTML report.

Each scenario is seeded once (scale 1) on top of the healthy baseline; the page must raise
the scenario's ground-truth findings at the right severity, name the broken pipeline
stage, and stay below P1 on the healthy baseline.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from opslib import evidence, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.seed import signing
from opslib.seed.scenarios import SCENARIOS

_RUNS: dict[str, runner.RunResult] = {}


@pytest.fixture(scope="module")
def page_run(seeded, tmp_path_factory):
    """page_run(scenario) -> RunResult of the payments page on that scenario's database."""
    out = tmp_path_factory.mktemp("evidence")

    def get(scenario: str, **env: str) -> runner.RunResult:
        key = scenario + "|" + ",".join(f"{k}={v}" for k, v in sorted(env.items()))
        if key not in _RUNS:
            s = seeded(scenario)
            with pytest.MonkeyPatch.context() as mp:
                for k, v in env.items():
                    mp.setenv(k, v)
                _RUNS[key] = runner.run(
                    "payments", {"until": s.as_of.isoformat()}, database_url=s.db.reader, out_dir=out, wi_id="WI-DRILL"
                )
        return _RUNS[key]

    return get


def ground_truth(problems) -> dict[str, str]:
    """{check: worst severity} of the problem findings."""
    worst: dict[str, str] = {}
    for f in problems:
        sev = f.severity.value if f.severity else "-"
        worst[f.check] = min(worst.get(f.check, sev), sev)
    return worst


def _problems(result: runner.RunResult):
    return [f for f in result.findings if f.outcome.is_problem]


# the payments drills, and the healthy baseline every page must find clean
PAYMENTS_DRILLS = sorted(n for n, s in SCENARIOS.items() if s.runbook == "payments" or n == "healthy")


@pytest.mark.parametrize("scenario", PAYMENTS_DRILLS)
def test_drill_matrix(scenario, page_run):
    result = page_run(scenario)
    assert result.error is None, result.error
    expected = SCENARIOS[scenario].expected
    problems = _problems(result)
    # EXACT ground truth: the checks that fire and their worst severity are the ones
    # `opsbook db scenarios` prints (the same Expected tuples), no more, no fewer, no other severity
    assert ground_truth(problems) == SCENARIOS[scenario].ground_truth(), (
        f"{scenario}: the page raised {sorted(ground_truth(problems).items())}, "
        f"the scenario says {sorted(SCENARIOS[scenario].ground_truth().items())}"
    )
    for e in expected:
        if e.subject is not None:
            hits = [f for f in problems if f.check == e.check and f.subject == e.subject]
            assert hits, f"{scenario}: {e.check}[{e.subject}] did not fire; problems were {[f.key for f in problems]}"
    data = json.loads((result.folder / "result.json").read_text())
    assert not [n for n in data["notes"] if "never measured" in n], "every prefetched step is measured by the page"
    facts = data["facts"]
    stage = SCENARIOS[scenario].stage
    assert facts["broken_stage"] == (stage.value if stage else None), f"{scenario}: page named {facts['broken_stage']}"
    if scenario == "healthy":
        worst = [f for f in problems if f.severity.at_least(Severity.P1)]
        assert not worst, f"healthy baseline raised {[(f.key, f.severity.value) for f in worst]}"
        assert result.verdict is Verdict.PASS, [(f.key, f.severity.value) for f in problems]
        assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    else:
        assert result.verdict is Verdict.FAIL and result.exit_code == runner.ExitCode.FAIL


def test_db_scenarios_prints_the_ground_truth_the_drill_test_asserts(capsys):
    """`opsbook db scenarios` and the drill test read the same Expected tuples: they cannot drift."""
    from opslib.cli import main

    assert main(["db", "scenarios"]) == 0
    printed: dict[str, dict[str, str]] = {}
    current = ""
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith(" "):
            current = line.split()[0]
            printed[current] = {}
        elif line.strip().startswith("expects ") and not line.strip().startswith("expects no problem"):
            check, severity = line.split()[1], line.split()[-1]
            check = check.split("[")[0]
            printed[current][check] = min(printed[current].get(check, severity), severity)
    assert printed == {name: sc.ground_truth() for name, sc in SCENARIOS.items()}


def test_bundle_is_complete_and_verifies(page_run):
    result = page_run("webhook_secret_mismatch")
    names = {p.name for p in result.folder.iterdir()}
    assert names == {"payments.ipynb", "payments.html", "result.json", "manifest.json"}
    data = json.loads((result.folder / "result.json").read_text())
    for key in (
        "runbook",
        "run_id",
        "started_at",
        "finished_at",
        "parameters",
        "database",
        "window",
        "verdict",
        "findings",
    ):
        assert key in data, key
    assert data["started_at"].endswith("Z") and data["finished_at"].endswith("Z")
    assert data["database"]["server_version"] and data["database"]["is_replica"] is False
    assert data["window"]["since"] < data["window"]["until"]
    assert data["wi_id"] == "WI-DRILL"
    # the kernel's own high-water mark (pandas + matplotlib + the page), not the test process's
    assert 60 < data["kernel_peak_rss_mib"] < 1024
    for f in data["findings"]:
        assert {"check", "outcome", "severity", "value", "threshold", "section"} <= f.keys()
    assert evidence.verify(result.folder) == []
    # a host, never a URL
    assert not any(c in data["database"]["host"] for c in ("@", "?", "postgresql")), data["database"]["host"]
    # one cause, counted once: the orders stuck at the webhook are the reconciliation's status mismatches
    stuck = [f for f in data["findings"] if f["check"] == "payments.pg_paid_db_pending" and f["subject"] == "portone"]
    (group,) = data["cause_groups"]
    assert "payments.pg_paid_db_pending[portone]" in group["checks"]
    assert any(c.startswith("payments.recon_status_mismatch[") for c in group["checks"])
    assert group["items"] == stuck[0]["value"], (group, stuck)
    # what to do now, with the exact command; the exit state the banner shows
    commands = [m["command"] for m in data["mitigations"]]
    assert any(
        c.startswith("opsbook action payments-kill-switch --confirm payments-kill-switch --wi WI-DRILL")
        for c in commands
    )
    assert data["exit_state"]["met"] is False and data["exit_state"]["sentence"]
    # where the time went: each step with its queries, the charts, the HTML report
    timings = data["timings"]
    queries = [q["query"] for step in timings["steps"] for q in step["queries"]]
    assert "payments.recon_items" in queries and "payments.pg_paid_db_pending" in queries
    assert timings["charts"] >= 3 and timings["charts_s"] > 0 and timings["html_s"] > 0 and timings["sql_s"] > 0


def test_signature_secret_is_verified_but_never_written(page_run):
    secret = signing.DEMO_PORTONE_WEBHOOK_SECRET
    result = page_run("webhook_secret_mismatch", PORTONE_WEBHOOK_SECRET=secret)
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["signature_secret_match"] is True, (
        "PortOne signed with the real secret: the stored signature must match"
    )
    key_b64 = secret.removeprefix("whsec_")
    raw_key = base64.b64decode(key_b64)
    for p in result.folder.iterdir():
        data = p.read_bytes()
        assert secret.encode() not in data and key_b64.encode() not in data and raw_key not in data, p.name
    assert result.verdict is Verdict.FAIL, "the secret must not have been found and redacted (that would be ERROR)"


def test_a_wrong_secret_says_no_match(page_run):
    wrong = "whsec_" + base64.b64encode(b"w" * 32).decode()
    result = page_run("webhook_secret_mismatch", PORTONE_WEBHOOK_SECRET=wrong)
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["signature_secret_match"] is False


EXPORTS = Path(__file__).parent / "fixtures" / "pg_exports"


def test_business_day_reconciles_a_pg_export_file(seeded, tmp_path):
    """The business-day reconciliation runs in the background; its export source still shows in step 4."""
    s = seeded("healthy")
    params = {"until": s.as_of.isoformat(), "pg_export_path": str(EXPORTS / "toss_transactions.json")}
    result = runner.run("payments", params, database_url=s.db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    report = (result.folder / "payments.html").read_text(encoding="utf-8")
    assert "source export:toss_transactions.json" in report
    day = [f for f in result.findings if f.check.startswith("payments.recon_")]
    assert day, "the business day's reconciliation findings are recorded"


def test_a_bad_export_file_is_refused_before_the_page_runs(tmp_path, capsys):
    from opslib.cli import main

    code = main(
        [
            "run",
            "payments",
            "--database-url",
            "postgresql://reader@127.0.0.1:9/app",  # never reached: the parameter is refused first
            "-p",
            "pg_export_path",
            str(EXPORTS / "unknown.csv"),
            "--out",
            str(tmp_path / "ev"),
        ]
    )
    assert code == runner.ExitCode.USAGE
    err = capsys.readouterr().err
    assert "unknown.csv" in err and err.count("\n") == 1
    assert not (tmp_path / "ev").exists() or not any((tmp_path / "ev").iterdir()), "nothing ran, nothing written"


def test_empty_contract_database_gives_a_clean_verdict(contract_db, tmp_path):
    result = runner.run("payments", database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None
    assert result.verdict is Verdict.PASS
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]


def test_html_report_renders_offline_in_chromium(page_run, artifacts: Path):
    from conftest import chromium_path
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    result = page_run("webhook_secret_mismatch")
    html = result.folder / "payments.html"
    text = html.read_text()
    import re

    fetched = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", text)
    assert not fetched, f"the report references remote resources: {fetched[:5]}"
    assert not re.search(r"@import\s+url\(\s*[\"']?https?:", text), "remote CSS import"
    external: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(html.as_uri())
        page.wait_for_load_state("networkidle")
        banner = page.locator(".opsbook-verdict")
        assert banner.count() == 1 and banner.is_visible()
        assert banner.get_attribute("data-verdict") == "FAIL"
        # the verdict opens the report: on the first screen, before any section
        box = banner.bounding_box()
        assert box is not None and box["y"] < 200, box
        first_heading = page.locator("h2").first.bounding_box()
        assert first_heading is not None and first_heading["y"] > box["y"] + box["height"]
        top = banner.inner_text()
        assert "판정" in top and "P0" in top
        assert "opsbook action payments-kill-switch --confirm payments-kill-switch" in top, top
        assert "종료 조건" in top and "미충족" in top, top
        # one cause, said once: the stuck orders are a single line naming both checks
        assert top.count("PG 승인 · DB 미반영") == 1, top
        assert "상태 불일치" in top, top
        page.screenshot(path=str(artifacts / "payments-report-top.png"))
        # long tables fold their rest; wide ones scroll inside their box instead of being cut
        assert page.locator("details.opsbook-more").count() >= 1
        overflow = page.eval_on_selector_all(".opsbook-scroll", "els => els.map(e => getComputedStyle(e).overflowX)")
        assert overflow and set(overflow) == {"auto"}, overflow
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 1280, f"the page itself scrolls sideways ({page_width} px): a table is cut or overflows"
        images = page.locator("img")
        assert images.count() >= 3, "charts: success rate, function status, funnel, lags, exit strip"
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert all(w > 100 for w in widths), widths
        images.first.scroll_into_view_if_needed()
        assert images.first.is_visible()
        page.screenshot(path=str(artifacts / "payments-report.png"), full_page=True)
        browser.close()
    assert external == [], f"the report fetched {external}"

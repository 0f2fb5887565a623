"""What every page's drill matrix asserts about a run: the scenario's ground truth fired, at its severity or worse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from opslib import runner
from opslib.results import Finding
from opslib.seed.scenarios import SCENARIOS


def problems(result: runner.RunResult) -> list[Finding]:
    return [f for f in result.findings if f.outcome.is_problem]


def assert_expected_fired(scenario: str, result: runner.RunResult) -> list[Finding]:
    """Each Expected of the scenario is a problem on the page, at its severity or worse; returns the problems."""
    found = problems(result)
    for e in SCENARIOS[scenario].expected:
        hits = [f for f in found if f.check == e.check and (e.subject is None or f.subject == e.subject)]
        assert hits, f"{scenario}: {e.check}[{e.subject}] did not fire; problems were {[f.key for f in found]}"
        assert any(f.severity is not None and f.severity.at_least(e.severity) for f in hits), (
            f"{scenario}: {e.check} fired at {[f.severity.value for f in hits if f.severity]}, "
            f"expected {e.severity.value} or worse"
        )
    return found


def page_runner(runbook: str, seeded, out: Path, wi_id: str = "WI-DRILL") -> Callable[[str], runner.RunResult]:
    """get(scenario) -> the page run once over that drill's seeded database, up to its as_of (later calls
    return the same run): a module's assertions share one papermill run per drill."""
    runs: dict[str, runner.RunResult] = {}

    def get(scenario: str) -> runner.RunResult:
        if scenario not in runs:
            s = seeded(scenario)
            runs[scenario] = runner.run(
                runbook, {"until": s.as_of.isoformat()}, database_url=s.db.reader, out_dir=out, wi_id=wi_id
            )
        return runs[scenario]

    return get

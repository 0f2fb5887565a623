"""Before vs after, judged: a rate over its floor AND significantly worse than before (pure functions).

A plain ratio on a quiet hour is noise (1 error before, 2 after: "doubled"). Each check names its
test in checks/deploy.yaml: Fisher's exact test for proportions (bad events among requests),
an exact conditional test of two Poisson rates for counts over time (error log lines), and
Mann-Whitney U for durations (boot times). All one-sided: only "after is worse" matters here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from opslib import checks
from opslib.deploy.settings import settings
from opslib.measures import pct
from opslib.results import Finding, Outcome


@dataclass(frozen=True)
class Counts:
    """Bad events among all events in one period (after: the new version's, or all)."""

    bad: int
    total: int

    @property
    def rate(self) -> float | None:
        return pct(self.bad, self.total)


def fisher_p(after: Counts, before: Counts) -> float:
    """One-sided Fisher's exact test: P(a table at least this skewed towards 'after worse' | totals)."""
    from scipy.stats import fisher_exact

    table = [[after.bad, after.total - after.bad], [before.bad, before.total - before.bad]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def poisson_p(after_count: int, after_minutes: float, before_count: int, before_minutes: float) -> float:
    """Exact conditional test of two Poisson rates: given all k events, is the after share larger
    than the after window's share of the time? (binomial test of after_count in k)."""
    from scipy.stats import binomtest

    k = after_count + before_count
    if k == 0 or after_minutes <= 0 or before_minutes <= 0:
        return 1.0
    share = after_minutes / (after_minutes + before_minutes)
    return float(binomtest(after_count, k, share, alternative="greater").pvalue)


def mannwhitney_p(after: Sequence[float], before: Sequence[float]) -> float:
    """One-sided Mann-Whitney U: are after values stochastically larger than before?"""
    from scipy.stats import mannwhitneyu

    if not after or not before:
        return 1.0
    return float(mannwhitneyu(list(after), list(before), alternative="greater").pvalue)


def test_for(check_id: str) -> str:
    return settings().tests.get(check_id, "fisher")


def p_text(p: float | None) -> str:
    if p is None:
        return "비교할 배포 전 데이터 없음: 기준선만 판정 (no before traffic: floor only)"
    shown = "< 0.0001" if p < 0.0001 else f"= {p:.4f}".rstrip("0").rstrip(".")
    return f"p {shown}"


def significant(p: float | None) -> bool:
    """No before data (p None) cannot refute the floor; otherwise p must be under alpha."""
    return p is None or p < settings().alpha


def judged(finding: Finding, p: float | None, test: str) -> Finding:
    """The floor's finding, kept only when significantly worse than before; else OK, saying why."""
    said = f"{test} {p_text(p)}, α {settings().alpha:g}"
    detail = f"{finding.detail} · {said}" if finding.detail else said
    if finding.outcome.is_problem and not significant(p):
        return replace(
            finding,
            outcome=Outcome.OK,
            severity=None,
            detail=f"{detail} · 기준 초과지만 배포 전보다 유의하게 나쁘지 않음 (over the floor, not significantly "
            "worse than before: noise or an older problem)",
        )
    return replace(finding, detail=detail)


def judge_rate(
    check_id: str, after: Counts, before: Counts, *, subject: str, detail: str, evidence: Sequence[dict] = ()
) -> Finding:
    """A rate after the deploy: over its floor (checks/deploy.yaml) and worse than before (Fisher)."""
    check = checks.get(check_id)
    before_text = f"배포 전 {before.bad}/{before.total}" + (f" ({before.rate:.2f}%)" if before.rate is not None else "")
    after_text = f"배포 후 {after.bad}/{after.total}" + (f" ({after.rate:.2f}%)" if after.rate is not None else "")
    said = f"{after_text} vs {before_text}" + (f" · {detail}" if detail else "")
    base = checks.evaluate(
        check, after.rate, sample=after.total, failures=after.bad, subject=subject, detail=said, evidence=evidence
    )
    if base.outcome in (Outcome.NOT_EVALUATED, Outcome.ERROR):
        return base
    p = fisher_p(after, before) if before.total > 0 else None
    return judged(base, p, "Fisher exact")

"""The runbook's rules as data, evaluated by pure functions.

A check names a measurement, the warning and critical thresholds (runbook §4-E and the
domain pages), the severity each maps to, and, for exit conditions, how long the
condition must hold. Evaluating a check is a pure function of the measured value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from opslib.errors import ConfigError
from opslib.results import Finding, Outcome, Severity

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Check:
    """One rule: `value <op> critical` → CRITICAL, else `value <op> warn` → WARN, else OK."""

    id: str
    title: str
    section: str
    unit: str
    op: str
    warn: float | None
    critical: float | None
    warn_severity: Severity
    critical_severity: Severity
    source: str = ""
    min_sample: int = 0
    # Below min_sample a rate is still judged once this many events failed (0: never):
    # 9 of 9 webhooks rejected at 03:00 is an outage, 1 of 2 is not yet a rate.
    min_failures: int = 0
    hold_minutes: int | None = None
    note: str = ""

    def threshold_text(self) -> str:
        if self.warn is not None and self.warn == self.critical and self.warn_severity == self.critical_severity:
            # one line, not "경고 > 0 (P0) / 위험 > 0 (P0)"
            return f"위험 {self.op} {_fmt(self.critical)}{self.unit} ({self.critical_severity.value})"
        parts = []
        if self.warn is not None:
            parts.append(f"경고 {self.op} {_fmt(self.warn)}{self.unit} ({self.warn_severity.value})")
        if self.critical is not None:
            parts.append(f"위험 {self.op} {_fmt(self.critical)}{self.unit} ({self.critical_severity.value})")
        return " / ".join(parts)

    def breached(self, value: float, level: float | None) -> bool:
        return level is not None and _OPS[self.op](value, level)


def _fmt(x: float) -> str:
    return f"{x:g}"


def evaluate(
    check: Check,
    value: float | None,
    *,
    sample: int | None = None,
    failures: int | None = None,
    subject: str | None = None,
    detail: str = "",
    evidence: Sequence[Mapping[str, Any]] = (),
) -> Finding:
    """Pure: the finding for one measured value. None means nothing could be measured.

    sample is the number of events behind a rate and failures how many of them failed; too
    small a sample is not judged unless the failures alone reach the check's min_failures.
    """
    base = {
        "check": check.id,
        "title": check.title,
        "section": check.section,
        "threshold": check.threshold_text(),
        "subject": subject,
        "unit": check.unit,
        "evidence": tuple(evidence),
    }
    if value is None:
        return Finding(outcome=Outcome.NOT_EVALUATED, value=None, detail=detail or "측정값 없음 (no data)", **base)
    if sample is not None and not enough_to_judge(sample, failures or 0, check.min_sample, check.min_failures):
        return Finding(
            outcome=Outcome.NOT_EVALUATED,
            value=_round(value),
            detail=detail or f"표본 부족: {sample}건 < {check.min_sample}건 (too few events to judge)",
            **base,
        )
    if sample is not None and sample < check.min_sample:
        few = (
            f"표본 {sample}건 (< {check.min_sample}건)이지만 실패 {failures}건으로 판정 "
            f"(few events, judged on {failures} failures)"
        )
        detail = f"{detail} · {few}" if detail else few
    if check.breached(value, check.critical):
        return Finding(
            outcome=Outcome.CRITICAL, severity=check.critical_severity, value=_round(value), detail=detail, **base
        )
    if check.breached(value, check.warn):
        return Finding(outcome=Outcome.WARN, severity=check.warn_severity, value=_round(value), detail=detail, **base)
    return Finding(outcome=Outcome.OK, value=_round(value), detail=detail, **base)


def enough_to_judge(sample: int, failures: int, min_sample: int, min_failures: int) -> bool:
    """A rate is judged over min_sample events, or over fewer once min_failures of them failed
    (0: never). The page's checks and the exit condition's buckets share this one rule."""
    return sample >= min_sample or 0 < min_failures <= failures


def error(check: Check, reason: str, subject: str | None = None) -> Finding:
    """A check that could not run is ERROR, never OK."""
    return Finding(
        check=check.id,
        title=check.title,
        section=check.section,
        threshold=check.threshold_text(),
        subject=subject,
        unit=check.unit,
        outcome=Outcome.ERROR,
        detail=reason,
    )


def _round(value: float) -> float | int:
    if isinstance(value, int) or float(value).is_integer():
        return int(value)
    return round(float(value), 3)


def _parse(domain: str, raw: Mapping[str, Any]) -> Check:
    try:
        op = raw["op"]
        if op not in _OPS:
            raise ConfigError(f"check {raw['id']}: op must be one of {sorted(_OPS)}")
        return Check(
            id=raw["id"],
            title=raw["title"],
            section=raw["section"],
            unit=raw.get("unit", ""),
            op=op,
            warn=raw.get("warn"),
            critical=raw.get("critical"),
            warn_severity=Severity(raw.get("warn_severity", "P2")),
            critical_severity=Severity(raw.get("critical_severity", "P0")),
            source=raw.get("source", ""),
            min_sample=int(raw.get("min_sample", 0)),
            min_failures=int(raw.get("min_failures", 0)),
            hold_minutes=raw.get("hold_minutes"),
            note=raw.get("note", ""),
        )
    except KeyError as exc:
        raise ConfigError(f"checks/{domain}.yaml: a check is missing the field {exc.args[0]!r}") from None


# libyaml's safe loader when installed: the same documents, ~10x faster than the pure-Python one
# (every page loads the whole catalogue as it opens, for its traffic check).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalogue() -> dict[str, Check]:
    """Every check shipped with opslib, by id."""
    found: dict[str, Check] = {}
    folder = resources.files("opslib") / "checks"
    for f in sorted(folder.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".yaml"):
            domain = f.name.removesuffix(".yaml")
            for raw in yaml.load(f.read_text(encoding="utf-8"), Loader=SAFE_LOADER)["checks"]:
                check = _parse(domain, raw)
                if check.id in found:
                    raise ConfigError(f"check id {check.id} is defined twice")
                found[check.id] = check
    return found


def get(check_id: str) -> Check:
    try:
        return catalogue()[check_id]
    except KeyError:
        raise ConfigError(f"no check with id {check_id!r}") from None

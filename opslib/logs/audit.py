"""트리아지: the standard checked line by line, per function. Pure functions of the window read once (window.py).

Each step returns its table(s), its findings (one per function and check, the function as subject) and
nothing raw: messages never leave a step, and personal data only as detector.py's masked form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from opslib import checks, timewindow
from opslib.logs import detector as pii_scan
from opslib.logs import rules
from opslib.logs.window import NO_EVENTS, Detection, LogWindow
from opslib.masking import mask_text
from opslib.results import Finding

NO_PAYMENT_EVENTS = "이 구간에 결제 이벤트 없음 (no payment event in the window)"
EVIDENCE_ROWS = 20


@dataclass(frozen=True)
class Step:
    """One triage answer: a table per question, the findings, and (for the exit condition) what failed."""

    table: pd.DataFrame
    detail: pd.DataFrame
    sentence: str
    findings: tuple[Finding, ...]


def _unjudged(check_id: str, logs: LogWindow, what: str = "") -> tuple[Finding, ...]:
    check = checks.get(check_id)
    if logs.error:
        return (checks.error(check, f"function_logs: {logs.error}"),)
    return (checks.evaluate(check, None, detail=what or NO_EVENTS),)


def _per_function(logs: LogWindow) -> list[tuple[str, pd.DataFrame]]:
    return [(fn, logs.lines[logs.lines["function_name"] == fn]) for fn in logs.functions()]


def _with_lines(check: checks.Check, rule: rules.FieldRule) -> checks.Check:
    return replace(
        check,
        warn=rule.warn if rule.warn is not None else check.warn,
        critical=rule.critical if rule.critical is not None else check.critical,
    )


def common_fields(detection: Detection) -> Step:
    """§4-B: the share of each function's structured lines carrying each common field, and the release
    the lines came from (a field that disappears with one release is that release's logger)."""
    logs, s = detection.logs, rules.standard()
    check = checks.get("logs.common_fields")
    if logs.error or logs.empty:
        return Step(pd.DataFrame(), pd.DataFrame(), NO_EVENTS, _unjudged(check.id, logs))
    rows, by_release, found = [], [], []
    for fn, mine in _per_function(logs):
        docs = mine.loc[mine["structured"], "doc"]
        if docs.empty:
            found.append(checks.evaluate(check, None, subject=fn, detail="구조화 로그 없음 (no JSON line to read)"))
            continue
        shares = {f.name: 100.0 * sum(rules.present(d, f.name) for d in docs) / len(docs) for f in s.fields}
        rows.append({"함수 (function)": fn, "JSON 줄": len(docs), **{k: round(v, 1) for k, v in shares.items()}})
        worst: Finding | None = None
        short = []
        for rule in s.fields:
            if not rule.required:
                continue
            f = checks.evaluate(_with_lines(check, rule), shares[rule.name], subject=fn)
            if f.outcome.is_problem:
                short.append(f"{rule.name} {shares[rule.name]:.1f}%")
            if (
                worst is None
                or _rank(f) < _rank(worst)
                or (_rank(f) == _rank(worst) and (f.value or 0) < (worst.value or 0))
            ):
                worst = f
        assert worst is not None
        detail = (
            "모자란 필드 (short): " + ", ".join(short)
            if short
            else "필수 필드 모두 충족 (every required field present)"
        )
        found.append(replace(worst, detail=detail, threshold=check.threshold_text() + " · 필드별 기준 logs.yaml"))
        for release, part in mine[mine["structured"]].groupby("release"):
            rdocs = part["doc"]
            by_release.append(
                {
                    "함수 (function)": fn,
                    "릴리스 (release)": release,
                    "JSON 줄": len(rdocs),
                    "처음 (first)": timewindow.kst(part["at"].min()) if len(part) else "",
                    **{
                        r.name: round(100.0 * sum(rules.present(d, r.name) for d in rdocs) / len(rdocs), 1)
                        for r in s.fields
                        if r.required
                    },
                }
            )
    table = pd.DataFrame(rows)
    problems = [f for f in found if f.outcome.is_problem]
    sentence = (
        f"필수 공통 필드가 모자란 함수 {len(problems)}개: " + ", ".join(str(f.subject) for f in problems)
        if problems
        else "모든 함수가 §4-B 필수 공통 필드를 기록함 (every function logs the required common fields)"
    )
    return Step(table, pd.DataFrame(by_release), sentence, tuple(found))


def _rank(f: Finding) -> int:
    order = {"CRITICAL": 0, "WARN": 1, "ERROR": 2, "NOT_EVALUATED": 3, "OK": 4}
    return order[f.outcome.value]


def payment_fields(detection: Detection) -> Step:
    """§4-C: every payment event (domain payment, or event payment.*) carries all eight required fields."""
    logs, s = detection.logs, rules.standard()
    check = checks.get("logs.payment_fields")
    if logs.error or logs.empty:
        return Step(pd.DataFrame(), pd.DataFrame(), NO_EVENTS, _unjudged(check.id, logs))
    rows, found = [], []
    for fn, mine in _per_function(logs):
        docs = [d for d in mine["doc"] if rules.is_payment(d, s)]
        if not docs:
            continue
        complete = sum(all(rules.present(d, f) for f in s.payment_fields) for d in docs)
        missing = {f: sum(not rules.present(d, f) for d in docs) for f in s.payment_fields}
        share = 100.0 * complete / len(docs)
        rows.append(
            {
                "함수 (function)": fn,
                "결제 이벤트 (payment events)": len(docs),
                "필수 8필드 완비 %": round(share, 1),
                **{f"{f} 누락": n for f, n in missing.items()},
            }
        )
        short = ", ".join(f"{f} {n:,}건" for f, n in missing.items() if n)
        found.append(
            checks.evaluate(
                check,
                share,
                subject=fn,
                detail=f"누락 (missing): {short}" if short else f"결제 이벤트 {len(docs):,}건 모두 완비",
            )
        )
    if not found:
        found.append(checks.evaluate(check, None, detail=NO_PAYMENT_EVENTS))
    problems = [f for f in found if f.outcome.is_problem]
    sentence = (
        "필수 필드가 빠진 결제 이벤트: " + "; ".join(f"{f.subject} ({f.detail})" for f in problems)
        if problems
        else (NO_PAYMENT_EVENTS if not rows else "모든 결제 이벤트가 §4-C 필수 필드를 기록함")
    )
    return Step(pd.DataFrame(rows), pd.DataFrame(), sentence, tuple(found))


def _count_step(
    detection: Detection,
    check_id: str,
    flag: Callable[[Any], bool],
    describe: Callable[[Any], Mapping[str, Any]],
    ok_sentence: str,
) -> tuple[list[Finding], list[dict[str, Any]], list[Mapping[str, Any]]]:
    logs = detection.logs
    check = checks.get(check_id)
    found, rows, examples = [], [], []
    for fn, mine in _per_function(logs):
        hit = mine[[bool(flag(r)) for r in mine.itertuples(index=False)]] if len(mine) else mine
        rows.append({"함수 (function)": fn, "줄 (lines)": len(mine), "해당 (flagged)": len(hit)})
        ex = [describe(r) for r in hit.head(EVIDENCE_ROWS).itertuples(index=False)]
        examples += [{"함수 (function)": fn, **e} for e in ex]
        found.append(
            checks.evaluate(
                check, len(hit), subject=fn, evidence=tuple(ex[:5]), detail=ok_sentence if hit.empty else ""
            )
        )
    return found, rows, examples


def event_names(detection: Detection) -> Step:
    """§4-B: `event` is a normalized name, `domain.noun.verb` (payment.webhook.received)."""
    logs = detection.logs
    if logs.error or logs.empty:
        return Step(pd.DataFrame(), pd.DataFrame(), NO_EVENTS, _unjudged("logs.event_names", logs))

    def bad(r: Any) -> bool:
        return bool(r.event) and not rules.normalized_event(r.event)

    found, rows, examples = _count_step(
        detection, "logs.event_names", bad, lambda r: {"이벤트 (event)": mask_text(r.event[:80])}, ""
    )
    names = (
        pd.DataFrame(examples).groupby(["함수 (function)", "이벤트 (event)"]).size().rename("줄 (lines)").reset_index()
        if examples
        else pd.DataFrame()
    )
    found = [
        replace(f, detail=f"정규화 안 된 이벤트 {int(f.value or 0):,}줄") if f.outcome.is_problem else f for f in found
    ]
    total = sum(int(f.value or 0) for f in found)
    sentence = f"domain.noun.verb 형식이 아닌 이벤트 {total:,}줄" if total else "모든 이벤트명이 domain.noun.verb 형식"
    return Step(pd.DataFrame(rows), names, sentence, tuple(found))


def levels(detection: Detection) -> Step:
    """§4-A: a payment failure is logged at ERROR (always a Sentry capture); the JSON severity matches the level."""
    logs, s = detection.logs, rules.standard()
    if logs.error or logs.empty:
        return Step(
            pd.DataFrame(),
            pd.DataFrame(),
            NO_EVENTS,
            _unjudged("logs.payment_failure_level", logs) + _unjudged("logs.severity_mismatch", logs),
        )

    def row(r: Any) -> Mapping[str, Any]:
        return {
            "시각 (KST)": timewindow.kst(r.at),
            "level": r.level,
            "severity": mask_text(rules.text(r.doc, "severity")[:20]),
            "이벤트 (event)": mask_text(r.event[:80]),
            "status": mask_text(rules.text(r.doc, "status")[:40]),
        }

    low, rows_low, ex_low = _count_step(
        detection,
        "logs.payment_failure_level",
        lambda r: rules.payment_failure_below_error(r.level, r.doc, s),
        row,
        "",
    )
    mism, rows_mism, ex_mism = _count_step(
        detection, "logs.severity_mismatch", lambda r: rules.severity_mismatch(r.level, r.doc), row, ""
    )
    table = pd.DataFrame(
        [
            {
                "함수 (function)": a["함수 (function)"],
                "줄 (lines)": a["줄 (lines)"],
                "ERROR 미만 결제 실패": a["해당 (flagged)"],
                "level≠severity": b["해당 (flagged)"],
            }
            for a, b in zip(rows_low, rows_mism, strict=True)
        ]
    )
    examples = pd.DataFrame(
        [{"문제 (problem)": "결제 실패 < ERROR", **e} for e in ex_low]
        + [{"문제 (problem)": "level≠severity", **e} for e in ex_mism]
    )
    n_low = sum(int(f.value or 0) for f in low)
    n_mism = sum(int(f.value or 0) for f in mism)
    sentence = f"ERROR 미만으로 남은 결제 실패 {n_low:,}줄 · level과 severity가 다른 줄 {n_mism:,}줄"
    return Step(table, examples, sentence, tuple(low + mism))


def _each_kind_first(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One example of every kind found before the rest: a card number seen once is not hidden by 20 emails."""
    seen: set[str] = set()
    first, rest = [], []
    for e in examples:
        (rest if e["종류 (kind)"] in seen else first).append(e)
        seen.add(e["종류 (kind)"])
    return first + rest


def pii(detection: Detection) -> Step:
    """Raw personal data in the messages (emails, Korean mobiles, card numbers, raw user ids where a masked
    id is the rule): a security finding. Evidence is the kind, the field and a masked form only."""
    logs, s = detection.logs, rules.standard()
    check = checks.get("logs.pii")
    if logs.error or logs.empty:
        return Step(pd.DataFrame(), pd.DataFrame(), NO_EVENTS, _unjudged(check.id, logs))
    rows, examples, found = [], [], []
    for fn, mine in _per_function(logs):
        flagged = 0
        kinds: dict[str, int] = {}
        ex: list[dict[str, Any]] = []
        for r in mine.itertuples(index=False):
            hits = pii_scan.scan(str(r.message), r.doc, s.masked_id_fields)
            if not hits:
                continue
            flagged += 1
            for h in hits:
                kinds[h.kind] = kinds.get(h.kind, 0) + 1
                if len(ex) < EVIDENCE_ROWS * 10:
                    ex.append(
                        {
                            "시각 (KST)": timewindow.kst(r.at),
                            "종류 (kind)": h.kind,
                            "필드 (field)": h.field or "(본문 message)",
                            "마스킹된 값 (masked)": h.masked,
                            "릴리스 (release)": mask_text(str(r.release)),
                        }
                    )
        rows.append(
            {
                "함수 (function)": fn,
                "줄 (lines)": len(mine),
                "개인정보 포함 줄": flagged,
                **{k: kinds.get(k, 0) for k in pii_scan.KINDS},
            }
        )
        ex = _each_kind_first(ex)[:EVIDENCE_ROWS]
        examples += [{"함수 (function)": fn, **e} for e in ex]
        detail = ", ".join(f"{k} {n:,}건" for k, n in kinds.items()) if kinds else "원본 개인정보 없음 (none found)"
        found.append(checks.evaluate(check, flagged, subject=fn, detail=detail, evidence=tuple(ex[:5])))
    total = sum(int(f.value or 0) for f in found)
    sentence = (
        f"원본 개인정보가 든 로그 {total:,}줄 (보안 사고: 마스킹 값만 표시)"
        if total
        else "로그에 원본 개인정보 없음 (no raw email, phone, card number or user id)"
    )
    return Step(pd.DataFrame(rows), pd.DataFrame(examples), sentence, tuple(found))

"""Runbook §3-D 종료 조건: 업로드 성공률 >= 99 % (5분 연속 유지).

Each 5-minute bucket of the lookback is judged on its uploads (all storage buckets together);
the trailing run of good buckets must cover the hold time, and the held span is judged once
more in aggregate, so that buckets too quiet to judge alone cannot add up to "met" while
uploads keep failing. No judged upload in the held span reads "cannot judge", never "met".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding, Outcome
from opslib.storage.requests import BUCKET_MINUTES, Kind, of_kind, tidy
from opslib.timewindow import KST, kst_hhmm

BUCKET = timedelta(minutes=BUCKET_MINUTES)
CHECK = "storage.upload_success_rate"


@dataclass(frozen=True)
class UploadBucket:
    start: datetime
    end: datetime
    uploads: int
    successes: int

    @property
    def failures(self) -> int:
        return self.uploads - self.successes


@dataclass(frozen=True)
class ExitEvaluation:
    met: bool
    judgeable: bool  # enough uploads in the held span to say anything
    met_since: datetime | None
    held_minutes: float
    sentence: str
    good: tuple[bool, ...]  # per bucket, in order


@dataclass(frozen=True)
class ExitCondition:
    until: datetime
    hold_minutes: int
    met: bool
    judgeable: bool
    met_since: datetime | None
    sentence: str
    buckets: pd.DataFrame  # bucket_start/end (KST), uploads, successes, success_rate, judged, good
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def _judged(b: UploadBucket, check: checks.Check) -> bool:
    return checks.enough_to_judge(b.uploads, b.failures, check.min_sample, check.min_failures)


def _bad(b: UploadBucket, check: checks.Check, line: float) -> bool:
    rate = pct(b.successes, b.uploads)
    return rate is not None and _judged(b, check) and rate < line


def evaluate_exit(
    buckets: Sequence[UploadBucket], hold_minutes: int, until: datetime, check: checks.Check | None = None
) -> ExitEvaluation:
    """Pure: met / since when / what still fails, from per-bucket upload counts."""
    check = check or checks.get(CHECK)
    line = float(check.warn if check.warn is not None else 99)
    ordered = sorted(buckets, key=lambda b: b.start)
    good = tuple(not _bad(b, check, line) for b in ordered)
    run_start = None
    for i in range(len(ordered) - 1, -1, -1):
        if not good[i]:
            break
        run_start = i
    met_since = ordered[run_start].start if run_start is not None else None
    held = (until - met_since).total_seconds() / 60 if met_since is not None else 0.0
    span_from = until - timedelta(minutes=hold_minutes)
    span = [b for b in ordered if b.end > span_from]
    n, ok = sum(b.uploads for b in span), sum(b.successes for b in span)
    span_bucket = UploadBucket(span_from, until, n, ok)
    judgeable = _judged(span_bucket, check)
    span_rate = pct(ok, n)
    if ordered and not good[-1]:
        last = ordered[-1]
        since = last.start
        for b, g in zip(reversed(ordered[:-1]), reversed(good[:-1]), strict=True):
            if g:
                break
            since = b.start
        rate = pct(last.successes, last.uploads) or 0.0
        return ExitEvaluation(
            False,
            True,
            None,
            0.0,
            f"미충족: 업로드 성공률 {rate:.1f} % ({last.successes}/{last.uploads}) < {line:g} %, "
            f"{kst_hhmm(since)}부터 (not met: failing since {kst_hhmm(since)})",
            good,
        )
    if span_rate is not None and judgeable and span_rate < line:
        return ExitEvaluation(
            False,
            True,
            met_since,
            held,
            f"미충족: 최근 {hold_minutes}분 합계 업로드 성공률 {span_rate:.1f} % ({ok}/{n}) < {line:g} % "
            f"(not met over the held span in aggregate)",
            good,
        )
    if not judgeable:
        return ExitEvaluation(
            False,
            False,
            met_since,
            held,
            f"판단 불가: 최근 {hold_minutes}분 업로드 {n}건 (< {check.min_sample}건): 충족이라 말할 수 없음 "
            "(cannot judge: too few uploads; check that clients can reach Storage at all)",
            good,
        )
    met = met_since is not None and held >= hold_minutes
    if met and met_since is not None:
        return ExitEvaluation(
            True,
            True,
            met_since,
            held,
            f"종료 조건 충족: {kst_hhmm(met_since)} 이후 {held:.0f}분 업로드 성공률 ≥ {line:g} % "
            f"(최근 {hold_minutes}분 {span_rate:.1f} %, {ok}/{n}) (met since {kst_hhmm(met_since)})",
            good,
        )
    return ExitEvaluation(
        False,
        True,
        met_since,
        held,
        f"미충족: {held:.0f}분 정상, {hold_minutes}분 유지 필요 (not met: good for {held:.0f} of {hold_minutes} min)",
        good,
    )


def assemble(frame: pd.DataFrame, since: datetime, until: datetime) -> list[UploadBucket]:
    up = of_kind(frame, Kind.UPLOAD.value)
    sums = up.groupby("bucket_start")[["requests", "ok"]].sum() if not up.empty else pd.DataFrame()
    index = (
        {
            pd.Timestamp(k).tz_convert("UTC") if pd.Timestamp(k).tzinfo else pd.Timestamp(k, tz="UTC"): v
            for k, v in sums.iterrows()
        }
        if not sums.empty
        else {}
    )
    out = []
    start = since
    while start < until:
        end = min(start + BUCKET, until)
        row = index.get(pd.Timestamp(start).tz_convert("UTC"))
        out.append(
            UploadBucket(
                start, end, int(row["requests"]) if row is not None else 0, int(row["ok"]) if row is not None else 0
            )
        )
        start = end
    return out


def exit_condition(
    conn: Connection, until: datetime, hold_minutes: int = 5, lookback_minutes: int = 60
) -> ExitCondition:
    since = until - timedelta(minutes=lookback_minutes)
    requests = fetch(conn, "storage.requests_buckets", {"since": since, "until": until, "bucket": BUCKET})
    check = checks.get(CHECK)
    if not requests.ok:
        finding = Finding(
            check="storage.exit_condition",
            outcome=Outcome.ERROR,
            section="§3-D 종료 조건",
            title="종료 조건 (exit condition)",
            detail=f"측정 실패: {requests.error}",
        )
        return ExitCondition(
            until,
            hold_minutes,
            False,
            False,
            None,
            f"판단 불가: {requests.error}",
            pd.DataFrame(),
            (finding,),
            timings(requests),
        )
    buckets = assemble(tidy(requests.frame), since, until)
    ev = evaluate_exit(buckets, hold_minutes, until, check)
    records = [
        {
            "bucket_start": b.start,
            "bucket_end": b.end,
            "uploads": b.uploads,
            "successes": b.successes,
            "success_rate": pct(b.successes, b.uploads),
            "judged": _judged(b, check),
            "good": g,
        }
        for b, g in zip(buckets, ev.good, strict=True)
    ]
    frame = pd.DataFrame(records)
    if not frame.empty:
        for col in ("bucket_start", "bucket_end"):
            frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_convert(KST)
    return ExitCondition(
        until, hold_minutes, ev.met, ev.judgeable, ev.met_since, ev.sentence, frame, (), timings(requests)
    )

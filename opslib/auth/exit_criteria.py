"""Runbook §3-B 종료 조건: 로그인 성공률 >= 95% (10분 연속 유지).

Per 5-minute bucket, the login success rate of users' own attempts (attack sources and one user
hammering left out, as on the failure-rate check); a bucket with too few attempts to judge is
neither good nor bad on its own. The held span is then judged once more in aggregate (quiet hours:
no bucket alone has enough attempts while the span plainly does), and "met" needs enough attempts
over the span: a login page nobody reaches is not a recovered one.
The judging (`evaluate_exit`) is pure and unit-tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.auth import attempts
from opslib.auth.attribution import attribute
from opslib.auth.detection import BUCKET, read_requests
from opslib.fetch import QueryTiming, timings
from opslib.measures import pct
from opslib.results import Finding
from opslib.timewindow import KST, Window, kst_hhmm


@dataclass(frozen=True)
class LoginBucket:
    start: datetime
    end: datetime
    attempts: int
    failures: int


@dataclass(frozen=True)
class ExitRule:
    """From checks/auth.yaml (auth.exit_login_success), never literals."""

    min_success_pct: float
    min_sample: int
    min_failures: int
    hold_minutes: int

    def judged(self, n: int, failed: int) -> bool:
        return checks.enough_to_judge(n, failed, self.min_sample, self.min_failures)

    def bad(self, b: LoginBucket) -> bool:
        rate = pct(b.attempts - b.failures, b.attempts)
        return rate is not None and self.judged(b.attempts, b.failures) and rate < self.min_success_pct

    @classmethod
    def from_catalogue(cls, hold_minutes: int | None = None) -> ExitRule:
        check = checks.get("auth.exit_login_success")
        return cls(
            float(check.warn or 95),
            check.min_sample,
            check.min_failures,
            int(hold_minutes if hold_minutes is not None else check.hold_minutes or 10),
        )


@dataclass(frozen=True)
class ExitEvaluation:
    met: bool
    met_since: datetime | None
    held_minutes: float
    span_attempts: int
    span_failures: int
    sentence: str
    good: tuple[bool, ...]  # per bucket, in order


def evaluate_exit(buckets: Sequence[LoginBucket], rule: ExitRule, until: datetime) -> ExitEvaluation:
    ordered = sorted(buckets, key=lambda b: b.start)
    good = tuple(not rule.bad(b) for b in ordered)
    run_start: int | None = None
    for i in range(len(ordered) - 1, -1, -1):
        if not good[i]:
            break
        run_start = i
    met_since = ordered[run_start].start if run_start is not None else None
    held = (until - met_since).total_seconds() / 60 if met_since is not None else 0.0
    span_from = until - timedelta(minutes=rule.hold_minutes)
    # The held span: the current run of good buckets, within the hold time.
    span = [b for b in ordered[run_start:] if b.end > span_from] if run_start is not None else []
    n = sum(b.attempts for b in span)
    failed = sum(b.failures for b in span)
    span_rate = pct(n - failed, n)
    span_judged = rule.judged(n, failed)
    span_bad = span_rate is not None and span_judged and span_rate < rule.min_success_pct
    # A quiet span (too few attempts to judge a rate) is met with at most one failure (a user's typo);
    # a span without a single attempt is not a recovered login page.
    quiet_clean = not span_judged and n > 0 and failed <= 1
    met = met_since is not None and held >= rule.hold_minutes and ((span_judged and not span_bad) or quiet_clean)
    if met and met_since is not None:
        since = kst_hhmm(met_since)
        quiet = (
            f" · 단, 시도가 적음 ({n:,}건 < {rule.min_sample}건, 실패 {failed}건): 트래픽 확인 (few attempts)"
            if quiet_clean
            else ""
        )
        sentence = (
            f"종료 조건 충족: {since} 이후 {held:.0f}분 로그인 성공률 ≥ {rule.min_success_pct:g}% "
            f"(최근 {rule.hold_minutes}분 {n - failed:,}/{n:,}) (met since {since} KST){quiet}"
        )
    elif span_bad:
        sentence = (
            f"미충족: 최근 {rule.hold_minutes}분 로그인 성공률 {span_rate:.1f}% ({n - failed:,}/{n:,}) "
            f"< {rule.min_success_pct:g}% (not met)"
        )
    elif met_since is None:
        last = ordered[-1] if ordered else None
        rate = pct(last.attempts - last.failures, last.attempts) if last else None
        sentence = "미충족: 최근 구간 로그인 성공률 " + (
            f"{rate:.1f}% at {kst_hhmm(last.start)} (not met)" if last and rate is not None else "측정 없음 (not met)"
        )
    elif not span_judged and held >= rule.hold_minutes:
        sentence = (
            f"판단 보류: 최근 {rule.hold_minutes}분 로그인 시도 {n:,}건 (실패 {failed:,}건) < {rule.min_sample}건: "
            f"판단할 만큼의 시도 없음 (too few attempts to judge; not met)"
        )
    else:
        since = kst_hhmm(met_since)
        last_bad = next((b for b, g in zip(reversed(ordered), reversed(good), strict=True) if not g), None)
        before = ""
        if last_bad is not None:
            rate = pct(last_bad.attempts - last_bad.failures, last_bad.attempts) or 0.0
            before = f" · 직전 실패: {rate:.1f}% at {kst_hhmm(last_bad.start)}"
        sentence = (
            f"미충족: {since} 이후 {held:.0f}분 정상, {rule.hold_minutes}분 유지 필요 "
            f"(not met: good since {since} for {held:.0f} of {rule.hold_minutes} min){before}"
        )
    return ExitEvaluation(met, met_since, held, n, failed, sentence, good)


@dataclass(frozen=True)
class ExitCondition:
    met: bool
    met_since: datetime | None
    sentence: str
    buckets: pd.DataFrame  # bucket_start/end (KST), attempts, failures, success_pct, good
    findings: tuple[Finding, ...]  # ERROR only: a condition that could not be measured
    timings: tuple[QueryTiming, ...]


def exit_condition(
    conn: Connection, until: datetime, hold_minutes: int = 10, lookback_minutes: int = 180
) -> ExitCondition:
    span = Window(until - timedelta(minutes=lookback_minutes), until)
    who = attribute(conn, span.since, span.until)
    requests = read_requests(conn, span, who)
    rule = ExitRule.from_catalogue(hold_minutes)
    if not requests.ok or not who.sources.ok:
        error = requests.error or who.sources.error or ""
        finding = checks.error(checks.get("auth.exit_login_success"), error, subject="종료 조건")
        return ExitCondition(
            False,
            None,
            "판정 불가: 로그인 기록을 읽지 못함 (could not measure the exit condition)",
            pd.DataFrame(),
            (finding,),
            timings(who.sources, requests),
        )
    logins = attempts.logins(attempts.annotate(requests.frame))
    starts: list[datetime] = []
    t = span.since
    while t < until:
        starts.append(t)
        t += BUCKET
    buckets = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else until
        part = (
            logins[pd.to_datetime(logins["bucket_start"], utc=True) == pd.Timestamp(start)]
            if not logins.empty
            else logins
        )
        n, failed = attempts.counts(part)
        buckets.append(LoginBucket(start, end, n, failed))
    evaluation = evaluate_exit(buckets, rule, until)
    frame = pd.DataFrame(
        [
            {
                "bucket_start": b.start,
                "bucket_end": b.end,
                "attempts": b.attempts,
                "failures": b.failures,
                "success_pct": pct(b.attempts - b.failures, b.attempts),
                "good": g,
            }
            for b, g in zip(sorted(buckets, key=lambda b: b.start), evaluation.good, strict=True)
        ]
    )
    for col in ("bucket_start", "bucket_end"):
        frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_convert(KST)
    return ExitCondition(
        evaluation.met,
        evaluation.met_since,
        evaluation.sentence,
        frame,
        (),
        timings(who.sources, who.users, requests),
    )

"""Runbook §3-A 종료 조건: 신규 결제 성공률 정상 + webhook 실패율 정상 + ledger 반영 지연 없음 (30분 유지).

Each 5-minute bucket is judged on its own (PG declines, webhook success, PG approvals still
pending in the DB, ledger backlog and lag); then the whole held span is judged once more in
aggregate, because at quiet hours no single bucket has enough events to judge a rate while
the span plainly does (2 of 4 deliveries failing in every bucket for half an hour).

The measuring (five SQL queries, per 5-minute bucket) is separate from the judging
(`evaluate_exit`, pure, plain values in), so the rule is unit-tested without a database.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.errors import ConfigError
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import number, pct
from opslib.payments.stages import PROVIDERS
from opslib.results import ExitState, Finding
from opslib.timewindow import KST, kst_hhmm

BUCKET = timedelta(minutes=5)
DEFAULT_GRACE = timedelta(minutes=5)
# A backlog that began before the lookback must still count: look at purchases paid a day back.
BACKLOG_CARRY = timedelta(days=1)


class Condition(enum.Enum):
    CHECKOUT = "checkout_success"
    WEBHOOK = "webhook_success"
    PG_PENDING = "pg_pending"
    LEDGER_BACKLOG = "ledger_backlog"
    LEDGER_LAG = "ledger_lag"

    @property
    def label_ko(self) -> str:
        return {
            "checkout_success": "신규 결제 실패율",
            "webhook_success": "webhook 성공률",
            "pg_pending": "PG 승인·DB 미반영",
            "ledger_backlog": "원장 미반영",
            "ledger_lag": "원장 반영 지연 P95",
        }[self.value]

    def describe(self, subject: str | None, value: float) -> str:
        who = f" ({subject})" if subject else ""
        if self in (Condition.LEDGER_BACKLOG, Condition.PG_PENDING):
            return f"{self.label_ko}{who} {value:.0f}건"
        if self is Condition.LEDGER_LAG:
            return f"{self.label_ko}{who} {value:.0f}초"
        return f"{self.label_ko}{who} {value:.1f} %"


@dataclass(frozen=True)
class ProviderCount:
    provider: str
    hits: int  # checkout: PG declines; webhook: successful deliveries
    total: int  # checkout: PG decisions; webhook: deliveries


@dataclass(frozen=True)
class PendingMeasure:
    provider: str
    stale_pending: int  # approved at the PG > grace before the bucket end, not paid in the DB then


@dataclass(frozen=True)
class LedgerMeasure:
    provider: str
    stale_uncredited: int  # paid > grace before the bucket end, no credit at the bucket end
    lag_p95_s: float | None
    lag_n: int


@dataclass(frozen=True)
class BucketMeasure:
    start: datetime
    end: datetime
    checkout: tuple[ProviderCount, ...] = ()
    webhook: tuple[ProviderCount, ...] = ()
    ledger: tuple[LedgerMeasure, ...] = ()
    pending: tuple[PendingMeasure, ...] = ()


@dataclass(frozen=True)
class ExitThresholds:
    """From the check catalogue (the warn levels), never literals."""

    checkout_failure_max_pct: float
    checkout_min_sample: int
    webhook_success_min_pct: float
    webhook_min_sample: int
    ledger_lag_max_s: float
    ledger_lag_min_sample: int
    checkout_min_failures: int = 0
    webhook_min_failures: int = 0

    def checkout_judged(self, declines: int, decisions: int) -> bool:
        return checks.enough_to_judge(decisions, declines, self.checkout_min_sample, self.checkout_min_failures)

    def webhook_judged(self, successes: int, deliveries: int) -> bool:
        return checks.enough_to_judge(
            deliveries, deliveries - successes, self.webhook_min_sample, self.webhook_min_failures
        )

    @classmethod
    def from_catalogue(cls) -> ExitThresholds:
        checkout = checks.get("payments.checkout_failure_rate")
        webhook = checks.get("payments.webhook_success_rate")
        lag = checks.get("payments.ledger_lag_p95")
        if checkout.warn is None or webhook.warn is None or lag.warn is None:
            raise ConfigError("checks/payments.yaml: the exit condition needs warn levels on its three checks")
        return cls(
            float(checkout.warn),
            checkout.min_sample,
            float(webhook.warn),
            webhook.min_sample,
            float(lag.warn),
            lag.min_sample,
            checkout.min_failures,
            webhook.min_failures,
        )


@dataclass(frozen=True)
class Breach:
    condition: Condition
    subject: str | None
    value: float


@dataclass(frozen=True)
class FailingCondition:
    condition: Condition
    subject: str | None
    value: float  # in the latest bucket (or over the held span, see span_minutes)
    since: datetime  # start of its current run of failing buckets (or of the span)
    span_minutes: float | None = None  # set when judged over the held span in aggregate

    @property
    def text(self) -> str:
        what = self.condition.describe(self.subject, self.value)
        if self.span_minutes is not None:
            return f"{what}: 최근 {self.span_minutes:.0f}분 합계 (over the last {self.span_minutes:.0f} min)"
        return f"{what} since {kst_hhmm(self.since)}"


@dataclass(frozen=True)
class ExitEvaluation:
    met: bool
    met_since: datetime | None
    held_minutes: float
    failing: tuple[FailingCondition, ...]
    sentence: str
    verdicts: tuple[tuple[BucketMeasure, tuple[Breach, ...]], ...]
    judged_buckets: int  # buckets in the held run with enough events to judge anything


@dataclass(frozen=True)
class ExitCondition:
    until: datetime
    hold_minutes: int
    lookback_minutes: int
    met: bool
    met_since: datetime | None
    failing: tuple[FailingCondition, ...]
    sentence: str
    buckets: pd.DataFrame  # bucket_start/end (KST), good, breaches + per-condition worst values, for a strip chart
    findings: tuple[Finding, ...]  # only ERROR ones: a condition that could not be measured
    timings: tuple[QueryTiming, ...]

    @property
    def exit_state(self) -> ExitState:
        """For the verdict banner (Page.measure reads it); None when a condition could not be measured."""
        since = self.met_since if self.met else None
        return ExitState(None if self.findings else self.met, self.sentence, since, self.hold_minutes)

    @property
    def first_bad_at(self) -> datetime | None:
        """The earliest 5-minute bucket that failed a condition (the incident page's first detection)."""
        if self.buckets.empty:
            return None
        bad = self.buckets.loc[~self.buckets["good"].astype(bool), "bucket_start"]
        return None if bad.empty else pd.Timestamp(bad.min()).to_pydatetime()


# --- pure evaluation -------------------------------------------------------------------


def bucket_breaches(bucket: BucketMeasure, t: ExitThresholds) -> tuple[Breach, ...]:
    """What is not normal in one bucket; too few events to judge counts as normal."""
    out: list[Breach] = []
    out.extend(rate_breaches(bucket.checkout, bucket.webhook, t))
    for p in bucket.pending:
        if p.stale_pending > 0:
            out.append(Breach(Condition.PG_PENDING, p.provider, float(p.stale_pending)))
    for ledger in bucket.ledger:
        if ledger.stale_uncredited > 0:
            out.append(Breach(Condition.LEDGER_BACKLOG, ledger.provider, float(ledger.stale_uncredited)))
        if (
            ledger.lag_p95_s is not None
            and ledger.lag_n >= t.ledger_lag_min_sample
            and ledger.lag_p95_s > t.ledger_lag_max_s
        ):
            out.append(Breach(Condition.LEDGER_LAG, ledger.provider, ledger.lag_p95_s))
    return tuple(out)


def rate_breaches(
    checkout: Sequence[ProviderCount], webhook: Sequence[ProviderCount], t: ExitThresholds
) -> list[Breach]:
    """PG decline and webhook success rates past their warn levels, where there is enough to judge."""
    out: list[Breach] = []
    for c in checkout:
        rate = pct(c.hits, c.total)
        if rate is not None and t.checkout_judged(c.hits, c.total) and rate > t.checkout_failure_max_pct:
            out.append(Breach(Condition.CHECKOUT, c.provider, rate))
    for w in webhook:
        rate = pct(w.hits, w.total)
        if rate is not None and t.webhook_judged(w.hits, w.total) and rate < t.webhook_success_min_pct:
            out.append(Breach(Condition.WEBHOOK, w.provider, rate))
    return out


def span_breaches(buckets: Sequence[BucketMeasure], t: ExitThresholds) -> list[Breach]:
    """The rate conditions over several buckets together (counts summed per provider)."""

    def summed(parts: Sequence[ProviderCount]) -> list[ProviderCount]:
        totals: dict[str, tuple[int, int]] = {}
        for c in parts:
            hits, n = totals.get(c.provider, (0, 0))
            totals[c.provider] = (hits + c.hits, n + c.total)
        return [ProviderCount(p, hits, n) for p, (hits, n) in totals.items()]

    return rate_breaches(
        summed([c for b in buckets for c in b.checkout]), summed([w for b in buckets for w in b.webhook]), t
    )


def _judged(bucket: BucketMeasure, t: ExitThresholds) -> bool:
    return (
        any(t.checkout_judged(c.hits, c.total) for c in bucket.checkout)
        or any(t.webhook_judged(w.hits, w.total) for w in bucket.webhook)
        or any(ledger.lag_n >= t.ledger_lag_min_sample for ledger in bucket.ledger)
    )


def evaluate_exit(
    buckets: Sequence[BucketMeasure],
    thresholds: ExitThresholds,
    hold_minutes: int,
    until: datetime,
) -> ExitEvaluation:
    ordered = sorted(buckets, key=lambda b: b.start)
    verdicts = tuple((b, bucket_breaches(b, thresholds)) for b in ordered)
    # The current run of all-good buckets, counted back from the latest one.
    run_start: int | None = None
    for i in range(len(verdicts) - 1, -1, -1):
        if verdicts[i][1]:
            break
        run_start = i
    met_since = verdicts[run_start][0].start if run_start is not None else None
    held = (until - met_since).total_seconds() / 60 if met_since is not None else 0.0
    judged = sum(1 for b, _ in verdicts[run_start:] if _judged(b, thresholds)) if run_start is not None else 0
    met = met_since is not None and held >= hold_minutes

    failing: list[FailingCondition] = []
    if run_start is not None:
        # The held span, judged as a whole: buckets too quiet to judge alone can add up to a breach.
        span_from = until - timedelta(minutes=hold_minutes)
        span = [b for b, _ in verdicts[run_start:] if b.end > span_from]
        if span:
            minutes = (until - span[0].start).total_seconds() / 60
            for breach in span_breaches(span, thresholds):
                failing.append(FailingCondition(breach.condition, breach.subject, breach.value, span[0].start, minutes))
            if failing:
                met = False
                judged = max(judged, 1)
    if verdicts and verdicts[-1][1]:
        for breach in verdicts[-1][1]:
            since = verdicts[-1][0].start
            for b, breaches in reversed(verdicts[:-1]):
                if any(x.condition is breach.condition and x.subject == breach.subject for x in breaches):
                    since = b.start
                else:
                    break
            failing.append(FailingCondition(breach.condition, breach.subject, breach.value, since))

    sentence = exit_sentence(met, met_since, held, hold_minutes, tuple(failing), verdicts, judged)
    return ExitEvaluation(met, met_since, held, tuple(failing), sentence, verdicts, judged)


def exit_sentence(
    met: bool,
    met_since: datetime | None,
    held: float,
    hold_minutes: int,
    failing: tuple[FailingCondition, ...],
    verdicts: Sequence[tuple[BucketMeasure, tuple[Breach, ...]]],
    judged: int,
) -> str:
    quiet = (
        " · 단, 판단할 만큼의 결제/웹훅이 없음: 킬 스위치·트래픽 확인 (too few events to judge: check the kill switch)"
        if judged == 0
        else ""
    )
    if met and met_since is not None:
        since = kst_hhmm(met_since)
        return f"종료 조건 충족: {since} 이후 {held:.0f}분 유지 (≥ {hold_minutes}분) (met since {since}){quiet}"
    if failing:
        return "미충족: " + "; ".join(f.text for f in failing) + " (not met)"
    if met_since is None:
        return "미충족: 측정 구간에 정상 구간 없음 (not met)"
    last_bad = next(((b, br) for b, br in reversed(verdicts) if br), None)
    before = ""
    if last_bad is not None:
        bucket, breaches = last_bad
        what = ", ".join(x.condition.describe(x.subject, x.value) for x in breaches)
        before = f" · 직전 실패: {what} at {kst_hhmm(bucket.start)}"
    since = kst_hhmm(met_since)
    return (
        f"미충족: {since} 이후 {held:.0f}분 정상, {hold_minutes}분 유지 필요 "
        f"(not met: good since {since} for {held:.0f} of {hold_minutes} min){before}{quiet}"
    )


# --- measuring -------------------------------------------------------------------------


def _key(value: object) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC") if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC")


def assemble(
    starts: Sequence[datetime],
    until: datetime,
    stages: pd.DataFrame,
    hooks: pd.DataFrame,
    lag: pd.DataFrame,
    backlog: pd.DataFrame,
    pending: pd.DataFrame | None = None,
) -> list[BucketMeasure]:
    """Per-bucket measures from the query frames (rows keyed by bucket_start)."""

    def index(frame: pd.DataFrame) -> dict[tuple[pd.Timestamp, str], dict[str, object]]:
        if frame.empty:
            return {}
        return {(_key(r["bucket_start"]), str(r["provider"])): r for r in frame.to_dict(orient="records")}

    st, wh, lg, bl = index(stages), index(hooks), index(lag), index(backlog)
    pe = index(pending if pending is not None else pd.DataFrame())
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else until
        k = _key(start)
        checkout, webhook, ledger, stuck = [], [], [], []
        for p in PROVIDERS:
            if (k, p) in pe:
                stuck.append(PendingMeasure(p, int(pe[(k, p)]["stale_pending"])))
            if (k, p) in st:
                r = st[(k, p)]
                checkout.append(ProviderCount(p, int(r["failed"]), int(r["failed"]) + int(r["approved"])))
            if (k, p) in wh:
                r = wh[(k, p)]
                webhook.append(ProviderCount(p, int(r["successes"]), int(r["deliveries"])))
            if (k, p) in lg or (k, p) in bl:
                lr = lg.get((k, p), {})
                br = bl.get((k, p), {})
                ledger.append(
                    LedgerMeasure(
                        p,
                        int(br.get("stale_uncredited", 0) or 0),
                        number(lr.get("lag_p95_s")),
                        int(lr.get("paid", 0) or 0),
                    )
                )
        out.append(BucketMeasure(start, end, tuple(checkout), tuple(webhook), tuple(ledger), tuple(stuck)))
    return out


def bucket_frame(evaluation: ExitEvaluation) -> pd.DataFrame:
    records = []
    for bucket, breaches in evaluation.verdicts:
        worst_webhook = min((pct(w.hits, w.total) for w in bucket.webhook if w.total), default=None)
        worst_checkout = max((pct(c.hits, c.total) for c in bucket.checkout if c.total), default=None)
        records.append(
            {
                "bucket_start": bucket.start,
                "bucket_end": bucket.end,
                "good": not breaches,
                "breaches": "; ".join(b.condition.describe(b.subject, b.value) for b in breaches),
                "checkout_failure_pct": worst_checkout,
                "webhook_success_pct": worst_webhook,
                "stale_uncredited": sum(x.stale_uncredited for x in bucket.ledger),
                "pg_pending": sum(x.stale_pending for x in bucket.pending),
                "ledger_lag_p95_s": max((x.lag_p95_s for x in bucket.ledger if x.lag_p95_s is not None), default=None),
            }
        )
    frame = pd.DataFrame(records)
    if not frame.empty:
        for col in ("bucket_start", "bucket_end"):
            frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_convert(KST)
    return frame


def exit_condition(
    conn: Connection,
    until: datetime,
    hold_minutes: int = 30,
    lookback_minutes: int = 180,
    grace_minutes: int = 5,
) -> ExitCondition:
    grace = timedelta(minutes=grace_minutes)
    since = until - timedelta(minutes=lookback_minutes)
    rng = {"since": since, "until": until}
    stages = fetch(conn, "payments.funnel_stages", {**rng, "bucket": BUCKET, "grace": grace})
    hooks = fetch(conn, "payments.webhook_success_buckets", {**rng, "bucket": BUCKET})
    lag = fetch(conn, "payments.ledger_credit_lag", {**rng, "bucket": BUCKET, "grace": grace})
    backlog = fetch(
        conn,
        "payments.ledger_backlog_buckets",
        {**rng, "bucket": BUCKET, "grace": grace, "paid_since": since - BACKLOG_CARRY},
    )
    pending = fetch(
        conn,
        "payments.pg_pending_buckets",
        {**rng, "bucket": BUCKET, "grace": grace, "approved_since": since - BACKLOG_CARRY},
    )
    errors = _errors(stages, hooks, lag, backlog, pending)
    starts = []
    t = since
    while t < until:
        starts.append(t)
        t += BUCKET
    measures = assemble(starts, until, stages.frame, hooks.frame, lag.frame, backlog.frame, pending.frame)
    evaluation = evaluate_exit(measures, ExitThresholds.from_catalogue(), hold_minutes, until)
    sentence = evaluation.sentence
    met = evaluation.met
    if errors:
        # A condition we could not measure is not "normal": never declare the exit met on it,
        # nor print a "met" sentence after the "cannot judge" one.
        met = False
        failed = ", ".join(sorted({f.check.removeprefix("payments.") for f in errors}))
        sentence = f"판정 불가: 종료 조건 일부를 측정하지 못함 ({failed}) (could not measure every exit condition)"
        if evaluation.failing:
            sentence += " · 미충족: " + "; ".join(f.text for f in evaluation.failing)
    return ExitCondition(
        until=until,
        hold_minutes=hold_minutes,
        lookback_minutes=lookback_minutes,
        met=met,
        met_since=evaluation.met_since,
        failing=evaluation.failing,
        sentence=sentence,
        buckets=bucket_frame(evaluation),
        findings=errors,
        timings=timings(stages, hooks, lag, backlog, pending),
    )


def _errors(stages: Fetched, hooks: Fetched, lag: Fetched, backlog: Fetched, pending: Fetched) -> tuple[Finding, ...]:
    feeds = (
        (stages, "payments.checkout_failure_rate"),
        (hooks, "payments.webhook_success_rate"),
        (lag, "payments.ledger_lag_p95"),
        (backlog, "payments.ledger_uncredited"),
        (pending, "payments.pg_paid_db_pending"),
    )
    return tuple(
        checks.error(checks.get(check_id), f.error or "", subject="종료 조건") for f, check_id in feeds if not f.ok
    )

"""Pure logic of the cron page with plain values: cron expressions, due-time matching across
KST and UTC midnights, the exit condition's N-run rule, the reconcile's expected business date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from opslib.cron.detection import match_due_times
from opslib.cron.exit_criteria import judge_job
from opslib.cron.reconcile import expected_business_date
from opslib.cron.schedule import ScheduleError, parse
from opslib.dispatcher import RunOutcome
from opslib.timewindow import KST, Window

M = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- cron expressions -----------------------------------------------------------------------


def test_every_five_minutes_across_utc_midnight() -> None:
    s = parse("*/5 * * * *")
    assert s.due_times(utc(2026, 11, 30, 23, 52), utc(2026, 12, 1, 0, 11)) == [
        utc(2026, 11, 30, 23, 55),
        utc(2026, 12, 1, 0, 0),
        utc(2026, 12, 1, 0, 5),
        utc(2026, 12, 1, 0, 10),
    ]


def test_due_times_are_half_open() -> None:
    s = parse("*/5 * * * *")
    assert s.due_times(utc(2026, 12, 1, 0, 0), utc(2026, 12, 1, 0, 10)) == [
        utc(2026, 12, 1, 0, 0),
        utc(2026, 12, 1, 0, 5),
    ]


def test_hour_range_and_list() -> None:
    s = parse("0 9-11,14 * * *")
    got = s.due_times(utc(2026, 12, 1), utc(2026, 12, 2))
    assert [t.hour for t in got] == [9, 10, 11, 14]


def test_day_of_week_range_skips_the_weekend() -> None:
    s = parse("30 18 * * 1-5")  # 03:30 KST Tue-Sat
    friday = utc(2026, 12, 4, 18, 30)
    assert friday.weekday() == 4
    assert s.next_due(friday) == utc(2026, 12, 7, 18, 30)  # Monday
    assert s.previous_due(utc(2026, 12, 6, 12)) == friday
    assert s.describe_kst() == "요일 1-5 (UTC 기준, KST +1일) 03:30 KST"


def test_named_day_of_week_and_sunday_as_zero_or_seven() -> None:
    assert parse("0 9 * * MON").next_due(utc(2026, 12, 2)) == utc(2026, 12, 7, 9)
    assert parse("0 9 * * 0").next_due(utc(2026, 12, 2)) == parse("0 9 * * 7").next_due(utc(2026, 12, 2))


def test_day_of_month_or_day_of_week_as_vixie_cron() -> None:
    # both restricted: either matches (1 Dec 2026 is a Tuesday; Mondays are 7, 14 ...)
    got = parse("0 0 1 * 1").due_times(utc(2026, 12, 1), utc(2026, 12, 15))
    assert got == [utc(2026, 12, 1), utc(2026, 12, 7), utc(2026, 12, 14)]


def test_pg_cron_extras_last_day_macros_and_seconds() -> None:
    assert parse("0 0 $ * *").next_due(utc(2027, 2, 3)) == utc(2027, 2, 28)
    assert parse("@daily").due_times(utc(2026, 12, 1), utc(2026, 12, 3)) == [utc(2026, 12, 1), utc(2026, 12, 2)]
    interval = parse("30 seconds")
    assert interval.every == timedelta(seconds=30) and interval.due_times(utc(2026, 12, 1), utc(2026, 12, 2)) == []


def test_unreadable_schedules_say_so() -> None:
    with pytest.raises(ScheduleError, match="5-field"):
        parse("* * * *")
    with pytest.raises(ScheduleError, match="cannot be read"):
        parse("61 * * * *")


def test_contract_schedules_in_kst() -> None:
    assert parse("30 18 * * *").describe_kst() == "매일 (daily) 03:30 KST"
    assert parse("* * * * *").describe_kst() == "매분 (every minute)"
    assert parse("17 * * * *").describe_kst() == "매시 17분 (hourly at :17)"
    assert parse("23 19 * * *").describe_kst() == "매일 (daily) 04:23 KST"


def test_cron_timezone_is_honoured() -> None:
    s = parse("30 3 * * *", "Asia/Seoul")  # a database whose cron.timezone was set to KST
    assert s.next_due(utc(2026, 12, 1)) == utc(2026, 12, 1, 18, 30)


# --- missed runs ----------------------------------------------------------------------------


def _missed(frame) -> list[datetime]:
    return [d.to_pydatetime() for d in frame.loc[frame["started_at"].isna(), "due_at"]]


def test_missed_minute_at_kst_midnight() -> None:
    """15:00 UTC is 00:00 KST: the run of that minute is missing, its neighbours are there."""
    s = parse("* * * * *")
    span = Window(utc(2026, 11, 30, 14, 57), utc(2026, 11, 30, 15, 4))
    starts = [utc(2026, 11, 30, 14, m, 0) + timedelta(milliseconds=30) for m in (57, 58, 59)] + [
        utc(2026, 11, 30, 15, m) + timedelta(milliseconds=40) for m in (1, 2, 3)
    ]
    due = match_due_times(s, starts, span, span.until + 2 * M, timedelta(seconds=60))
    assert len(due) == 7
    assert _missed(due) == [utc(2026, 11, 30, 15, 0)]
    assert _missed(due)[0].astimezone(KST).strftime("%Y-%m-%d %H:%M") == "2026-12-01 00:00"


def test_missed_nightly_run_across_utc_midnight() -> None:
    """The 18:30 UTC (03:30 KST) job ran on the 30th, not on the 1st; UTC midnight in between."""
    s = parse("30 18 * * *")
    span = Window(utc(2026, 11, 30, 18), utc(2026, 12, 1, 19))
    due = match_due_times(s, [utc(2026, 11, 30, 18, 30, 0)], span, span.until, timedelta(seconds=60))
    assert list(due["due_at"]) == [utc(2026, 11, 30, 18, 30), utc(2026, 12, 1, 18, 30)]
    assert _missed(due) == [utc(2026, 12, 1, 18, 30)]


def test_midnight_utc_job_run_half_a_second_late_is_on_time() -> None:
    s = parse("0 0 * * *")
    span = Window(utc(2026, 11, 30, 23), utc(2026, 12, 1, 1))
    due = match_due_times(s, [utc(2026, 12, 1) + timedelta(milliseconds=500)], span, span.until, timedelta(seconds=60))
    assert _missed(due) == [] and due["late_s"].iloc[0] == pytest.approx(0.5)


def test_late_run_beyond_tolerance_is_missed_and_cannot_serve_two_due_times() -> None:
    s = parse("* * * * *")
    span = Window(utc(2026, 12, 1, 10), utc(2026, 12, 1, 10, 3))
    # one run, 70 s after 10:00: not on time for 10:00, on time for 10:01; 10:02 has none
    due = match_due_times(s, [utc(2026, 12, 1, 10, 1, 10)], span, span.until + 2 * M, timedelta(seconds=60))
    assert _missed(due) == [utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 10, 2)]


def test_due_times_not_judged_before_their_tolerance_passes() -> None:
    s = parse("* * * * *")
    span = Window(utc(2026, 12, 1, 10), utc(2026, 12, 1, 10, 5))
    due = match_due_times(s, [], span, utc(2026, 12, 1, 10, 2, 30), timedelta(seconds=60))
    assert list(due["due_at"]) == [utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 10, 1)]


# --- the exit condition ---------------------------------------------------------------------


def _due(outcomes: list[RunOutcome | None]) -> list[tuple[datetime, RunOutcome | None, datetime | None]]:
    base = utc(2026, 12, 1, 10)
    return [(base + i * M, o, base + i * M + timedelta(seconds=1) if o else None) for i, o in enumerate(outcomes)]


def test_exit_met_since_the_nth_success_after_the_last_failure() -> None:
    ok, bad = RunOutcome.OK, RunOutcome.HTTP_401
    got = judge_job("scheduled-dispatcher", 5, _due([bad, bad, ok, ok, ok, ok, ok, ok]))
    assert got.met and got.met_since == utc(2026, 12, 1, 10, 6, 1)  # the 5th OK after the 401s


def test_exit_not_met_with_a_failure_or_a_missed_run_among_the_last_n() -> None:
    ok = RunOutcome.OK
    assert not judge_job("d", 5, _due([ok, ok, RunOutcome.TIMEOUT, ok, ok])).met
    missed = judge_job("d", 3, _due([ok, None, ok]))
    assert not missed.met and missed.judgeable and "MISSED" in missed.last


def test_exit_cannot_judge_unknown_or_too_few() -> None:
    ok = RunOutcome.OK
    unknown = judge_job("d", 3, _due([ok, RunOutcome.UNKNOWN, ok]))
    assert not unknown.met and not unknown.judgeable
    few = judge_job("d", 5, _due([ok, ok]))
    assert not few.met and not few.judgeable
    # a trailing run still pending is left out, not counted as a failure
    pending = judge_job("d", 2, _due([ok, ok, RunOutcome.PENDING]))
    assert pending.met


# --- payment-reconcile ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kst_time", "expected"),
    [
        ("2026-12-02T04:59", date(2026, 11, 30)),  # 03:30 + 90 min grace not over: the day before
        ("2026-12-02T05:01", date(2026, 12, 1)),
        ("2026-12-02T00:10", date(2026, 11, 30)),  # just past KST midnight
        ("2026-12-01T23:59", date(2026, 11, 30)),
    ],
)
def test_expected_business_date(kst_time: str, expected: date) -> None:
    at = datetime.fromisoformat(kst_time).replace(tzinfo=KST)
    assert expected_business_date(at, timedelta(minutes=90)) == expected

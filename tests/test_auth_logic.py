"""Pure §3-B logic without a database: answer classes, attack attribution, the exit condition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from opslib.auth import attempts, attribution
from opslib.auth.exit_criteria import ExitRule, LoginBucket, evaluate_exit


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (200, None, attempts.SUCCESS),
        (302, None, attempts.SUCCESS),  # the social callback's redirect back to the app
        (302, "bad_oauth_callback", attempts.PROVIDER),  # a callback error redirects too
        (None, None, attempts.SERVER_ERROR),  # no answer
        (float("nan"), None, attempts.SERVER_ERROR),
        (503, None, attempts.SERVER_ERROR),
        (400, "unexpected_failure", attempts.SERVER_ERROR),
        (429, None, attempts.RATE_LIMITED),
        (400, "over_email_send_rate_limit", attempts.RATE_LIMITED),
        (400, "invalid_credentials", attempts.CREDENTIALS),
        (400, "invalid_grant", attempts.CREDENTIALS),
        (400, "refresh_token_already_used", attempts.SESSION),
        (401, "bad_jwt", attempts.SESSION),
        (400, "provider_disabled", attempts.PROVIDER),
        (422, "validation_failed", attempts.CLIENT_ERROR),
        (400, None, attempts.CLIENT_ERROR),
    ],
)
def test_answer_classes(status, code, expected):
    assert attempts.outcome(status, code) == expected


def _sources(rows):
    return pd.DataFrame(rows, columns=["ip", "attempts", "credential_failures", "failures", "successes", "accounts"])


def test_attack_sources_need_many_credential_failures_and_few_successes():
    frame = _sources(
        [
            ("45.133.1.10", 200, 200, 200, 0, 0),  # stuffing, accounts unknown
            ("10.0.0.1", 40, 25, 25, 15, 30),  # an office NAT: many users, many successes, spread over accounts
            ("10.0.0.2", 40, 25, 25, 15, 2),  # a busy NAT, few accounts, many successes: not an attack
            ("1.2.3.4", 19, 19, 19, 0, 19),  # below the count
            ("5.6.7.8", 60, 0, 60, 0, 60),  # 60 server errors from one IP: an outage's retries, never an attack
            (None, 500, 500, 500, 0, 0),  # no IP in the drain: cannot be attributed
        ]
    )
    flagged = set(attribution.attack_sources(frame)["ip"])
    assert flagged == {"45.133.1.10", "10.0.0.1"}


def test_hammering_counts_a_users_own_wrong_passwords_only():
    users = pd.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "credential_failures": [12, 12, 0],
            "own_failures": [12, 3, 40],  # b's failures came from an attack source; c's are server errors
        }
    )
    assert list(attribution.hammering_users(users)["user_id"]) == ["a"]


T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 10:00 KST


def _buckets(*counts: tuple[int, int]) -> list[LoginBucket]:
    return [
        LoginBucket(T0 + i * timedelta(minutes=5), T0 + (i + 1) * timedelta(minutes=5), n, f)
        for i, (n, f) in enumerate(counts)
    ]


RULE = ExitRule(min_success_pct=95, min_sample=10, min_failures=3, hold_minutes=10)


def test_met_since_the_first_good_bucket_after_the_outage():
    buckets = _buckets((40, 30), (40, 20), (40, 1), (40, 0), (40, 1))
    ev = evaluate_exit(buckets, RULE, T0 + timedelta(minutes=25))
    assert ev.met and ev.met_since == T0 + timedelta(minutes=10)
    assert "met since 10:10" in ev.sentence


def test_not_met_before_the_hold_time():
    buckets = _buckets((40, 30), (40, 30), (40, 30), (40, 0))
    ev = evaluate_exit(buckets, RULE, T0 + timedelta(minutes=20))
    assert not ev.met and "5 of 10 min" in ev.sentence


def test_quiet_buckets_add_up_to_a_breach_over_the_span():
    # 2 of 6 failing in each bucket: no bucket alone is judged, the 10 minutes are (4 failures)
    buckets = _buckets((6, 2), (6, 2), (6, 2))
    ev = evaluate_exit(buckets, RULE, T0 + timedelta(minutes=15))
    assert not ev.met and "66.7%" in ev.sentence


def test_a_quiet_span_is_met_with_one_typo_at_most():
    ev = evaluate_exit(_buckets((3, 0), (2, 0), (2, 1)), RULE, T0 + timedelta(minutes=15))
    assert ev.met and "few attempts" in ev.sentence
    ev = evaluate_exit(_buckets((3, 0), (2, 1), (2, 1)), RULE, T0 + timedelta(minutes=15))
    assert not ev.met and "판단 보류" in ev.sentence
    ev = evaluate_exit(_buckets((0, 0), (0, 0), (0, 0)), RULE, T0 + timedelta(minutes=15))
    assert not ev.met, "no login at all is not a recovered login page"


def test_the_catalogue_holds_the_runbook_rule():
    rule = ExitRule.from_catalogue()
    assert (rule.min_success_pct, rule.hold_minutes) == (95, 10)
    # one wrong password among the fewest attempts judged never breaks 95 % on its own
    assert not rule.bad(LoginBucket(T0, T0 + timedelta(minutes=5), rule.min_sample, 1))
    assert rule.bad(LoginBucket(T0, T0 + timedelta(minutes=5), 4, 3)), "3 failures at a quiet hour are an outage"

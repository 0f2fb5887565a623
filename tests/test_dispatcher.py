"""opslib.dispatcher: cron runs linked to their pg_net outcome, and the cron-secret digest comparison.

Pure tests of the linking rule on plain frames, then real databases written by hand on the
contract: request ids come from the contract's own `invoke_edge_function` (→ `net.http_post`),
the runs and responses are the rows pg_cron and the pg_net worker would write.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest

from opslib import db, dispatcher
from opslib.dispatcher import Coverage, JobKind, RunOutcome, SecretStatus, command_target, link_runs
from opslib.results import Outcome, Severity
from opslib.timewindow import Window

DISPATCH = "SELECT public.invoke_edge_function('scheduled-dispatcher', '{\"batch\": 200}'::jsonb)"
RECONCILE = (
    "SELECT public.invoke_edge_function('payment-reconcile', jsonb_build_object('business_date', "
    "(now() AT TIME ZONE 'Asia/Seoul')::date - 1), 60000)"
)
T0 = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)


# --- what a command calls -------------------------------------------------------------------


def test_command_target_reads_the_contract_commands() -> None:
    assert command_target(DISPATCH) == dispatcher.CommandTarget(JobKind.EDGE, "scheduled-dispatcher", None)
    assert command_target(RECONCILE) == dispatcher.CommandTarget(JobKind.EDGE, "payment-reconcile", 60000)
    assert command_target("DELETE FROM public.rate_limits WHERE window_start < now() - interval '1 day'").kind is (
        JobKind.SQL
    )
    named = "select invoke_edge_function(p_name := 'x-fn', p_timeout_ms := 9000)"
    assert command_target(named) == dispatcher.CommandTarget(JobKind.EDGE, "x-fn", 9000)
    direct = "select net.http_post(url := 'https://p.supabase.co/functions/v1/other', timeout_milliseconds := 1500)"
    assert command_target(direct) == dispatcher.CommandTarget(JobKind.EDGE, "other", 1500)


@pytest.mark.parametrize(
    ("code", "timed_out", "msg", "expected"),
    [
        (200, False, None, RunOutcome.OK),
        (204, False, None, RunOutcome.OK),
        (401, False, None, RunOutcome.HTTP_401),
        (503, False, None, RunOutcome.HTTP_5XX),
        (404, False, None, RunOutcome.HTTP_OTHER),
        (None, True, "Timeout of 30000 ms reached. Total time: 30001.2 ms", RunOutcome.TIMEOUT),
        (None, None, "Timeout of 5000 ms reached", RunOutcome.TIMEOUT),
        (None, False, "Couldn't resolve host name", RunOutcome.NETWORK_ERROR),
    ],
)
def test_http_outcome(code, timed_out, msg, expected) -> None:
    assert dispatcher.http_outcome(code, timed_out, msg) is expected


# --- the linking rule on plain frames -------------------------------------------------------


def _runs(*rows: tuple[int, str, str, datetime]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "runid": rid,
                "jobname": job,
                "status": status,
                "start_time": at,
                "command": DISPATCH if job == "scheduled-dispatcher" else RECONCILE,
            }
            for rid, job, status, at in rows
        ]
    )


def _responses(*rows: tuple[int, int | None, datetime]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "request_id": rid,
                "status_code": code,
                "timed_out": code is None,
                "error_msg": "Timeout of 30000 ms reached" if code is None else None,
                "created": at,
            }
            for rid, code, at in rows
        ],
        columns=["request_id", "status_code", "timed_out", "error_msg", "created"],
    )


def _cov(now: datetime, since: datetime | None = None) -> Coverage:
    return Coverage(db_now=now, since=since or now - timedelta(hours=6), ttl=timedelta(hours=6))


def _outcomes(frame: pd.DataFrame) -> list[RunOutcome]:
    return list(frame["outcome"])


def test_in_order_runs_get_their_own_responses() -> None:
    m = timedelta(minutes=1)
    runs = _runs(*[(i, "scheduled-dispatcher", "succeeded", T0 + i * m) for i in range(4)])
    resp = _responses(
        (10, 200, T0 + timedelta(seconds=0.4)),
        (11, 401, T0 + m + timedelta(seconds=0.3)),
        (12, None, T0 + 2 * m + timedelta(seconds=30)),
        (13, 500, T0 + 3 * m + timedelta(seconds=1)),
    )
    out = link_runs(runs, resp, _cov(T0 + 10 * m))
    assert list(out["request_id"]) == [10, 11, 12, 13]
    assert _outcomes(out) == [RunOutcome.OK, RunOutcome.HTTP_401, RunOutcome.TIMEOUT, RunOutcome.HTTP_5XX]


def test_a_response_from_another_caller_before_the_run_is_skipped() -> None:
    runs = _runs((1, "scheduled-dispatcher", "succeeded", T0))
    resp = _responses((5, 500, T0 - timedelta(seconds=3)), (6, 200, T0 + timedelta(seconds=1)))
    out = link_runs(runs, resp, _cov(T0 + timedelta(minutes=5)))
    assert list(out["request_id"]) == [6]
    assert _outcomes(out) == [RunOutcome.OK]


def test_missing_response_pending_no_response_and_older_than_retention() -> None:
    m = timedelta(minutes=1)
    now = T0 + 10 * m
    runs = _runs(
        (1, "scheduled-dispatcher", "succeeded", now - timedelta(hours=7)),  # before pg_net's TTL
        (2, "scheduled-dispatcher", "succeeded", now - 5 * m),  # well past its timeout
        (3, "scheduled-dispatcher", "succeeded", now - timedelta(seconds=10)),  # still within it
        (4, "scheduled-dispatcher", "failed", now - 3 * m),
        (5, "scheduled-dispatcher", "running", now - 2 * m),
    )
    out = link_runs(runs, _responses(), _cov(now))
    assert _outcomes(out) == [
        RunOutcome.UNKNOWN,
        RunOutcome.NO_RESPONSE,
        RunOutcome.CRON_FAILED,
        RunOutcome.RUNNING,
        RunOutcome.PENDING,
    ]


def test_oldest_response_held_bounds_what_can_be_judged() -> None:
    """After a failover the UNLOGGED table is empty: runs before the oldest response are UNKNOWN."""
    m = timedelta(minutes=1)
    now = T0 + 30 * m
    runs = _runs((1, "scheduled-dispatcher", "succeeded", T0), (2, "scheduled-dispatcher", "succeeded", T0 + 20 * m))
    resp = _responses((40, 200, T0 + 20 * m + timedelta(seconds=1)))
    out = link_runs(runs, resp, _cov(now, since=T0 + 20 * m + timedelta(seconds=1)))
    assert _outcomes(out) == [RunOutcome.UNKNOWN, RunOutcome.OK]


def test_tie_with_different_outcomes_is_settled_by_function_logs() -> None:
    """dispatcher and reconcile both fire at 18:30 UTC; their ids do not say which is which."""
    runs = _runs(
        (1, "scheduled-dispatcher", "succeeded", T0 + timedelta(milliseconds=8)),
        (2, "payment-reconcile", "succeeded", T0 + timedelta(milliseconds=20)),
    )
    # the reconcile drew the lower id: greedy order alone would give the 500 to the dispatcher
    resp = _responses((7, 500, T0 + timedelta(seconds=2)), (8, 200, T0 + timedelta(seconds=3)))
    logs = pd.DataFrame(
        [
            {"function_name": "payment-reconcile", "timestamp": T0 + timedelta(seconds=2), "status_code": 500},
            {"function_name": "scheduled-dispatcher", "timestamp": T0 + timedelta(seconds=3), "status_code": 200},
        ]
    )
    now = T0 + timedelta(minutes=10)
    out = link_runs(runs, resp, _cov(now), invocations=logs)
    assert dict(zip(out["jobname"], _outcomes(out), strict=True)) == {
        "scheduled-dispatcher": RunOutcome.OK,
        "payment-reconcile": RunOutcome.HTTP_5XX,
    }
    assert dict(zip(out["jobname"], out["request_id"], strict=True)) == {
        "scheduled-dispatcher": 8,
        "payment-reconcile": 7,
    }
    # without the functions' log the page cannot know: both UNKNOWN, never OK
    blind = link_runs(runs, resp, _cov(now))
    assert _outcomes(blind) == [RunOutcome.UNKNOWN, RunOutcome.UNKNOWN]


def test_tie_with_equal_outcomes_needs_no_settling() -> None:
    runs = _runs(
        (1, "scheduled-dispatcher", "succeeded", T0 + timedelta(milliseconds=8)),
        (2, "payment-reconcile", "succeeded", T0 + timedelta(milliseconds=20)),
    )
    resp = _responses((7, 401, T0 + timedelta(seconds=1)), (8, 401, T0 + timedelta(seconds=1)))
    out = link_runs(runs, resp, _cov(T0 + timedelta(minutes=10)))
    assert _outcomes(out) == [RunOutcome.HTTP_401, RunOutcome.HTTP_401]


def test_a_lost_response_next_to_a_fitting_one_is_ambiguous() -> None:
    """Two runs close together, one response: which run lost its answer is unknown."""
    runs = _runs(
        (1, "payment-reconcile", "succeeded", T0),
        (2, "scheduled-dispatcher", "succeeded", T0 + timedelta(seconds=5)),
    )
    resp = _responses((7, 200, T0 + timedelta(seconds=6)))
    out = link_runs(runs, resp, _cov(T0 + timedelta(minutes=10)))
    assert _outcomes(out) == [RunOutcome.UNKNOWN, RunOutcome.UNKNOWN]


# --- real databases written by hand ---------------------------------------------------------


def _exec(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _edge_run(url: str, job: str, at: datetime, response: tuple[int | None, float] | None, status: str = "succeeded"):
    """One scheduled call as production makes it: the contract's invoke_edge_function draws the
    request id, pg_cron writes the run, pg_net's worker the response (status, seconds later)."""
    with psycopg.connect(url, autocommit=True) as conn:
        jobid, command = conn.execute("SELECT jobid, command FROM cron.job WHERE jobname = %s", (job,)).fetchone()
        (req,) = conn.execute(command).fetchone()
        conn.execute(
            "INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status, return_message,"
            " start_time, end_time) VALUES (%s, 4242, current_database(), 'postgres', %s, %s, '1 row', %s, %s)",
            (jobid, command, status, at, at + timedelta(milliseconds=30)),
        )
        if response is not None:
            code, after = response
            conn.execute(
                "INSERT INTO net._http_response (id, status_code, timed_out, error_msg, created)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    req,
                    code,
                    code is None,
                    None if code is not None else "Timeout of 30000 ms reached. Total time: 30000.9 ms",
                    at + timedelta(seconds=after),
                ),
            )
    return req


def test_job_runs_on_a_hand_built_database(contract_db) -> None:
    now = _exec(contract_db.admin, "SELECT now()")[0][0]
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=10)
    plan = [(200, 0.4), (200, 0.5), (401, 0.3), (401, 0.3), None, (None, 30.2), (500, 1.1), (200, 0.4)]
    for i, resp in enumerate(plan):
        _edge_run(contract_db.admin, "scheduled-dispatcher", start + timedelta(minutes=i), resp)
    window = Window(start - timedelta(minutes=1), now + timedelta(minutes=1))
    with db.read_only(contract_db.reader, "cron") as conn:
        result = dispatcher.job_runs(conn, "scheduled-dispatcher", window)
        sql_job = dispatcher.job_runs(conn, "rate-limits-cleanup", window)
        gone = dispatcher.job_runs(conn, "no-such-job", window)
    assert result.found and result.kind is JobKind.EDGE and result.function == "scheduled-dispatcher"
    assert _outcomes(result.runs) == [
        RunOutcome.OK,
        RunOutcome.OK,
        RunOutcome.HTTP_401,
        RunOutcome.HTTP_401,
        RunOutcome.NO_RESPONSE,
        RunOutcome.TIMEOUT,
        RunOutcome.HTTP_5XX,
        RunOutcome.OK,
    ]
    assert result.counts[RunOutcome.HTTP_401] == 2 and result.failed == 5 and result.judged == 8
    (http,) = [f for f in result.findings if f.check == "cron.http_failures"]
    assert http.outcome is Outcome.WARN and http.value == 5  # the latest run answered 200: recovered
    assert list(result.table.columns) == dispatcher.DISPLAY_COLUMNS
    assert str(result.table["start_time"].dt.tz) == "Asia/Seoul"
    assert sql_job.kind is JobKind.SQL and sql_job.runs.empty
    assert all(f.outcome is Outcome.OK for f in sql_job.findings)
    assert not gone.found and gone.findings[0].outcome is Outcome.CRITICAL


def test_job_runs_ongoing_401_is_critical_at_the_jobs_severity(contract_db) -> None:
    now = _exec(contract_db.admin, "SELECT now()")[0][0]
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=4)
    for i in range(3):
        _edge_run(contract_db.admin, "scheduled-dispatcher", start + timedelta(minutes=i), (401, 0.2))
    with db.read_only(contract_db.reader, "cron") as conn:
        result = dispatcher.job_runs(conn, "scheduled-dispatcher", Window(start, now + timedelta(seconds=1)))
    (http,) = [f for f in result.findings if f.check == "cron.http_failures"]
    assert http.outcome is Outcome.CRITICAL and http.severity is Severity.P1 and http.value == 3


def test_job_runs_on_an_empty_contract_database(contract_db) -> None:
    now = datetime.now(UTC)
    with db.read_only(contract_db.reader, "cron") as conn:
        result = dispatcher.job_runs(conn, "scheduled-dispatcher", Window(now - timedelta(hours=1), now))
    assert result.found and result.runs.empty and result.counts == {}
    assert all(f.outcome is Outcome.OK for f in result.findings)


# --- the cron secret ------------------------------------------------------------------------

SECRET = "cron-secret-for-tests-3f9a1c"  # what the dashboard would hold; never printed


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _set_vault_secret(url: str, value: str) -> None:
    _exec(
        url,
        "SELECT vault.update_secret(id, new_secret := %s) FROM vault.secrets WHERE name = 'cron_secret'",
        (value,),
    )


def test_secret_match_mismatch_and_prefix_only(contract_db) -> None:
    _set_vault_secret(contract_db.admin, SECRET)
    with db.read_only(contract_db.reader, "cron") as conn:
        same = dispatcher.compare_cron_secret(conn, environ={dispatcher.EDGE_SECRET_ENV: _sha(SECRET).upper()})
        other = dispatcher.compare_cron_secret(conn, environ={dispatcher.EDGE_SECRET_ENV: _sha(SECRET + "-rotated")})
    assert same.status is SecretStatus.MATCH and same.finding.outcome is Outcome.OK
    assert same.vault_prefix == _sha(SECRET)[:8] == same.edge_prefix
    assert other.status is SecretStatus.MISMATCH
    assert other.finding.outcome is Outcome.CRITICAL and other.finding.severity is Severity.P1
    for result in (same, other):
        text = repr(result) + result.table.to_string()
        assert SECRET not in text and _sha(SECRET) not in text and _sha(SECRET + "-rotated") not in text


def test_secret_not_evaluated_names_the_missing_credential(contract_db) -> None:
    with db.read_only(contract_db.reader, "cron") as conn:
        no_env = dispatcher.compare_cron_secret(conn, environ={})
        bad_env = dispatcher.compare_cron_secret(conn, environ={dispatcher.EDGE_SECRET_ENV: "not-a-digest"})
    assert no_env.status is SecretStatus.NOT_EVALUATED and no_env.finding.outcome is Outcome.NOT_EVALUATED
    assert dispatcher.EDGE_SECRET_ENV in no_env.detail and "CRON_SECRET" in no_env.detail
    assert no_env.vault_prefix is not None  # the Vault side was still read (as a digest)
    assert bad_env.status is SecretStatus.NOT_EVALUATED and "not a 64-character" in bad_env.detail

    # the grant is the credential: without EXECUTE on the digest function the Vault side is unknown
    _exec(contract_db.admin, "REVOKE EXECUTE ON FUNCTION opsbook.cron_secret_sha256() FROM opsbook_reader")
    with db.read_only(contract_db.reader, "cron") as conn:
        no_grant = dispatcher.compare_cron_secret(conn, environ={dispatcher.EDGE_SECRET_ENV: _sha(SECRET)})
        # and the reader really cannot read vault by itself
        with pytest.raises(Exception, match="permission denied"):
            conn.exec_driver_sql("SELECT decrypted_secret FROM vault.decrypted_secrets")
    assert no_grant.status is SecretStatus.NOT_EVALUATED
    assert "opsbook.cron_secret_sha256()" in no_grant.detail and no_grant.finding.outcome is Outcome.NOT_EVALUATED

    _exec(contract_db.admin, "DROP FUNCTION opsbook.cron_secret_sha256()")
    with db.read_only(contract_db.reader, "cron") as conn:
        absent = dispatcher.compare_cron_secret(conn, environ={dispatcher.EDGE_SECRET_ENV: _sha(SECRET)})
    assert absent.status is SecretStatus.NOT_EVALUATED and "roles.sql" in absent.detail


def test_secret_missing_from_vault_is_critical(contract_db) -> None:
    _exec(contract_db.admin, "DELETE FROM vault.secrets WHERE name = 'cron_secret'")
    with db.read_only(contract_db.reader, "cron") as conn:
        result = dispatcher.compare_cron_secret(conn, environ={dispatcher.EDGE_SECRET_ENV: _sha(SECRET)})
    assert result.status is SecretStatus.VAULT_MISSING and result.finding.outcome is Outcome.CRITICAL

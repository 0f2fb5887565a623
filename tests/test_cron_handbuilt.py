"""Hand-built incident databases for the cron page, written on the bare contract (no seeder).

Every row goes in the way production writes it: jobs through cron.schedule / cron.unschedule,
request ids through the contract's own invoke_edge_function (→ net.http_post), runs as pg_cron
writes job_run_details, responses as pg_net's worker writes _http_response, secrets through
vault.update_secret. The expected verdict of each round was written from the runbook (§3-F and
the contract's facts) BEFORE the page ran; the defects the rounds found are regression tests here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from opslib import cron, db, runner
from opslib.dispatcher import RunOutcome
from opslib.results import Outcome, Severity, Verdict
from opslib.timewindow import Window

DISPATCH_JOB = "scheduled-dispatcher"


class Hand:
    """Writes contract rows as pg_cron, pg_net and the function logs would."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        cur = self.conn.execute(statement, params)
        return cur.fetchall() if cur.description else []

    def run(
        self,
        job: str,
        at: datetime,
        *,
        status: str = "succeeded",
        response: tuple[int | None, float] | None = (200, 0.4),
        seconds: float = 0.03,
        message: str | None = "1 row",
    ) -> int | None:
        (jobid, command) = self.sql("SELECT jobid, command FROM cron.job WHERE jobname = %s", (job,))[0]
        req = None
        if "invoke_edge_function" in command and status == "succeeded":
            req = self.sql(command)[0][0]  # the contract's own function draws the request id
        end = None if status == "running" else at + timedelta(seconds=seconds)
        self.sql(
            "INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status, return_message,"
            " start_time, end_time) VALUES (%s, NULL, current_database(), 'postgres', %s, %s, %s, %s, %s)",
            (jobid, command, status, message, at, end),
        )
        if req is not None and response is not None:
            code, after = response
            self.sql(
                "INSERT INTO net._http_response (id, status_code, timed_out, error_msg, created)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    req,
                    code,
                    code is None,
                    None if code else "Timeout of 30000 ms reached",
                    at + timedelta(seconds=after),
                ),
            )
        return req

    def invocation(self, fn: str, at: datetime, code: int, ms: int = 120) -> None:
        self.sql(
            'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,'
            " execution_time_ms, execution_id, deployment_version, event_message)"
            " VALUES (gen_random_uuid(), %s, %s, 'POST', %s, %s, gen_random_uuid()::text, %s, 'POST')",
            (at, fn, code, ms, f"{fn}@v1"),
        )


def _findings(result) -> dict[str, object]:
    return {f.key: f for f in result.findings}


# --- round 1: quiet night, dispatcher 401 for the last 12 minutes, no function logs drained -----
# Expected from the runbook before running: the dispatcher's runs all say `succeeded`, but the last
# 12 minutes got 401 → cron.http_failures[scheduled-dispatcher] CRITICAL P1 (ongoing); the secret
# digests differ (Vault rotated, Edge not) → cron.secret_digest CRITICAL P1; no function log was
# drained → cron.function_status NOT_EVALUATED (never "no errors"); the nightly jobs did run;
# exit condition not met (the last 5 due times are all 401). Verdict FAIL.


@pytest.fixture
def round1(contract_db):
    h = Hand(contract_db.admin)
    now = h.sql("SELECT now()")[0][0]
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=61)
    h.sql(
        "SELECT vault.update_secret(id, new_secret := 'rotated-vault-only')"
        " FROM vault.secrets WHERE name = 'cron_secret'"
    )
    for i in range(62):
        at = start + timedelta(minutes=i, milliseconds=25)
        if at > now - timedelta(seconds=1):
            break
        h.run(DISPATCH_JOB, at, response=(200 if i < 49 else 401, 0.3))
    # the nightly and hourly jobs ran at their last due times (SQL jobs: their command tag)
    for job, hh, mm in (
        ("payment-reconcile", 18, 30),
        ("idempotency-keys-cleanup", 19, 23),
        ("cron-history-cleanup", 19, 41),
    ):
        due = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        due = due if due <= now else due - timedelta(days=1)
        h.run(
            job,
            due + timedelta(milliseconds=40),
            response=(200, 20),
            message="1 row" if "reconcile" in job else "DELETE 0",
        )
    hourly = now.replace(minute=17, second=0, microsecond=0)
    hourly = hourly if hourly <= now - timedelta(minutes=1) else hourly - timedelta(hours=1)
    h.run("rate-limits-cleanup", hourly + timedelta(milliseconds=30), message=None)  # return_message may be NULL
    h.conn.close()
    return contract_db, now


def test_round1_detect_and_secret(round1, monkeypatch) -> None:
    import hashlib

    contract_db, now = round1
    window = Window(now - timedelta(minutes=60), now)
    with db.read_only(contract_db.reader, "cron") as conn:
        d = cron.detect(conn, window)
        fv = cron.function_view(conn, window)
        ex = cron.exit_condition(conn, d)
        edge = hashlib.sha256(b"the-edge-secret").hexdigest()
        sec = cron.compare_cron_secret(conn, environ={"OPSBOOK_EDGE_CRON_SECRET_SHA256": edge})
    f = {x.key: x for x in d.findings}
    assert f["cron.http_failures[scheduled-dispatcher]"].outcome is Outcome.CRITICAL
    assert f["cron.http_failures[scheduled-dispatcher]"].severity is Severity.P1
    dispatcher_runs = d.health(DISPATCH_JOB).runs
    assert (dispatcher_runs["outcome"] == RunOutcome.HTTP_401).sum() in (12, 13)  # the last 12 minutes
    assert f["cron.missed_runs[scheduled-dispatcher]"].outcome is Outcome.OK
    assert f["cron.runs_failed[rate-limits-cleanup]"].outcome is Outcome.OK
    assert sec.finding.outcome is Outcome.CRITICAL
    drained = [x for x in fv.findings if x.check == "cron.function_status"]
    assert drained and all(x.outcome is Outcome.NOT_EVALUATED for x in drained), [(x.key, x.outcome) for x in drained]
    assert not ex.met and "scheduled-dispatcher" in ex.sentence


def test_round1_whole_page(round1, tmp_path) -> None:
    contract_db, now = round1
    result = runner.run("cron", {"until": now.isoformat()}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    f = _findings(result)
    assert f["cron.http_failures[scheduled-dispatcher]"].severity is Severity.P1
    assert not [x for x in result.findings if x.outcome is Outcome.ERROR]


# --- round 2: the 18:30 UTC tie, a renamed reconcile, a failing SQL cleanup -------------------
# Expected from the runbook/contract before running: at 18:30 UTC the dispatcher and the reconcile
# start within milliseconds; the reconcile drew the LOWER request id and answered 500, the
# dispatcher 200. Both functions' logs were drained: the page must say reconcile HTTP_5XX and
# dispatcher OK (not the other way round, which request-id order alone would give).
# The reconcile job was re-created under another name with the same command: registry WARN
# (renamed), its runs still count. rate-limits-cleanup failed at its last run with an error:
# cron.runs_failed CRITICAL P3. Verdict: FAIL (reconcile 5xx ongoing: P2 CRITICAL, plus the P3 ones,
# more than two issues).

T = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)


@pytest.fixture
def round2(contract_db):
    h = Hand(contract_db.admin)
    command = h.sql("SELECT command FROM cron.job WHERE jobname = 'payment-reconcile'")[0][0]
    h.sql("SELECT cron.unschedule('payment-reconcile')")
    h.sql("SELECT cron.schedule('payment-reconcile-nightly', '30 18 * * *', %s)", (command,))
    # the dispatcher every minute from 18:00 to 18:45, reconcile at 18:30
    for i in range(-30, 16):
        at = T + timedelta(minutes=i, milliseconds=30)
        if i == 0:
            # reconcile first (lower id), 8 ms before the dispatcher by start_time
            h.run("payment-reconcile-nightly", T + timedelta(milliseconds=22), response=(500, 4.0))
            h.run(DISPATCH_JOB, at, response=(200, 0.5))
            h.invocation("payment-reconcile", T + timedelta(seconds=4), 500, ms=3900)
            h.invocation(DISPATCH_JOB, at + timedelta(milliseconds=450), 200)
            continue
        h.run(DISPATCH_JOB, at, response=(200, 0.4))
        h.invocation(DISPATCH_JOB, at + timedelta(milliseconds=350), 200)
    h.run(
        "rate-limits-cleanup",
        T.replace(minute=17) + timedelta(milliseconds=30),
        status="failed",
        message="ERROR:  permission denied for table rate_limits",
    )
    h.conn.close()
    return contract_db


def test_round2_tie_is_settled_by_the_function_logs(round2) -> None:
    window = Window(T - timedelta(minutes=20), T + timedelta(minutes=15))
    with db.read_only(round2.reader, "cron") as conn:
        d = cron.detect(conn, window)
    reco = d.health("payment-reconcile")
    assert reco.job.jobname == "payment-reconcile-nightly"
    assert list(reco.runs["outcome"]) == [RunOutcome.HTTP_5XX]
    disp = d.health(DISPATCH_JOB).runs
    at_1830 = disp[disp["start_time"] == T + timedelta(milliseconds=30)]
    assert list(at_1830["outcome"]) == [RunOutcome.OK]
    assert (disp["outcome"] == RunOutcome.OK).all()
    f = {x.key: x for x in d.findings}
    assert f["cron.http_failures[payment-reconcile]"].outcome is Outcome.CRITICAL
    assert f["cron.http_failures[payment-reconcile]"].severity is Severity.P2
    assert f["cron.runs_failed[rate-limits-cleanup]"].outcome is Outcome.CRITICAL
    reg = {x.key: x for x in d.registry.findings}
    assert reg["cron.job_registered[payment-reconcile]"].outcome is Outcome.WARN
    assert "renamed" in reg["cron.job_registered[payment-reconcile]"].detail


def test_round2_whole_page(round2, tmp_path) -> None:
    params = {"since": (T - timedelta(minutes=20)).isoformat(), "until": (T + timedelta(minutes=15)).isoformat()}
    result = runner.run("cron", params, database_url=round2.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    f = _findings(result)
    assert f["cron.function_status[payment-reconcile]"].outcome is Outcome.CRITICAL
    assert f["cron.http_failures[scheduled-dispatcher]"].outcome is Outcome.OK

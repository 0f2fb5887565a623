"""Hand-built post-deploy databases on the bare contract (no seeder).

The log tables are written the way the team's log drain writes them (one row per invocation or
request, the hot fields lifted into columns, the raw document in `metadata`); CI's deploy record
goes into ops_audit_log as CI writes it. The expected outcome of each case was written from the
runbook (§2 and the contract's facts) BEFORE the page ran; the defects found are regression
tests here. Most cases are the page's step functions on the real database (fast); one goes
through the whole notebook.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest

from opslib import db, deploy, runner
from opslib.deploy.rollback import rollback_advice
from opslib.results import Outcome, Severity, Verdict
from opslib.timewindow import Window

FN = "payment-webhook"


class Drain:
    """Writes logs.* rows as the log drain does, and CI's deploy record."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        (self.now,) = self.conn.execute("SELECT date_trunc('second', now())").fetchone()

    def invocation(
        self,
        at: datetime,
        *,
        fn: str = FN,
        status: int | None = 200,
        version: str | None = "v1",
        meta_version: str | None = None,
        boot: int | None = None,
    ) -> None:
        meta = {"version": meta_version} if meta_version else {}
        self.conn.execute(
            'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,'
            " execution_time_ms, boot_time_ms, execution_id, deployment_version, event_message, metadata)"
            " VALUES (%s, %s, %s, 'POST', %s, 120, %s, %s, %s, %s, %s)",
            (uuid.uuid4(), at, fn, status, boot, uuid.uuid4().hex, version, f"POST | {status}", json.dumps(meta)),
        )

    def request(self, at: datetime, path: str, status: int | None) -> None:
        self.conn.execute(
            'INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code, user_id, client_platform,'
            " request_id, event_message, metadata)"
            " VALUES (%s, %s, 'GET', %s, %s, %s, 'web', %s, %s, %s)",
            (
                uuid.uuid4(),
                at,
                path,
                status,
                uuid.uuid4(),
                uuid.uuid4().hex[:16],
                f"GET | {status} | {path}",
                json.dumps({"request": {"path": path}, "response": {"status_code": status}}),
            ),
        )

    def every(self, start: datetime, minutes: int, n: int):
        step = timedelta(minutes=minutes) / n
        return [start + step * i + timedelta(seconds=1) for i in range(n)]

    def close(self) -> None:
        self.conn.close()


def measure(url: str, deploy_at: datetime | None, until: datetime, functions: str = ""):
    window = Window(until - timedelta(minutes=90), until)
    with db.read_only(url, "deploy") as conn:
        dep = deploy.what_changed(conn, window, deploy_at.isoformat() if deploy_at else "", functions, 30, "")
        fns = deploy.compare_functions(conn, dep)
        gw = deploy.compare_gateway(conn, dep)
        logs = deploy.compare_logs(conn, dep) if dep.after else None
        advice = rollback_advice(conn, dep, fns, gw)
    return dep, fns, gw, logs, advice


def _one(found, check, subject=None):
    hits = [f for f in found if f.check == check and (subject is None or f.subject == subject)]
    assert len(hits) == 1, [(f.key, f.outcome) for f in found]
    return hits[0]


# --- case 1: a quiet hour, 1 error before and 2 after -----------------------------------------------
# Expected from the runbook before running: payment-webhook v1 → v2 at T; 30 calls in the 30 minutes
# before (1 answered 500) and 30 after (2 answered 500). 2/30 = 6.7 % is over the 5 % floor, but
# "twice as many" on a quiet hour is noise: Fisher's exact test p ≈ 0.5 → OK, nothing fires.


def test_quiet_hour_one_error_before_two_after_is_not_a_regression(contract_db):
    d = Drain(contract_db.admin)
    at = d.now - timedelta(minutes=30)
    for i, t in enumerate(d.every(at - timedelta(minutes=30), 30, 30)):
        d.invocation(t, status=500 if i == 7 else 200, version="v1")
    for i, t in enumerate(d.every(at, 30, 30)):
        d.invocation(t, status=500 if i in (3, 20) else 200, version="v2")
    d.close()
    dep, fns, _, _, advice = measure(contract_db.reader, at, d.now + timedelta(seconds=5))
    assert dep.changed and dep.changed[0].previous == "v1" and dep.changed[0].new == ("v2",)
    five = _one(fns.findings, "deploy.function_5xx", FN)
    assert five.outcome is Outcome.OK and five.value == pytest.approx(6.667, abs=0.01)
    assert "Fisher exact p = 0.5" in five.detail and "not significantly worse" in five.detail
    assert advice.first is None and advice.mitigation is None


def test_the_same_two_errors_with_none_before_on_a_busy_hour_still_needs_the_floor_and_the_test(contract_db):
    """The rule's other side. Written first as 6 of 60 after vs 0 of 60 before: Fisher's one-sided p is
    0.014, not under α 0.01, so that is OK by the rule (the expectation was wrong, not the page);
    12 of 60 vs 0 of 60 is a regression."""
    d = Drain(contract_db.admin)
    at = d.now - timedelta(minutes=30)
    for t in d.every(at - timedelta(minutes=30), 30, 60):
        d.invocation(t, version="v1")
    for i, t in enumerate(d.every(at, 30, 60)):
        d.invocation(t, status=500 if i % 5 == 0 else 200, version="v2")
    d.close()
    _, fns, _, _, advice = measure(contract_db.reader, at, d.now + timedelta(seconds=5))
    five = _one(fns.findings, "deploy.function_5xx", FN)
    assert (
        five.outcome is Outcome.CRITICAL and five.severity is Severity.P1 and "Fisher exact p = 0.0001" in five.detail
    )
    assert advice.first == "edge" and advice.kill_switch is not None
    assert advice.kill_switch.name == "payments-kill-switch"  # payment-webhook's kill switch, as data


# --- case 2: no version change seen ---------------------------------------------------------------------
# Expected: the same v1 before and after a given deploy time (a web-only or DB-only release): nothing
# to attribute to a function (version_change NOT_EVALUATED, no function judged); with no deploy time
# given either, there is no deploy to observe: the exit condition cannot be judged (never "met").


def test_no_version_change_seen(contract_db):
    d = Drain(contract_db.admin)
    at = d.now - timedelta(minutes=30)
    for t in d.every(at - timedelta(minutes=30), 60, 60):
        d.invocation(t, version="v1")
    d.close()
    dep, fns, _, _, _ = measure(contract_db.reader, at, d.now + timedelta(seconds=5))
    change = _one(dep.findings, "deploy.version_change")
    assert change.outcome is Outcome.NOT_EVALUATED and "no function changed version" in change.detail
    assert dep.judged == () and fns.findings == ()
    inferred, _, _, _, _ = measure(contract_db.reader, None, d.now + timedelta(seconds=5))
    assert inferred.deploy_at is None and inferred.after is None
    exit_check = deploy.exit_condition(inferred, list(inferred.findings))
    assert exit_check.met is None


# --- case 3: NULL version fields ----------------------------------------------------------------------
# Expected: deployment_version is NULL on every row (the drain did not lift it) but metadata.version
# holds it: the change v7 → v8 is still seen. A second function with neither is "version unknown",
# said so, and never called unchanged; named in `functions`, it is judged by time alone.


def test_null_version_fields(contract_db):
    d = Drain(contract_db.admin)
    at = d.now - timedelta(minutes=30)
    for t in d.every(at - timedelta(minutes=30), 30, 30):
        d.invocation(t, version=None, meta_version="7")
        d.invocation(t, fn="ops-manage", version=None, status=200)
    for i, t in enumerate(d.every(at, 30, 30)):
        d.invocation(t, version=None, meta_version="8")
        d.invocation(t, fn="ops-manage", version=None, status=500 if i % 2 else 200)
    d.close()
    dep, fns, _, _, _ = measure(contract_db.reader, None, d.now + timedelta(seconds=5))
    assert dep.inferred and dep.judged == (FN,)
    assert [(c.function, c.previous, c.new) for c in dep.changed] == [(FN, "7", ("8",))]
    assert "ops-manage" in dep.sentence and "NULL version" in dep.sentence
    named, fns, _, _, advice = measure(contract_db.reader, at, d.now + timedelta(seconds=5), functions="ops-manage")
    assert named.judged == ("ops-manage",)
    five = _one(fns.findings, "deploy.function_5xx", "ops-manage")
    assert five.outcome is Outcome.CRITICAL and "same version" in five.detail
    # defect found here: the admin publish flag is not in the bare contract and the dry-run raised,
    # stopping the step; now the advice says the kill switch is unavailable and why
    assert advice.kill_switch is None and "admin-publish-block" in advice.sentence
    assert "unavailable" in advice.sentence


# --- case 4: a gateway-only regression (through the whole notebook) -------------------------------------
# Expected: no Edge Function changed; after the deploy time /rest/v1 answers 500 to 1 request in 8
# (0 of 200 before): deploy.gateway_5xx[rest] CRITICAL P1 (Fisher p tiny); auth and storage stay OK.
# Rollback advice: the DB layer (rest is served by the database: the migration), web and Edge Functions
# not implicated. Verdict FAIL with "roll back ... now, declare in #ops-incidents" on the banner.


@pytest.fixture
def gateway_regression(contract_db):
    d = Drain(contract_db.admin)
    at = d.now - timedelta(minutes=35)
    for t in d.every(at - timedelta(minutes=35), 35, 200):
        d.request(t, "/rest/v1/messages", 200)
        d.request(t, "/auth/v1/token", 200)
    for i, t in enumerate(d.every(at, 35, 200)):
        d.request(t, "/rest/v1/messages", 500 if i % 8 == 0 else 200)
        d.request(t, "/auth/v1/token", 200)
        d.request(t, "/storage/v1/object/avatars/x.webp", None if i % 50 == 0 else 200)  # clients gone: not 5xx
    for t in d.every(at - timedelta(minutes=35), 70, 70):
        d.invocation(t, fn="scheduled-dispatcher", version="v17")
    d.close()
    return contract_db, at, d.now


def test_gateway_only_regression_steps(gateway_regression):
    contract_db, at, now = gateway_regression
    dep, fns, gw, _, advice = measure(contract_db.reader, at, now + timedelta(seconds=5))
    assert dep.changed == () and fns.findings == ()
    rest = _one(gw.findings, "deploy.gateway_5xx", "rest")
    assert rest.outcome is Outcome.CRITICAL and rest.severity is Severity.P1
    assert _one(gw.findings, "deploy.gateway_5xx", "auth").outcome is Outcome.OK
    storage = _one(gw.findings, "deploy.gateway_5xx", "storage")
    assert storage.outcome is Outcome.OK, "a request without a status is a client gone, not a 5xx"
    assert advice.first == "db" and advice.mitigation is not None and "DB" in advice.mitigation.command


def test_gateway_only_regression_through_the_page(gateway_regression, tmp_path):
    contract_db, at, now = gateway_regression
    result = runner.run(
        "deploy",
        {"deploy_at": at.isoformat(), "until": (now + timedelta(seconds=5)).isoformat(), "observe_minutes": 30},
        database_url=contract_db.reader,
        out_dir=tmp_path,
    )
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    problems = {(f.check, f.subject) for f in result.findings if f.outcome.is_problem}
    assert problems == {("deploy.gateway_5xx", "rest")}, problems
    data = json.loads((result.folder / "result.json").read_text())
    assert data["facts"]["deployment"]["complete"] is True and data["exit_state"]["met"] is False
    (rollback,) = data["mitigations"]
    assert rollback["action"] == "deploy-rollback" and "DB" in rollback["command"]

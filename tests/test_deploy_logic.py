"""The deploy page's rules without a database (the exact tests, the checklist, the rollback order),
and the EXPLAIN class of its queries on a volume big enough for the planner to prefer indexes."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from opslib import db, embedded, queries
from opslib.deploy import comparison, function_changes, parse_functions
from opslib.deploy.comparison import Counts, judge_rate
from opslib.deploy.sentry import issues_path, issues_query, new_issues
from opslib.explain import SMALL_TABLES, classify, sample_parameters
from opslib.results import Outcome, Severity


def test_fisher_one_sided_and_quiet_hours():
    # 1 of 30 before, 2 of 30 after: "doubled" and meaningless
    assert comparison.fisher_p(Counts(2, 30), Counts(1, 30)) == pytest.approx(0.5, abs=0.01)
    assert comparison.fisher_p(Counts(10, 40), Counts(0, 60)) < 1e-4
    # better after than before is never "worse"
    assert comparison.fisher_p(Counts(0, 60), Counts(10, 40)) == pytest.approx(1.0)


def test_poisson_and_mannwhitney():
    assert comparison.poisson_p(2, 30, 1, 30) > 0.3
    assert comparison.poisson_p(15, 40, 0, 60) < 1e-4
    assert comparison.poisson_p(0, 30, 0, 30) == 1.0
    assert comparison.mannwhitney_p([4200, 4300, 4500, 4700], [150, 300, 900]) < 0.05
    assert comparison.mannwhitney_p([], [1, 2]) == 1.0


def test_a_rate_over_the_floor_fires_only_when_significant():
    fires = judge_rate("deploy.function_5xx", Counts(10, 40), Counts(0, 60), subject="f", detail="")
    assert fires.outcome is Outcome.CRITICAL and fires.severity is Severity.P1
    noise = judge_rate("deploy.function_5xx", Counts(6, 30), Counts(5, 30), subject="f", detail="")
    assert noise.outcome is Outcome.OK and "not significantly worse" in noise.detail
    # no before traffic: the floor alone judges, and says so
    fresh = judge_rate("deploy.function_5xx", Counts(10, 40), Counts(0, 0), subject="f", detail="")
    assert fresh.outcome is Outcome.CRITICAL and "floor only" in fresh.detail
    # too few events and too few failures: not judged (never OK)
    few = judge_rate("deploy.function_5xx", Counts(1, 3), Counts(0, 60), subject="f", detail="")
    assert few.outcome is Outcome.NOT_EVALUATED


def test_parse_functions_and_version_changes():
    assert parse_functions(" ops-manage, payment-webhook;ops-manage ") == ("ops-manage", "payment-webhook")
    assert parse_functions("") == ()
    t = pd.Timestamp("2026-12-02T10:00:00Z")
    frame = pd.DataFrame(
        [
            ("a", "v1", t - pd.Timedelta("30min"), t - pd.Timedelta("1min"), 30, "v1"),
            ("a", "v2", t + pd.Timedelta("1min"), t + pd.Timedelta("30min"), 30, "v1"),
            ("b", None, t - pd.Timedelta("30min"), t + pd.Timedelta("30min"), 60, None),
            ("c", "v5", t - pd.Timedelta("30min"), t + pd.Timedelta("30min"), 60, "v5"),
        ],
        columns=["function_name", "version", "first_seen", "last_seen", "invocations", "previous_version"],
    )
    changes = {c.function: c for c in function_changes(frame, t.to_pydatetime())}
    assert changes["a"].previous == "v1" and changes["a"].new == ("v2",)
    assert not changes["b"].changed and changes["b"].after == ("(unknown)",)
    assert not changes["c"].changed
    inferred = {c.function: c for c in function_changes(frame, None)}
    assert inferred["a"].first_new_at == (t + pd.Timedelta("1min")).to_pydatetime()


def test_sentry_new_issues_by_release():
    at = datetime(2026, 12, 2, 10, tzinfo=UTC)
    issues = [
        {"title": "boom", "count": "4", "firstSeen": "2026-12-02T10:05:00Z", "firstRelease": {"version": "v2"}},
        {"title": "old", "count": "9", "firstSeen": "2026-11-01T10:05:00Z", "firstRelease": {"version": "v1"}},
        {"title": "no release tag", "count": "1", "firstSeen": "2026-12-02T10:06:00Z", "firstRelease": None},
        "not an issue",
    ]
    frame = new_issues(issues, "v2", at)
    assert list(frame["title"]) == ["boom", "no release tag"]
    assert "firstRelease%3Av2%2B1" in urllib.parse.urlencode(issues_query("v2+1"))
    assert issues_path("my org", "a/b") == "/api/0/projects/my%20org/a%2Fb/issues/"


VOLUME = """
INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code, execution_time_ms,
  boot_time_ms, deployment_version)
SELECT gen_random_uuid(), now() - g * interval '2 seconds',
       (ARRAY['scheduled-dispatcher', 'payment-webhook', 'ops-manage', 'payment-reconcile'])[1 + g % 4], 'POST',
       200, 50, CASE WHEN g % 20 = 0 THEN 400 END, 'v' || (g / 40000)
FROM generate_series(1, 120000) g;
INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code)
SELECT gen_random_uuid(), now() - g * interval '2 seconds', 'GET',
       (ARRAY['/rest/v1/messages', '/auth/v1/token', '/storage/v1/object/a', '/realtime/v1/websocket'])[1 + g % 4], 200
FROM generate_series(1, 120000) g;
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, event_message)
SELECT gen_random_uuid(), now() - g * interval '2 seconds', 'scheduled-dispatcher',
       (ARRAY['log', 'info', 'warn', 'error'])[1 + g % 4], 'x'
FROM generate_series(1, 80000) g;
INSERT INTO public.ops_audit_log (occurred_at, source, actor, action)
SELECT now() - g * interval '10 seconds', 'pg_cron', 'x', 'dispatch.batch' FROM generate_series(1, 30000) g;
INSERT INTO public.payment_webhook_logs (provider, processing_status, payload, received_at, http_status)
SELECT (ARRAY['portone', 'tosspayments'])[1 + g % 2], 'processed', '{}', now() - g * interval '5 seconds', 200
FROM generate_series(1, 40000) g;
ANALYZE;
"""


def test_every_deploy_query_follows_its_window(contract_db, artifacts):
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        for statement in VOLUME.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    until = datetime.now(UTC)
    since = until - timedelta(hours=1)
    report = []
    with db.read_only(embedded.url(contract_db.name, user=embedded.READER_ROLE), "deploy") as conn:
        for name in sorted(q for q in queries.catalogue() if q.startswith("deploy.")):
            q = queries.get(name)
            values = sample_parameters(q, since, until, {"deploy_at": until - timedelta(minutes=30)})
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]
            found = classify(name, plan)
            report.append({"query": name, "class": found.plan_class, "seq": list(found.seq_scanned)})
            assert not set(found.seq_scanned) - SMALL_TABLES, f"{name} scans {found.seq_scanned} whole"
    (artifacts / "deploy-plans.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


def _observed(minutes: int = 60):
    from opslib.deploy.changes import Deployment
    from opslib.timewindow import Window

    at = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    return Deployment(
        deploy_at=at,
        inferred=True,
        release="",
        before=Window(at - timedelta(minutes=minutes), at),
        after=Window(at, at + timedelta(minutes=minutes)),
        observe_minutes=minutes,
        observation_ends=at + timedelta(minutes=minutes),
        changes=(),
        judged=(),
        requested=(),
        table=pd.DataFrame(),
        events=pd.DataFrame(),
        sentence="",
        findings=(),
    )


def test_a_met_exit_names_the_checklist_lines_left_to_check_by_hand():
    # a green "충족" read as if §2's Sentry and smoke lines had been checked too
    from opslib import checks
    from opslib.deploy import exit_condition
    from opslib.results import Finding

    def unmeasured(check: str) -> Finding:
        c = checks.get(check)
        return Finding(check=check, outcome=Outcome.NOT_EVALUATED, section=c.section, title=c.title, detail="by hand")

    gateway = checks.evaluate(checks.get("deploy.gateway_5xx"), 0.1, subject="rest")  # something was compared
    by_hand = [unmeasured("deploy.sentry_new_errors"), unmeasured("deploy.smoke_run")]
    left = exit_condition(_observed(), [gateway, *by_hand])
    assert left.met is True and "관찰 완료" in left.sentence
    assert "남은 확인 (still to check): Sentry 신규 에러, 스모크 테스트 실행" in left.sentence, left.sentence
    clean = exit_condition(_observed(), [gateway])
    assert clean.met is True and "남은 확인" not in clean.sentence


def test_a_deploy_is_judged_only_when_something_was_compared_on_data():
    """deploy.compared: ERROR (the verdict cannot be PASS) unless a rate was compared on data; error log
    lines alone do not count (a window with no console line reads as 0 an hour), nor does the gateway
    when none of the deployed functions was invoked after the deploy."""
    from opslib import checks
    from opslib.deploy.changes import Deployment
    from opslib.deploy.verdict import compared, exit_condition
    from opslib.results import decide
    from opslib.timewindow import Window

    at = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    dep = Deployment(
        deploy_at=at,
        inferred=False,
        release="",
        before=Window(at - timedelta(minutes=60), at),
        after=Window(at, at + timedelta(minutes=60)),
        observe_minutes=60,
        observation_ends=at + timedelta(minutes=60),
        changes=(),
        judged=("payment-webhook",),
        requested=("payment-webhook",),
        table=pd.DataFrame(),
        events=pd.DataFrame(),
        sentence="",
        findings=(),
    )
    logs_ok = checks.evaluate(checks.get("deploy.function_log_errors"), 0, subject="payment-webhook")
    gateway_ok = checks.evaluate(checks.get("deploy.gateway_5xx"), 0.1, subject="rest")
    fn_ok = checks.evaluate(checks.get("deploy.function_5xx"), 0.0, subject="payment-webhook")
    fn_none = checks.evaluate(checks.get("deploy.function_5xx"), None, subject="payment-webhook")
    assert compared(dep, [logs_ok]).outcome is Outcome.ERROR
    assert compared(dep, [logs_ok, gateway_ok, fn_none]).outcome is Outcome.ERROR
    ok = compared(dep, [logs_ok, gateway_ok, fn_ok])
    assert ok.outcome is Outcome.OK and ok.value == 2
    # nothing compared: the exit cannot be judged and the run's verdict is ERROR, never PASS
    ex = exit_condition(dep, [logs_ok])
    assert ex.met is None and ex.headline and ex.headline == ex.findings[0].detail != ex.sentence
    assert decide([logs_ok, *ex.findings]).value == "ERROR"
    assert (
        decide([logs_ok, gateway_ok, fn_ok, *exit_condition(dep, [logs_ok, gateway_ok, fn_ok]).findings]).value
        == "PASS"
    )

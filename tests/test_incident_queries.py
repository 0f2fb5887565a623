"""The incident page's one database read: guarded actions carrying the WI (admin_audit_log), window-bound.

The actions write the WI as opsbook writes it (actions.perform on the contract, its triggers on),
and the page reads them back as the read-only reader role.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import volume_database

from opslib import actions, db, embedded, incident, queries, runner
from opslib.explain import explain_domain
from opslib.results import Outcome, Verdict

VOLUME_SQL = """
SET session_replication_role = replica;
INSERT INTO public.admin_audit_log (action, target_type, target_id, reason, after, created_at)
SELECT (ARRAY['refund.approve', 'kill_switch.toggle', 'role.grant'])[1 + g % 3], 'feature_flag', 'f' || (g % 50),
       'drill · WI WI-' || (g % 900), jsonb_build_object('metadata', jsonb_build_object('opsbook',
         jsonb_build_object('wi_id', 'WI-' || (g % 900)))),
       now() - (60 * 86400.0 * (1 - g::float8 / 200000)) * interval '1 second'
FROM generate_series(1, 200000) g;
SET session_replication_role = origin;
ANALYZE;
"""


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    with volume_database("inc_vol", VOLUME_SQL) as name:
        yield embedded.url(name, user=embedded.READER_ROLE)


def test_every_incident_query_is_window_bound(volume, artifacts):
    until = datetime.now(UTC)
    with db.read_only(volume, "incident") as conn:
        plans = explain_domain(conn, "incident", until - timedelta(hours=8), until, {"wi_id": "WI-42"})
    assert {p.query for p in plans} == {q for q in queries.catalogue() if q.startswith("incident.")}
    (artifacts / "incident-plans.json").write_text(
        json.dumps([{"query": p.query, "class": p.plan_class} for p in plans], indent=2), encoding="utf-8"
    )
    bad = [(p.query, p.plan_class) for p in plans if p.plan_class not in {"index", "no table scan"}]
    assert not bad, f"queries whose cost grows with the table: {bad}"


def test_the_actions_carrying_the_wi_are_read_back_and_no_other(contract_db):
    start = datetime.now(UTC) - timedelta(minutes=1)
    pulled = actions.perform(
        "payments-kill-switch",
        confirm="payments-kill-switch",
        wi_id="WI-42",
        reason="stop",
        database_url=contract_db.actor,
    )
    actions.perform(
        "payments-maintenance-banner",
        confirm="payments-maintenance-banner",
        wi_id="WI-42",
        database_url=contract_db.actor,
    )
    # another incident's action, and a WI whose id merely starts the same way
    actions.perform(
        "messages-kill-switch", confirm="messages-kill-switch", wi_id="WI-420", database_url=contract_db.actor
    )
    actions.perform(
        "payments-kill-switch", confirm="payments-kill-switch", undo=True, wi_id="WI-4", database_url=contract_db.actor
    )
    with db.read_only(contract_db.reader, "incident") as conn:
        found = incident.actions(conn, "WI-42", start, datetime.now(UTC) + timedelta(minutes=1))
    assert found.findings == ()
    rows = found.executed.to_dict("records")
    assert (rows[0]["action"], rows[0]["target_id"]) == ("kill_switch.toggle", "payments.purchase")
    assert len(rows) == 2 and rows[1]["target_type"] == "banner"
    assert rows[0]["changed"] == "enabled: true → false"
    assert rows[0]["id"] == pulled.audit_rows[0]["id"]
    assert "admin_id" not in found.shown.columns


def test_an_unreadable_audit_log_is_an_error_finding_not_a_crash(contract_db):
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON public.admin_audit_log FROM opsbook_reader")
    now = datetime.now(UTC)
    with db.read_only(contract_db.reader, "incident") as conn:
        found = incident.actions(conn, "WI-1", now - timedelta(hours=1), now)
    assert [f.outcome for f in found.findings] == [Outcome.ERROR]
    assert "permission denied" in found.findings[0].detail


def test_the_page_on_an_empty_contract_database_without_evidence_says_it_cannot_judge(contract_db, tmp_path):
    """The reader role, an empty contract and an empty evidence folder: ERROR (nothing to judge), no crash."""
    (tmp_path / "evidence").mkdir()
    result = runner.run(
        "incident",
        {"evidence_dir": str(tmp_path / "evidence")},
        database_url=contract_db.reader,
        out_dir=tmp_path / "out",
        wi_id="WI-1",
    )
    assert result.error is None, result.error
    assert result.verdict is Verdict.ERROR
    errors = [f for f in result.findings if f.outcome is Outcome.ERROR]
    assert [f.check for f in errors] == ["incident.evidence"]
    assert result.headline and result.headline[0].startswith("인시던트 심각도: 판단 불가"), result.headline
    data = json.loads((result.folder / "result.json").read_text())
    assert data["exit_state"]["met"] is None
    assert (tmp_path / "evidence" / "postmortem_WI-1.md").is_file()


def test_bad_parameters_are_refused_before_a_kernel_starts(tmp_path):
    from opslib.errors import ConfigError

    with pytest.raises(ConfigError, match="wi_id"):
        runner.prepare("incident", {"evidence_dir": str(tmp_path)}, database_url=None, wi_id=None)
    with pytest.raises(ConfigError, match="evidence_dir"):
        runner.prepare("incident", {"evidence_dir": str(tmp_path / "nope")}, database_url=None, wi_id="WI-1")
    with pytest.raises(ConfigError, match="severity"):
        runner.prepare("incident", {"evidence_dir": str(tmp_path), "severity": "P5"}, database_url=None, wi_id="WI-1")
    with pytest.raises(ConfigError, match="closed_at is before"):
        runner.prepare(
            "incident",
            {"evidence_dir": str(tmp_path), "declared_at": "2026-11-27T03:10", "closed_at": "2026-11-27T03:00"},
            database_url=None,
            wi_id="WI-1",
        )
    _, values = runner.prepare("incident", {"evidence_dir": "."}, database_url=None, wi_id="WI-1")
    assert values["evidence_dir"].startswith("/")  # made absolute against the caller's directory

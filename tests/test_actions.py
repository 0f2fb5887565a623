"""Guarded actions: dry-run writes nothing; confirmed writes the change and exactly one audit row; repeat is a no-op."""

from __future__ import annotations

import psycopg
import pytest

from opslib import actions
from opslib.errors import ActionRefused


def _state(admin_url: str) -> tuple[bool, int]:
    with psycopg.connect(admin_url) as conn:
        enabled = conn.execute("SELECT enabled FROM public.feature_flags WHERE key = 'payments.purchase'").fetchone()[0]
        audits = conn.execute("SELECT count(*) FROM public.admin_audit_log").fetchone()[0]
    return enabled, audits


def test_kill_switch_dry_run_then_confirm_then_repeat(contract_db):
    assert _state(contract_db.admin) == (True, 0)

    plan = actions.perform("payments-kill-switch", database_url=contract_db.actor, reason="drill", wi_id="WI-1")
    assert not plan.executed and plan.changed
    assert plan.before["enabled"] is True and plan.after["enabled"] is False
    assert _state(contract_db.admin) == (True, 0), "a dry-run must not write"

    done = actions.perform(
        "payments-kill-switch",
        confirm="payments-kill-switch",
        database_url=contract_db.actor,
        reason="drill",
        wi_id="WI-1",
    )
    assert done.executed and done.changed and len(done.audit_rows) == 1
    assert _state(contract_db.admin) == (False, 1)
    with psycopg.connect(contract_db.admin) as conn:
        action, after = conn.execute("SELECT action, after FROM public.admin_audit_log").fetchone()
    assert action == "kill_switch.toggle"
    assert after["enabled"] is False and after["metadata"]["opsbook"]["wi_id"] == "WI-1"

    again = actions.perform("payments-kill-switch", confirm="payments-kill-switch", database_url=contract_db.actor)
    assert again.executed and not again.changed
    assert _state(contract_db.admin) == (False, 1), "a second confirmed run changes nothing more"

    back = actions.perform(
        "payments-kill-switch", confirm="payments-kill-switch", undo=True, database_url=contract_db.actor
    )
    assert back.changed and _state(contract_db.admin) == (True, 2)


def test_wrong_confirmation_is_refused_and_writes_nothing(contract_db):
    with pytest.raises(ActionRefused, match="does not match"):
        actions.perform("payments-kill-switch", confirm="yes", database_url=contract_db.actor)
    assert _state(contract_db.admin) == (True, 0)


def test_maintenance_banner_is_audited_and_idempotent(contract_db):
    plan = actions.perform("payments-maintenance-banner", database_url=contract_db.actor)
    assert not plan.executed and plan.changed
    done = actions.perform(
        "payments-maintenance-banner",
        confirm="payments-maintenance-banner",
        database_url=contract_db.actor,
        wi_id="WI-9",
    )
    assert done.changed and len(done.audit_rows) == 1
    again = actions.perform(
        "payments-maintenance-banner", confirm="payments-maintenance-banner", database_url=contract_db.actor
    )
    assert not again.changed
    with psycopg.connect(contract_db.admin) as conn:
        live = conn.execute(
            "SELECT count(*) FROM public.banners WHERE is_active AND title LIKE '결제 일시 점검%'"
        ).fetchone()[0]
        audits = conn.execute("SELECT action, reason FROM public.admin_audit_log").fetchall()
    assert live == 1
    assert audits == [("banner.publish", "payments maintenance banner · WI WI-9")]


def test_the_page_reader_role_cannot_run_an_action(contract_db):
    with pytest.raises(Exception, match=r"permission denied|read-only"):
        actions.perform("payments-kill-switch", confirm="payments-kill-switch", database_url=contract_db.reader)
    assert _state(contract_db.admin) == (True, 0)


def test_unknown_action_is_refused():
    with pytest.raises(ActionRefused, match="unknown action"):
        actions.perform("drop-everything")

"""§3-B 최소 완화: the "로그인 점검 중" notice, the banner action's second spec, guarded and audited."""

from __future__ import annotations

import psycopg
import pytest

from opslib import actions
from opslib.actions import banner
from opslib.errors import ActionRefused


def _live(admin: str) -> list[tuple[str, str]]:
    with psycopg.connect(admin) as conn:
        return conn.execute("SELECT title, placement FROM public.banners WHERE is_active").fetchall()


def test_login_notice_dry_run_confirm_repeat_undo(contract_db):
    plan = actions.perform("auth-login-notice", database_url=contract_db.actor)
    assert not plan.executed and plan.changed and plan.after["title"].startswith("로그인 점검 중")
    assert "--confirm auth-login-notice" in plan.message
    assert _live(contract_db.admin) == [], "a dry-run writes nothing"
    with pytest.raises(ActionRefused):
        actions.perform("auth-login-notice", confirm="payments-maintenance-banner", database_url=contract_db.actor)
    done = actions.perform(
        "auth-login-notice",
        confirm="auth-login-notice",
        database_url=contract_db.actor,
        wi_id="WI-11",
        reason="GoTrue 5xx",
    )
    assert done.executed and done.changed and len(done.audit_rows) == 1
    assert _live(contract_db.admin) == [(banner.LOGIN_NOTICE.title, "popup")], "readable by signed-out users"
    again = actions.perform("auth-login-notice", confirm="auth-login-notice", database_url=contract_db.actor)
    assert not again.changed, "idempotent"
    # the payments banner is a different notice: publishing the login notice did not publish it
    assert not actions.perform("payments-maintenance-banner", database_url=contract_db.actor).before
    undone = actions.perform(
        "auth-login-notice", confirm="auth-login-notice", undo=True, database_url=contract_db.actor
    )
    assert undone.changed and _live(contract_db.admin) == []
    with psycopg.connect(contract_db.admin) as conn:
        audits = conn.execute("SELECT action, reason FROM public.admin_audit_log ORDER BY id").fetchall()
    assert audits == [("banner.publish", "GoTrue 5xx · WI WI-11"), ("banner.unpublish", "§3-B login notice")]

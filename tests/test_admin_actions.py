"""§3-E guarded actions on the exact contract: the publish-only block and the one-user role restore."""

from __future__ import annotations

import uuid
from importlib import resources

import psycopg
import pytest

from opslib import actions
from opslib.errors import ActionRefused

RESTORE = "admin-role-restore"
BLOCK = "admin-publish-block"


def _user(admin_url: str, email: str, role: str = "fan", status: str = "active") -> str:
    uid = str(uuid.uuid4())
    with psycopg.connect(admin_url) as conn:
        conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (uid, email))  # handle_new_user: profile
        conn.execute("UPDATE public.user_profiles SET role = %s, status = %s WHERE id = %s", (role, status, uid))
    return uid


def _profile(admin_url: str, uid: str) -> tuple[str, str]:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT role, status FROM public.user_profiles WHERE id = %s", (uid,)).fetchone()


def _audits(admin_url: str) -> list[tuple]:
    with psycopg.connect(admin_url) as conn:
        return conn.execute(
            "SELECT action, target_type, target_id, before, after, reason FROM public.admin_audit_log ORDER BY id"
        ).fetchall()


def test_role_restore_dry_run_confirm_repeat(contract_db):
    uid = _user(contract_db.admin, "ops.lead@example.com", role="fan", status="suspended")
    plan = actions.perform(RESTORE, target=uid, database_url=contract_db.actor)
    assert not plan.executed and plan.changed
    assert plan.before == {"role": "fan", "status": "suspended"} and plan.after == {"role": "admin", "status": "active"}
    assert _profile(contract_db.admin, uid) == ("fan", "suspended") and _audits(contract_db.admin) == []

    with pytest.raises(ActionRefused, match="--reason and --wi"):
        actions.perform(RESTORE, target=uid, confirm=RESTORE, database_url=contract_db.actor, reason="locked out")
    assert _profile(contract_db.admin, uid) == ("fan", "suspended")

    done = actions.perform(
        RESTORE,
        target=uid,
        confirm=RESTORE,
        database_url=contract_db.actor,
        reason="migration demoted admins",
        wi_id="WI-77",
    )
    assert done.executed and done.changed and len(done.audit_rows) == 1
    assert _profile(contract_db.admin, uid) == ("admin", "active")
    [(action, target_type, target_id, before, after, reason)] = _audits(contract_db.admin)
    assert (action, target_type, target_id) == ("role.grant", "user", uid)
    assert before == {"role": "fan", "status": "suspended"} and after == {"role": "admin", "status": "active"}
    assert reason == "migration demoted admins · WI WI-77"

    again = actions.perform(RESTORE, target=uid, confirm=RESTORE, database_url=contract_db.actor, reason="x", wi_id="W")
    assert again.executed and not again.changed and len(_audits(contract_db.admin)) == 1


@pytest.mark.parametrize(
    "target, message",
    [
        ("", "exactly one user"),
        ("ops.lead@example.com", "exactly one user id"),
        ("{a},{b}", "exactly one user id"),
        ("{missing}", "no user_profiles row"),
    ],
)
def test_role_restore_refuses_anything_but_one_existing_user(contract_db, target, message):
    a = _user(contract_db.admin, "a@example.com")
    b = _user(contract_db.admin, "b@example.com")
    target = target.format(a=a, b=b, missing=uuid.uuid4())
    with pytest.raises(ActionRefused, match=message):
        actions.perform(RESTORE, target=target, confirm=RESTORE, database_url=contract_db.actor, reason="r", wi_id="W")
    assert _profile(contract_db.admin, a) == ("fan", "active") and _profile(contract_db.admin, b) == ("fan", "active")
    assert _audits(contract_db.admin) == []


def test_role_restore_refuses_a_deleted_user_and_has_no_undo(contract_db):
    uid = _user(contract_db.admin, "gone@example.com", status="deleted")
    with pytest.raises(ActionRefused, match="deleted"):
        actions.perform(RESTORE, target=uid, confirm=RESTORE, database_url=contract_db.actor, reason="r", wi_id="W")
    with pytest.raises(ActionRefused, match="no undo"):
        actions.perform(RESTORE, target=uid, undo=True, database_url=contract_db.actor)
    assert _profile(contract_db.admin, uid) == ("fan", "deleted")


def test_actor_grants_are_narrow(contract_db):
    """The actor may set a profile's role and status, and nothing else of it."""
    uid = _user(contract_db.admin, "c@example.com")
    actor = contract_db.actor.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(actor) as conn:
        for statement in (
            "UPDATE public.user_profiles SET handle = 'hijack' WHERE id = %s",
            "DELETE FROM public.user_profiles WHERE id = %s",
            "INSERT INTO public.feature_flags (key) VALUES ('x' || %s)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement, (uid,))


def test_the_page_reader_cannot_restore_a_role(contract_db):
    uid = _user(contract_db.admin, "d@example.com")
    with pytest.raises(Exception, match=r"permission denied|read-only"):
        actions.perform(RESTORE, target=uid, confirm=RESTORE, database_url=contract_db.reader, reason="r", wi_id="W")
    assert _profile(contract_db.admin, uid) == ("fan", "active")


def test_publish_block_without_the_flag_says_what_production_needs(contract_db):
    with pytest.raises(ActionRefused, match="production needs the flag first"):
        actions.perform(BLOCK, confirm=BLOCK, database_url=contract_db.actor)
    assert _audits(contract_db.admin) == []


def test_publish_block_with_the_demo_migration(contract_db):
    sql = (resources.files("opslib") / "sql" / "demo_admin_publish_flag.sql").read_text(encoding="utf-8")
    with psycopg.connect(contract_db.admin) as conn:
        conn.execute(sql)
    plan = actions.perform(BLOCK, database_url=contract_db.actor)
    assert not plan.executed and plan.before["enabled"] is True and plan.after["enabled"] is False
    done = actions.perform(BLOCK, confirm=BLOCK, database_url=contract_db.actor, reason="ops-manage 500", wi_id="WI-3")
    assert done.changed and len(done.audit_rows) == 1
    with psycopg.connect(contract_db.admin) as conn:
        enabled = conn.execute("SELECT enabled FROM public.feature_flags WHERE key = 'admin.publish'").fetchone()[0]
        others = conn.execute(
            "SELECT bool_and(enabled) FROM public.feature_flags WHERE is_kill_switch AND key <> 'admin.publish'"
        ).fetchone()[0]
    assert enabled is False and others is True, "only publishing is blocked"
    [(action, _t, target_id, _b, after, _r)] = _audits(contract_db.admin)
    assert (
        action == "kill_switch.toggle"
        and target_id == "admin.publish"
        and after["metadata"]["opsbook"]["wi_id"] == "WI-3"
    )
    again = actions.perform(BLOCK, confirm=BLOCK, database_url=contract_db.actor)
    assert not again.changed
    back = actions.perform(BLOCK, confirm=BLOCK, undo=True, database_url=contract_db.actor)
    assert back.changed and len(_audits(contract_db.admin)) == 2

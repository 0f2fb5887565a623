"""Hand-built §3-E incident databases: written on the exact contract (no seeder), through its own
functions and triggers where it has them (handle_new_user, feature_flags_audit, rate_limit_hit), with
the log drain's tables filled as a drain would. Each round's expected verdict was written from the
runbook before the page ran; each defect found is a regression test here.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from opslib import admin, db, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.timewindow import Window


class Builder:
    """Writes one incident by hand on a contract database (superuser, triggers on)."""

    def __init__(self, url: str, now: datetime) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.now = now

    def user(self, email: str, role: str = "fan", status: str = "active", banned_until: datetime | None = None) -> str:
        uid = str(uuid.uuid4())
        self.conn.execute(
            "INSERT INTO auth.users (id, email, banned_until) VALUES (%s, %s, %s)", (uid, email, banned_until)
        )
        self.conn.execute("UPDATE public.user_profiles SET role = %s, status = %s WHERE id = %s", (role, status, uid))
        if role != "fan" or status != "active":
            # as ops-manage does it: the change and its audit row (admin_id NULL: service_role)
            self.conn.execute(
                "INSERT INTO public.admin_audit_log (action, target_type, target_id, after, reason)"
                " VALUES ('role.grant', 'user', %s, %s, 'onboarding')",
                (uid, json.dumps({"role": role, "status": status})),
            )
        return uid

    def call(
        self,
        minutes_ago: float,
        status: int | None,
        *,
        method: str = "GET",
        version: str = "ops-manage@v7",
        line: str | None = None,
        level: str = "error",
        drained: bool = True,
    ) -> str:
        """One ops-manage invocation; drained=False leaves its edge log out (a partial drain)."""
        at = self.now - timedelta(minutes=minutes_ago)
        execution = str(uuid.uuid4())
        if drained:
            self.conn.execute(
                'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,'
                " execution_id, deployment_version) VALUES (%s, %s, 'ops-manage', %s, %s, %s, %s)",
                (uuid.uuid4(), at, method, status, execution, version),
            )
        if line is not None:
            self.conn.execute(
                'INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message)'
                " VALUES (%s, %s, 'ops-manage', %s, %s, %s)",
                (uuid.uuid4(), at + timedelta(milliseconds=4), level, execution, line),
            )
        return execution

    def close(self) -> None:
        self.conn.close()


def _page(contract_db, tmp_path, **params):
    return runner.run("admin", params, database_url=contract_db.reader, out_dir=tmp_path)


def _by_check(result):
    out: dict[str, list] = {}
    for f in result.findings:
        out.setdefault(f.check, []).append(f)
    return out


# --- Round 1: a quiet-hour key loss seen through a partial drain ---------------------------------
# Expected, from §3-E before running: one admin can get in (a second is suspended) → active_admins
# WARN P2; ops-manage answered 500 four times of five at 03:00 KST with supabase-js's own message
# (the env var unset) → service_role_key_missing P1 and ops_manage_5xx P1 (few calls, judged on
# failures); one 500 reached the console log but not the edge log (partial drain); one call has
# no status (client went away); no new version; exit not met; verdict FAIL.


@pytest.fixture
def round_one(contract_db):
    now = datetime.now(UTC)
    b = Builder(contract_db.admin, now)
    b.user("lead@example.com", role="admin")
    b.user("old@example.com", role="admin", status="suspended")
    for m in (600, 590, 580):  # the evening before: healthy
        b.call(m, 200, method="POST")
    missing = "Error: supabaseKey is required."
    for m in (40, 30, 20, 10):
        b.call(m, 500, line=missing)
    b.call(25, None, drained=True)  # the client went away: no status
    b.call(15, 500, line=missing, drained=False)
    b.close()
    return contract_db, now


def test_round_one_steps(round_one):
    contract_db, now = round_one
    window = Window(now - timedelta(minutes=60), now)
    with db.read_only(contract_db.reader, "test") as conn:
        key = admin.service_key(conn, window)
        detection = admin.detect(conn, window)
        access = admin.who_can_get_in(conn, window)
        versions = admin.errors_by_version(conn, window)
        exit_check = admin.exit_condition(conn, now)
    [k] = key.findings
    # defect found here: supabase-js's "supabaseKey is required." never names the env var
    assert k.outcome is Outcome.CRITICAL and k.severity is Severity.P1 and k.value == 5
    status = next(f for f in detection.findings if f.check == "admin.ops_manage_5xx")
    assert status.outcome is Outcome.CRITICAL and status.value == 100, status  # 4×500 + 1 no status of 5 drained
    [a] = access.findings
    assert a.outcome is Outcome.WARN and a.value == 1 and a.severity is Severity.P2
    unknown = versions.errors[versions.errors["deployment_version"] == "(unknown)"]
    assert int(unknown["lines"].sum()) == 1, "the undrained invocation's line is kept, its version unknown"
    assert versions.new_version is None
    assert exit_check.met is False


def test_round_one_page(round_one, tmp_path):
    contract_db, _now = round_one
    result = _page(contract_db, tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    found = _by_check(result)
    assert found["admin.service_role_key_missing"][0].severity is Severity.P1
    assert found["admin.active_admins"][0].outcome is Outcome.WARN
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    for p in result.folder.iterdir():
        assert "lead@example.com" not in p.read_text(encoding="utf-8", errors="replace"), p.name


# --- Round 2: no log drain, an audited revoke, an unaudited banner, an admin at the limit --------
# Expected, from §3-E before running: two admins, one revoked through ops-manage WITH its
# role.revoke row (no role gap), one banned in auth (cannot get in), one active → active_admins
# WARN P2 (one); a flag updated through the contract's trigger (audited: no gap) and a banner created
# with no audit row → audit_gap_content WARN P2; the active admin hit ops_manage 61 times in one
# 60 s window (rate_limit_hit, limit 60) → rate_limited_admins 100 % → P1; no drained log at all →
# ops-manage checks NOT_EVALUATED, exit "cannot judge" (never met); verdict FAIL.


@pytest.fixture
def round_two(contract_db):
    now = datetime.now(UTC)
    b = Builder(contract_db.admin, now)
    active = b.user("kim.ops@example.com", role="admin")
    revoked = b.user("lee.ops@example.com", role="admin")
    b.user("park.ops@example.com", role="admin", banned_until=now + timedelta(days=30))
    c = b.conn
    c.execute(
        "INSERT INTO public.admin_audit_log (admin_id, action, target_type, target_id, before, after, reason,"
        " created_at) VALUES (%s, 'banner.update', 'banner', 'x', NULL, NULL, NULL, now() - interval '2 hours')",
        (revoked,),
    )
    c.execute("UPDATE public.user_profiles SET role = 'fan' WHERE id = %s", (revoked,))
    c.execute(
        "INSERT INTO public.admin_audit_log (admin_id, action, target_type, target_id, before, after, reason)"
        " VALUES (%s, 'role.revoke', 'user', %s, '{\"role\": \"admin\"}', '{\"role\": \"fan\"}', '퇴사')",
        (active, revoked),
    )
    c.execute(
        "SELECT set_config('request.jwt.claims', %s, false)", (json.dumps({"sub": active, "role": "service_role"}),)
    )
    c.execute("UPDATE public.feature_flags SET enabled = false WHERE key = 'funding.pledge'")  # trigger audits it
    c.execute("SELECT set_config('request.jwt.claims', '', false)")
    c.execute(
        "INSERT INTO public.banners (title, image_path, is_active, starts_at) VALUES ('공지', 'n.webp', true, NULL)"
    )
    for _ in range(61):
        c.execute("SELECT public.rate_limit_hit(%s, 60, 60)", (f"ops_manage:user:{active}",))
    b.close()
    return contract_db, now, active


def test_round_two_steps(round_two):
    contract_db, now, _active = round_two
    window = Window(now - timedelta(minutes=60), now + timedelta(minutes=1))
    with db.read_only(contract_db.reader, "test") as conn:
        detection = admin.detect(conn, window)
        access = admin.who_can_get_in(conn, window)
        limits = admin.admin_rate_limits(conn, window)
        exit_check = admin.exit_condition(conn, window.until)
    found = {f.check: f for f in detection.findings}
    assert found["admin.audit_gap_content"].value == 1 and found["admin.audit_gap_content"].outcome is Outcome.WARN
    assert found["admin.audit_gap_roles"].outcome is Outcome.OK, "the revoke has its audit row"
    assert found["admin.ops_manage_5xx"].outcome is Outcome.NOT_EVALUATED
    [a] = access.findings
    assert a.value == 1, "the banned admin cannot get in"
    assert list(access.role_changes["action"]) == ["role.grant"] * 3 + ["role.revoke"]
    [r] = limits.findings
    assert r.outcome is Outcome.CRITICAL and r.value == 100 and r.severity is Severity.P1
    assert exit_check.met is None, exit_check.sentence


def test_round_two_page(round_two, tmp_path):
    contract_db, now, _active = round_two
    result = _page(contract_db, tmp_path, until=(now + timedelta(minutes=1)).isoformat())
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["exit_condition_met"] is None
    assert facts["active_admins"] == 1


# --- Regressions found while building the drills -------------------------------------------------


def test_a_flag_written_after_until_does_not_hold_the_exit_back(contract_db):
    """The demo flag is inserted when the seed finishes, after its as_of: judging the exit at as_of,
    its updated_at lay in the future and "held since" could never be reached."""
    now = datetime.now(UTC)
    b = Builder(contract_db.admin, now)
    b.user("lead@example.com", role="admin")
    for m in range(200, 80, -5):  # ops-manage healthy from 200 to 85 minutes ago
        b.call(m, 200, method="POST" if m % 3 == 0 else "GET")
    from importlib import resources

    b.conn.execute((resources.files("opslib") / "sql" / "demo_admin_publish_flag.sql").read_text(encoding="utf-8"))
    b.close()
    until = now - timedelta(minutes=60)
    with db.read_only(contract_db.reader, "test") as conn:
        exit_check = admin.exit_condition(conn, until)
    assert exit_check.met is True, exit_check.sentence


def test_one_refused_write_is_not_a_broken_publish_but_a_run_is(contract_db):
    now = datetime.now(UTC)
    b = Builder(contract_db.admin, now)
    b.user("lead@example.com", role="admin")
    for m in range(100, 40, -3):
        b.call(m, 200, method="POST")
    b.call(30, 403, method="POST")  # one non-admin's attempt
    b.close()
    later = now + timedelta(minutes=20)  # the admin was made now: judge once that has held
    with db.read_only(contract_db.reader, "test") as conn:
        one = admin.exit_condition(conn, later)
    assert one.met is True, one.sentence
    b = Builder(contract_db.admin, now)
    b.call(20, 403, method="POST")
    b.close()
    with db.read_only(contract_db.reader, "test") as conn:
        two = admin.exit_condition(conn, later)
    assert two.met is False and "403" in two.sentence

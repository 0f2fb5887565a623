"""Hand-built incident databases for the auth page (§3-B), written on the exact contract without the seeder.

Each round writes what the runbook describes through the contract itself (auth.users through its
insert trigger, which creates the profile and wallet; GoTrue's log rows and audit rows as GoTrue and
the drain write them), with the verdict expected from the runbook written down BEFORE the page ran.
Quiet hours, drains without metadata, NULL providers and platforms, /auth/v1-prefixed paths.

Expected verdicts (written first):
- Round 1, GoTrue outage at 04:00 KST, drain without metadata: 6 successes then 12 attempts answered
  503 or nothing. audit_log_entries shows the 6 successes only. → login failure rate P0, /token server
  errors P0, no stuffing, symptom new_logins, exit not met, 8 users could not log in, drain 100 %.
- Round 1b, password hashing broken by a migration: 40 users, each from their own address, get 400
  invalid_credentials. → login failure rate P0; NOT stuffing (no source stands out); symptom new_logins.
- Round 2, stuffing from two addresses through the /auth/v1 prefix, one of them opening an account;
  one user mistyping 12 times; 20 users logging in fine. → credential stuffing P1, account takeover P0,
  hammering P3, login failure rate OK (the attack and the hammering are left out), symptom none.
- Round 3, sessions refreshing every 5 minutes while the team believes JWT expiry is 3600 s, and
  403s on /rest/v1/posts for signed-in users. → JWT expiry mismatch P1 (12x), RLS denials P0,
  symptom rls; a refresh token without a session is ignored.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from opslib import auth, db, runner
from opslib.results import Outcome, Severity, Verdict
from opslib.timewindow import Window

UNTIL = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 04:00 KST: the quiet hour
WINDOW = Window(UNTIL - timedelta(hours=1), UNTIL)


def _user(cur: psycopg.Cursor, n: int) -> uuid.UUID:
    uid = uuid.uuid5(uuid.NAMESPACE_URL, f"handbuilt-user-{n}")
    cur.execute(
        "INSERT INTO auth.users (instance_id, id, aud, role, email, phone, created_at, updated_at,"
        " raw_app_meta_data, raw_user_meta_data)"
        " VALUES ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s, %s,"
        " %s, %s, '{\"provider\": \"email\"}', %s)",
        (uid, f"hand{n}@example.org", f"+82105555{n:04d}", UNTIL - timedelta(days=30), UNTIL - timedelta(days=30),
         json.dumps({"display_name": f"hand{n}"})),
    )  # fmt: skip
    return uid


def _log(
    cur: psycopg.Cursor,
    ts: datetime,
    *,
    path: str = "/token",
    grant: str | None = "password",
    status: int | None = 200,
    code: str | None = None,
    user: uuid.UUID | None = None,
    provider: str | None = None,
    metadata: dict | None = None,
) -> uuid.UUID:
    rid = uuid.uuid4()
    cur.execute(
        "INSERT INTO logs.auth_logs (id, \"timestamp\", level, method, path, grant_type, status, error_code, provider,"
        " user_id, request_id, msg, metadata) VALUES (%s, %s, %s, 'POST', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (rid, ts, "info" if (status or 500) < 400 else "error", path, grant, status, code, provider, user,
         rid.hex[:16], code or "Login", json.dumps(metadata or {})),
    )  # fmt: skip
    return rid


def _audit_login(cur: psycopg.Cursor, ts: datetime, user: uuid.UUID) -> None:
    cur.execute(
        "INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)"
        " VALUES ('00000000-0000-0000-0000-000000000000', %s, %s, %s, '')",
        (uuid.uuid4(), json.dumps({"action": "login", "actor_id": str(user), "traits": {"provider": "email"}}), ts),
    )


def _problems(findings, check: str):
    return [f for f in findings if f.check == check and f.outcome.is_problem]


def _round1(admin: str) -> list[uuid.UUID]:
    with psycopg.connect(admin, autocommit=False) as conn, conn.cursor() as cur:
        users = [_user(cur, n) for n in range(10)]
        for i in range(6):  # before the outage: fine, and audited
            ts = UNTIL - timedelta(minutes=55 - i * 5)
            _log(cur, ts, user=users[i])
            _audit_login(cur, ts, users[i])
        for i in range(12):  # the outage: 503 or no answer, never audited
            ts = UNTIL - timedelta(minutes=20 - i * 1.5)
            _log(cur, ts, status=None if i % 3 == 0 else 503, user=users[2 + i % 8])
        conn.commit()
    return users


def test_round1_gotrue_outage_at_a_quiet_hour_is_caught_where_the_audit_trail_shows_only_successes(contract_db):
    _round1(contract_db.admin)
    with psycopg.connect(contract_db.admin) as conn:
        audit = conn.execute("SELECT count(*) FROM auth.audit_log_entries WHERE created_at >= %s", (WINDOW.since,))
        assert audit.fetchone()[0] == 6, "the audit trail of the window: 6 successes, no failure"
    with db.read_only(contract_db.reader, "auth") as conn:
        found = auth.detect(conn, WINDOW)
        symptoms = auth.separate(conn, WINDOW)
        signins = auth.patterns(conn, WINDOW)
        exit_check = auth.exit_condition(conn, UNTIL)
        affected = auth.impact(conn, WINDOW)
    rate = next(f for f in found.findings if f.check == "auth.login_failure_rate" and f.subject == "all")
    assert rate.outcome is Outcome.CRITICAL and rate.severity is Severity.P0 and rate.value == pytest.approx(66.667)
    assert _problems(found.findings, "auth.token_server_errors")[0].severity is Severity.P0
    slow = next(f for f in found.findings if f.check == "auth.token_slow_answers")
    assert slow.outcome is Outcome.NOT_EVALUATED, "no duration in the drain: not judged, never OK"
    assert not _problems(signins.findings, "auth.credential_stuffing") and not signins.stuffing
    coverage = next(f for f in signins.findings if f.check == "auth.log_drain_coverage")
    assert coverage.value == 100
    assert symptoms.symptom is auth.Symptom.NEW_LOGINS
    assert not exit_check.met and "미충족" in exit_check.sentence
    assert affected.users_failed == 8 and affected.users_still_out == 8 and affected.attempts_failed == 12


def test_round1_through_the_whole_notebook(contract_db, tmp_path):
    _round1(contract_db.admin)
    result = runner.run("auth", {"until": UNTIL.isoformat()}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["symptom"] == "new_logins" and facts["exit_condition_met"] is False
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in result.folder.iterdir())
    assert "hand3@example.org" not in text and "+821055550003" not in text


def test_round1b_broken_password_hashing_reads_as_an_outage_not_stuffing(contract_db):
    with psycopg.connect(contract_db.admin) as conn, conn.cursor() as cur:
        users = [_user(cur, n) for n in range(40)]
        for i, u in enumerate(users):
            for k in range(1 + i % 2):
                _log(
                    cur,
                    UNTIL - timedelta(minutes=30 - i * 0.7 - k * 0.2),
                    status=400,
                    code="invalid_credentials",
                    user=u,
                    metadata={"remote_addr": f"211.45.{i}.{10 + k}", "user_agent": "FanApp/3.4.1 (Android 15)"},
                )
        conn.commit()
    with db.read_only(contract_db.reader, "auth") as conn:
        found = auth.detect(conn, WINDOW)
        signins = auth.patterns(conn, WINDOW)
        symptoms = auth.separate(conn, WINDOW)
    assert _problems(found.findings, "auth.login_failure_rate")[0].severity is Severity.P0
    assert not _problems(signins.findings, "auth.credential_stuffing"), "40 users from 40 addresses is not an attack"
    assert not _problems(signins.findings, "auth.user_hammering")
    assert symptoms.symptom is auth.Symptom.NEW_LOGINS
    assert "invalid_credentials" in symptoms.diagnosis or "비밀번호 오류" in symptoms.diagnosis


def _round2(admin: str) -> None:
    with psycopg.connect(admin) as conn, conn.cursor() as cur:
        users = [_user(cur, n) for n in range(25)]
        for i in range(60):  # two stuffing sources through the gateway prefix, no account resolved
            _log(
                cur,
                UNTIL - timedelta(minutes=50 - i * 0.8),
                path="/auth/v1/token?grant_type=password",
                status=400,
                code="invalid_credentials",
                metadata={"remote_addr": f"198.51.100.{7 + i % 2}", "user_agent": "curl/8.5.0"},
            )
        _log(cur, UNTIL - timedelta(minutes=10), path="/auth/v1/token?grant_type=password", user=users[24],
             metadata={"remote_addr": "198.51.100.7"})  # fmt: skip
        for i in range(12):  # one user mistyping, from home
            _log(cur, UNTIL - timedelta(minutes=40 - i), status=400, code="invalid_credentials", user=users[23],
                 metadata={"remote_addr": "211.1.2.3"})  # fmt: skip
        for i in range(20):  # everyone else: fine; provider and platform unknown to the drain
            _log(cur, UNTIL - timedelta(minutes=58 - i * 2.5), user=users[i], metadata={"remote_addr": f"211.9.9.{i}"})
        conn.commit()


def test_round2_stuffing_with_a_takeover_and_one_user_hammering(contract_db):
    _round2(contract_db.admin)
    with db.read_only(contract_db.reader, "auth") as conn:
        found = auth.detect(conn, WINDOW)
        signins = auth.patterns(conn, WINDOW)
        symptoms = auth.separate(conn, WINDOW)
        exit_check = auth.exit_condition(conn, UNTIL)
    stuffing = _problems(signins.findings, "auth.credential_stuffing")
    assert stuffing and stuffing[0].severity is Severity.P1 and stuffing[0].value == 2
    takeover = _problems(signins.findings, "auth.stuffing_account_takeover")
    assert takeover and takeover[0].severity is Severity.P0 and takeover[0].value == 1
    hammer = _problems(signins.findings, "auth.user_hammering")
    assert hammer and hammer[0].severity is Severity.P3 and hammer[0].value == 12
    rate = next(f for f in found.findings if f.check == "auth.login_failure_rate" and f.subject == "all")
    assert rate.outcome is Outcome.OK and rate.value == 0, rate.detail
    assert found.excluded_attempts == 61 + 12
    assert symptoms.symptom is auth.Symptom.NONE and "스터핑" in symptoms.diagnosis
    # users' last own login was 10.5 minutes before the end (the takeover is the attacker's): nothing to judge
    assert not exit_check.met and "판단 보류" in exit_check.sentence, exit_check.sentence
    masked = signins.sources.to_string()
    assert "198.51.x.x" in masked and "198.51.100.7" not in masked


def test_round2_through_the_whole_notebook(contract_db, tmp_path):
    _round2(contract_db.admin)
    result = runner.run("auth", {"until": UNTIL.isoformat()}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL, "a takeover is P0"
    assert not [f for f in result.findings if f.check == "auth.login_failure_rate" and f.outcome.is_problem]
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in result.folder.iterdir())
    assert "198.51.100.7" not in text and "211.1.2.3" not in text


def test_round3_jwt_expiry_disagrees_and_rls_blocks_signed_in_users(contract_db):
    with psycopg.connect(contract_db.admin) as conn, conn.cursor() as cur:
        users = [_user(cur, n) for n in range(6)]
        for k, u in enumerate(users[:5]):
            sid = uuid.uuid4()
            cur.execute(
                "INSERT INTO auth.sessions (id, user_id, created_at, updated_at) VALUES (%s, %s, %s, %s)",
                (sid, u, UNTIL - timedelta(hours=2), UNTIL),
            )
            for g in range(8):  # a token every 300 s
                at = UNTIL - timedelta(seconds=300 * g + 10 * k)
                cur.execute(
                    "INSERT INTO auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (f"t{k}-{g}", str(u), g > 0, at, at + timedelta(seconds=300 if g else 0), sid),
                )
            _log(cur, UNTIL - timedelta(minutes=50), user=u)
        cur.execute(
            "INSERT INTO auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)"
            " VALUES ('orphan', NULL, false, NULL, %s, NULL)",
            (UNTIL - timedelta(minutes=5),),
        )
        for i in range(60):
            cur.execute(
                "INSERT INTO logs.edge_logs (id, \"timestamp\", method, path, status_code, user_id, client_platform)"
                " VALUES (%s, %s, 'GET', %s, %s, %s, NULL)",
                (uuid.uuid4(), UNTIL - timedelta(minutes=45 - i * 0.5), "/rest/v1/posts?select=*",
                 403 if i % 4 else 200, users[i % 5]),
            )  # fmt: skip
        conn.commit()
    with db.read_only(contract_db.reader, "auth") as conn:
        expiry = auth.jwt_expiry(conn, WINDOW, 3600)
        symptoms = auth.separate(conn, WINDOW)
    (mismatch,) = expiry.findings
    assert mismatch.outcome is Outcome.CRITICAL and mismatch.severity is Severity.P1 and mismatch.value == 12
    assert "300초" in expiry.sentence
    rls = next(f for f in symptoms.findings if f.check == "auth.rls_denials")
    assert rls.severity is Severity.P0 and rls.value == 75
    assert symptoms.symptom is auth.Symptom.RLS
    with db.read_only(contract_db.reader, "auth") as conn:
        agreeing = auth.jwt_expiry(conn, WINDOW, 300)
    assert agreeing.findings[0].outcome is Outcome.OK


def test_round4_a_partial_drain_is_said_not_read_as_all_clear(contract_db):
    """Expected (written first): 20 audited logins, 3 of them in auth_logs (the drain dropped the rest)
    → drain coverage 15 % P1; the failure rate is not judged on 3 attempts (never OK on a blind drain)."""
    with psycopg.connect(contract_db.admin) as conn, conn.cursor() as cur:
        users = [_user(cur, n) for n in range(20)]
        for i, u in enumerate(users):
            ts = UNTIL - timedelta(minutes=55 - i * 2.5)
            _audit_login(cur, ts, u)
            if i % 7 == 0:
                _log(cur, ts, user=u)
        conn.commit()
    with db.read_only(contract_db.reader, "auth") as conn:
        found = auth.detect(conn, WINDOW)
        signins = auth.patterns(conn, WINDOW)
    coverage = next(f for f in signins.findings if f.check == "auth.log_drain_coverage")
    assert coverage.outcome is Outcome.CRITICAL and coverage.severity is Severity.P1 and coverage.value == 15
    rate = next(f for f in found.findings if f.check == "auth.login_failure_rate" and f.subject == "all")
    assert rate.outcome is Outcome.NOT_EVALUATED

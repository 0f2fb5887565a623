"""Hand-built incident databases for the messaging page (§3-C), written on the bare contract.

No seeder: users through auth.users (the contract's new-user trigger makes profiles and
wallets), messages claimed with the contract's own claim_due_messages(), the kill switch pulled
by an UPDATE its audit trigger records, policies dropped and added with DDL. The expected
verdict of each round is written (in its docstring) from the runbook before the page ran;
each defect the rounds found is a regression test below.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest

from opslib import actions, db, messaging, runner
from opslib.errors import ActionRefused
from opslib.messaging.exit_criteria import bucket_failures, realtime_span_problem
from opslib.messaging.layers import split_layers
from opslib.messaging.rls import compare, contract_policies
from opslib.results import Finding, Outcome, Severity, Verdict
from opslib.timewindow import Window


class Hand:
    """Writes a messaging incident by hand, the way the app and its functions would."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.now = conn.execute("SELECT now()").fetchone()[0]

    def ago(self, minutes: float) -> datetime:
        return self.now - timedelta(minutes=minutes)

    def user(self, handle: str) -> str:
        uid = str(uuid.uuid4())
        self.conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (uid, f"{handle}@example.com"))
        return uid

    def subscribe(self, fan: str, creator: str, status: str = "active") -> None:
        self.conn.execute(
            "INSERT INTO public.subscriptions (fan_id, creator_id, price_dt, status, started_at, current_period_end)"
            " VALUES (%s, %s, 300, %s, now() - interval '10 days', now() + interval '20 days')",
            (fan, creator, status),
        )

    def message(
        self,
        sender: str,
        *,
        audience: str = "user",
        recipient: str | None = None,
        due_minutes_ago: float | None,
        created_minutes_ago: float = 60,
        price: int = 0,
    ) -> str:
        mid = str(uuid.uuid4())
        self.conn.execute(
            "INSERT INTO public.messages"
            " (id, sender_id, audience, recipient_id, body, price_dt, scheduled_at, created_at)"
            " VALUES (%s, %s, %s, %s, 'hi', %s, %s, %s)",
            (
                mid,
                sender,
                audience,
                recipient,
                price,
                None if due_minutes_ago is None else self.ago(due_minutes_ago),
                self.ago(created_minutes_ago),
            ),
        )
        return mid

    def claim(self, limit: int) -> list[str]:
        """What scheduled-dispatcher does first: claim due messages through the contract's function."""
        return [str(r[0]) for r in self.conn.execute("SELECT id FROM public.claim_due_messages(%s)", (limit,))]

    def send(self, mid: str, *, minutes_ago: float, inbox: list[str], push: list[str] = ()) -> None:
        """The dispatcher's fan-out and its final update (sent_at when it ran)."""
        at = self.ago(minutes_ago)
        for fan in inbox:
            self.conn.execute(
                "INSERT INTO public.message_delivery"
                " (message_id, recipient_id, channel, status, delivered_at, created_at)"
                " VALUES (%s, %s, 'inbox', 'delivered', %s, %s)",
                (mid, fan, at + timedelta(milliseconds=600), at),
            )
        for fan in push:
            self.conn.execute(
                "INSERT INTO public.message_delivery"
                " (message_id, recipient_id, channel, status, delivered_at, created_at)"
                " VALUES (%s, %s, 'push', 'delivered', %s, %s)",
                (mid, fan, at + timedelta(seconds=2), at),
            )
        self.conn.execute(
            "UPDATE public.messages SET scheduled_status = 'sent', sent_at = %s, locked_at = NULL WHERE id = %s",
            (at, mid),
        )


@contextmanager
def hand(contract_db) -> Iterator[Hand]:
    with psycopg.connect(contract_db.admin) as conn:
        yield Hand(conn)
        conn.commit()


def run_page(contract_db, tmp_path) -> runner.RunResult:
    until = datetime.now(UTC) + timedelta(seconds=2)
    result = runner.run("messaging", {"until": until.isoformat()}, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    return result


def by_check(result: runner.RunResult) -> dict[str, Finding]:
    return {f.check: f for f in result.findings}


def facts(result: runner.RunResult) -> dict:
    """The page's own facts (open_page adds shared ones, e.g. traffic)."""
    found = json.loads((result.folder / "result.json").read_text())["facts"]
    return {k: found[k] for k in ("broken_layers", "exit_condition_met")}


# --- round 1 ------------------------------------------------------------------------------


def build_round_one(contract_db) -> dict[str, object]:
    """Round 1, quiet hour, no log drain at all, the dispatcher dead for 40 minutes.

    Expected from the runbook before the page ran:
    - 감지 backlog: 58 scheduled one-to-one messages due 5-40 min ago + 4 send-now messages
      (scheduled_at NULL, created 30 min ago) never claimed = 62 overdue > 50 → WARN P1; the
      runbook's own query answers 58 (it cannot see the send-now ones).
    - 감지 message_delivery 누락: creator A's post to subscribers reached 2 of its 3 active
      subscribers (the cancelled one is not audience) and B's followers post has no inbox row at
      all → 2 messages → WARN P2.
    - No drain: Realtime, dispatcher silence and fans' reads cannot be judged (N/A, not OK, not ERROR).
    - Verdict FAIL (P1); broken layer: dispatcher; exit not met (backlog above 50); impact:
      62 late messages still waiting, fans waiting = the 6 distinct recipients.
    """
    with hand(contract_db) as h:
        a, b = h.user("creator.a"), h.user("creator.b")
        fans = [h.user(f"fan{i}") for i in range(6)]
        for fan in fans[:3]:
            h.subscribe(fan, a)
        h.subscribe(fans[3], a, status="cancelled")
        h.subscribe(fans[4], b, status="past_due")
        post = h.message(a, audience="subscribers", due_minutes_ago=21)
        followers = h.message(b, audience="followers", due_minutes_ago=16)
        assert set(h.claim(10)) == {post, followers}
        h.send(post, minutes_ago=20, inbox=fans[:2], push=fans[:2])
        h.send(followers, minutes_ago=15, inbox=[])
        for i in range(58):
            h.message(a, recipient=fans[i % 6], due_minutes_ago=5 + i * 35 / 58, price=30 if i % 2 else 0)
        for i in range(4):
            h.message(b, recipient=fans[i], due_minutes_ago=None, created_minutes_ago=30)
    return {"fans": fans}


def test_round_one_through_the_page(contract_db, tmp_path):
    build_round_one(contract_db)
    result = run_page(contract_db, tmp_path)
    found = by_check(result)
    backlog = found["messaging.scheduled_backlog"]
    assert (backlog.outcome, backlog.severity, backlog.value) == (Outcome.WARN, Severity.P1, 62)
    assert "즉시 발송(scheduled_at NULL) 4건" in backlog.detail
    gaps = found["messaging.delivery_missing"]
    assert (gaps.outcome, gaps.severity, gaps.value) == (Outcome.WARN, Severity.P2, 2)
    for check in ("messaging.realtime_latency_p95", "messaging.dispatcher_silent", "messaging.fan_reads_empty"):
        assert found[check].outcome is Outcome.NOT_EVALUATED, check
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    assert result.verdict is Verdict.FAIL
    assert facts(result) == {"broken_layers": ["dispatcher"], "exit_condition_met": False}
    report = (result.folder / "messaging.html").read_text(encoding="utf-8")
    assert "런북 쿼리 답 (NOW() 기준): 58건" in report
    assert "늦은 메시지 (messages late &gt; 90 s): **62건**" in report or "62건" in report


def test_round_one_impact_counts_waiting_fans(contract_db):
    build_round_one(contract_db)
    until = datetime.now(UTC)
    with db.read_only(contract_db.reader, "t") as conn:
        affected = messaging.impact(conn, Window(until - timedelta(hours=1), until))
    assert affected.complete
    assert (affected.messages_late, affected.still_waiting, affected.fans_waiting) == (62, 62, 6)
    assert affected.paid_messages == 29
    assert affected.longest_delay_s is not None and 39 * 60 < affected.longest_delay_s < 41 * 60


# --- round 2 ------------------------------------------------------------------------------


def build_round_two(contract_db) -> None:
    """Round 2: a claim that died, the kill switch left off, RLS tampered with, push failing, a
    Realtime drain holding only five (slow) events.

    Expected from the runbook before the page ran:
    - 6 messages claimed by claim_due_messages() 25 minutes ago and never sent: stuck (lock > 10
      min) → WARN P1; the kill switch then pulled (UPDATE, audited by the contract's trigger) with
      12 messages due 10-20 min ago waiting → CRITICAL P1; backlog 12 < 50 → OK.
    - RLS off on message_delivery → P0 (every fan reads every delivery); the media read policy
      replaced by an anon one → 2 differences (1 missing, 1 added) → P1.
    - Push: 25 push rows of a message sent 10 min ago, 10 failed with no error text (the contract
      allows NULL) → 40 % → P1; its inbox rows all delivered.
    - Realtime: 5 broadcasts at 8 s in a quiet hour: below 10 samples but all 5 slow → judged → P0.
    - Verdict FAIL; broken layers realtime and dispatcher; exit not met (Realtime 8 s).
    """
    with hand(contract_db) as h:
        a = h.user("creator.a")
        fans = [h.user(f"fan{i}") for i in range(25)]
        for fan in fans:
            h.subscribe(fan, a)
        claimed = [h.message(a, recipient=fans[i], due_minutes_ago=26) for i in range(6)]
        assert set(h.claim(100)) == set(claimed)
        h.conn.execute(
            "UPDATE public.messages SET locked_at = now() - interval '25 minutes' WHERE id = ANY(%s::uuid[])",
            (claimed,),
        )
        post = h.message(a, audience="subscribers", due_minutes_ago=11)
        assert h.claim(10) == [post]
        h.send(post, minutes_ago=10, inbox=fans, push=fans)
        h.conn.execute(
            "UPDATE public.message_delivery SET status = 'failed', delivered_at = NULL, error = NULL"
            " WHERE message_id = %s AND channel = 'push' AND recipient_id = ANY(%s::uuid[])",
            (post, fans[:10]),
        )
        h.conn.execute("UPDATE public.feature_flags SET enabled = false WHERE key = 'messages.scheduled_dispatch'")
        for i in range(12):
            h.message(a, recipient=fans[i], due_minutes_ago=10 + i * 10 / 12)
        h.conn.execute("ALTER TABLE public.message_delivery DISABLE ROW LEVEL SECURITY")
        h.conn.execute('DROP POLICY "message-media: sender or entitled recipient read" ON storage.objects')
        h.conn.execute(
            'CREATE POLICY "message-media: anyone read" ON storage.objects FOR SELECT TO anon'
            " USING (bucket_id = 'message-media')"
        )
        for i in range(5):
            h.conn.execute(
                'INSERT INTO logs.realtime_logs (id, "timestamp", level, event_type, channel, latency_ms)'
                " VALUES (%s, now() - %s * interval '1 minute', 'info', 'broadcast', 'room:a', 8000)",
                (str(uuid.uuid4()), 3 + i * 7),
            )


def test_round_two_through_the_page(contract_db, tmp_path):
    build_round_two(contract_db)
    result = run_page(contract_db, tmp_path)
    found = by_check(result)

    def judged(check: str) -> tuple[Outcome, Severity | None, object]:
        f = found[check]
        return f.outcome, f.severity, f.value

    assert judged("messaging.stuck_processing") == (Outcome.WARN, Severity.P1, 6)
    assert judged("messaging.scheduled_dispatch_kill_switch") == (Outcome.CRITICAL, Severity.P1, 12)
    assert judged("messaging.scheduled_backlog")[0] is Outcome.OK
    assert judged("messaging.rls_disabled") == (Outcome.CRITICAL, Severity.P0, 1)
    assert judged("messaging.rls_policies") == (Outcome.CRITICAL, Severity.P1, 2)
    assert judged("messaging.push_failure_rate") == (Outcome.CRITICAL, Severity.P1, 40)
    assert judged("messaging.realtime_latency_p95") == (Outcome.CRITICAL, Severity.P0, 8000)
    assert found["messaging.delivery_missing"].outcome is Outcome.OK
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    assert result.verdict is Verdict.FAIL
    assert facts(result) == {"broken_layers": ["realtime", "dispatcher"], "exit_condition_met": False}
    assert "kill_switch.toggle" in found["messaging.scheduled_dispatch_kill_switch"].detail


def test_round_two_recovery_actions(contract_db):
    """The recovery in order: release the switch, release the stuck claims, trigger the dispatcher."""
    build_round_two(contract_db)
    actor = contract_db.actor
    with pytest.raises(ActionRefused, match="is off"):
        actions.perform("trigger-scheduled-dispatcher", confirm="trigger-scheduled-dispatcher", database_url=actor)
    with pytest.raises(ActionRefused, match="too young"):
        actions.perform("release-stuck-messages", database_url=actor, options={"lock_age_minutes": 2})

    plan = actions.perform("release-stuck-messages", database_url=actor, options={"lock_age_minutes": 10})
    assert not plan.executed and plan.changed and plan.before["messages"] == 6
    done = actions.perform(
        "release-stuck-messages",
        confirm="release-stuck-messages",
        database_url=actor,
        wi_id="WI-7",
        options={"lock_age_minutes": 10},
    )
    assert done.executed and done.changed and len(done.audit_rows) == 1
    again = actions.perform(
        "release-stuck-messages", confirm="release-stuck-messages", database_url=actor, options={"lock_age_minutes": 10}
    )
    assert again.executed and not again.changed

    back = actions.perform("messages-kill-switch", confirm="messages-kill-switch", undo=True, database_url=actor)
    assert back.changed and back.after["enabled"] is True

    dry = actions.perform("trigger-scheduled-dispatcher", database_url=actor)
    assert dry.changed and dry.after["would_claim"] == 18, "12 waiting + the 6 released"
    fired = actions.perform(
        "trigger-scheduled-dispatcher", confirm="trigger-scheduled-dispatcher", database_url=actor, wi_id="WI-7"
    )
    assert fired.executed and fired.changed and fired.after["request_id"] >= 1
    twice = actions.perform("trigger-scheduled-dispatcher", confirm="trigger-scheduled-dispatcher", database_url=actor)
    assert not twice.changed, "a second trigger within a minute writes nothing"

    with psycopg.connect(contract_db.admin) as conn:
        statuses = dict(conn.execute("SELECT scheduled_status, count(*) FROM public.messages GROUP BY 1").fetchall())
        queued = conn.execute("SELECT url, headers FROM net.http_request_queue").fetchall()
        audits = [r[0] for r in conn.execute("SELECT action FROM public.admin_audit_log ORDER BY id").fetchall()]
    assert statuses == {"pending": 18, "sent": 1}
    assert len(queued) == 1 and queued[0][0].endswith("/functions/v1/scheduled-dispatcher")
    assert "x-cron-secret" in queued[0][1], "sent as pg_cron sends it, with the secret read from Vault"
    assert audits == ["kill_switch.toggle", "messages.release_stuck", "kill_switch.toggle", "dispatcher.trigger"]
    text = json.dumps([fired.describe(), dry.describe()])
    with psycopg.connect(contract_db.admin) as conn:
        secret = conn.execute(
            "SELECT decrypted_secret FROM vault.decrypted_secrets WHERE name = 'cron_secret'"
        ).fetchone()[0]
    assert secret not in text


def test_notice_banner_is_published_once(contract_db):
    done = actions.perform("messages-notice-banner", confirm="messages-notice-banner", database_url=contract_db.actor)
    again = actions.perform("messages-notice-banner", confirm="messages-notice-banner", database_url=contract_db.actor)
    assert done.changed and not again.changed and len(done.audit_rows) == 1
    with psycopg.connect(contract_db.admin) as conn:
        placement = conn.execute("SELECT placement FROM public.banners WHERE is_active").fetchall()
        reason = conn.execute("SELECT reason FROM public.admin_audit_log").fetchone()[0]
    assert placement == [("home_top",)]
    assert reason == "scheduled messages notice banner"


# --- pure logic ----------------------------------------------------------------------------


def test_a_fresh_contract_has_exactly_the_contract_policies(contract_db):
    with db.read_only(contract_db.reader, "t") as conn:
        from opslib.fetch import fetch

        frame = fetch(conn, "messaging.policies", {}).frame
    diffs, rls_off, listing = compare(frame)
    assert diffs == [] and rls_off == []
    assert len(listing) == len(contract_policies()) == 6


def test_a_policy_recreated_with_another_condition_is_a_change():
    rows = []
    for p in contract_policies():
        schema, table = p["table"].split(".")
        using = "false" if p["name"] == "messages: recipients read delivered" else p["using"]
        rows.append(
            {
                "schema_name": schema,
                "table_name": table,
                "rls_enabled": True,
                "policyname": p["name"],
                "cmd": p["cmd"],
                "permissive": p["permissive"],
                "roles": p["roles"],
                "using_expr": using,
                "check_expr": p["check"],
            }
        )
    diffs, _, _ = compare(pd.DataFrame(rows))
    assert [(d.policy, d.change, d.fan_read) for d in diffs] == [
        ("messages: recipients read delivered", "changed", True)
    ]


def test_a_minute_fails_on_each_condition_and_is_good_without_them():
    good = {
        "backlog_end": 50,
        "late_sent": 0,
        "late_waiting": 0,
        "deliveries": 3,
        "delivery_p95_ms": 1999,
        "rt_latency_samples": 3,
    }
    assert bucket_failures({**good, "rt_latency_p95_ms": 1999.0}, 2000, 90) == []
    assert bucket_failures({**good, "backlog_end": 51}, 2000, 90) == ["백로그 51건 > 50"]
    assert bucket_failures({**good, "late_sent": 2}, 2000, 90) == ["90초 넘게 늦은 발송 2건"]
    # regression (round 2): 12 messages waiting behind a pulled kill switch, nothing due lately,
    # made every minute after their own look good and the exit read "met"
    assert bucket_failures({**good, "late_waiting": 12}, 2000, 90) == ["90초 넘게 기다리는 메시지 12건"]
    assert bucket_failures({**good, "delivery_p95_ms": 2000}, 2000, 90) == ["전달 지연 P95 2.0초"]
    # a latency from nothing delivered, or from too few Realtime events, is not judged
    assert bucket_failures({**good, "deliveries": 0, "delivery_p95_ms": 9000}, 2000, 90) == []
    quiet_rt = {**good, "rt_latency_samples": 2, "rt_latency_p95_ms": 9000.0}
    assert bucket_failures(quiet_rt, 2000, 90) == []
    assert bucket_failures({**quiet_rt, "rt_latency_samples": 3}, 2000, 90) == ["Realtime P95 9.0초"]
    # NULLs the contract allows (no delivery time yet) read as nothing measured
    assert bucket_failures({"backlog_end": None, "late_sent": None, "deliveries": None}, 2000, 90) == []


def test_the_held_span_is_judged_as_a_whole_for_realtime():
    calm = pd.DataFrame([{"latency_samples": 2, "latency_p95_ms": 9000.0, "joins": 30, "errors": 0}])
    assert realtime_span_problem(calm) == ""
    slow = pd.DataFrame([{"latency_samples": 4, "latency_p95_ms": 9000.0, "joins": 30, "errors": 0}])
    assert "P95 9.0초" in realtime_span_problem(slow)
    failing = pd.DataFrame([{"latency_samples": 0, "latency_p95_ms": None, "joins": 2, "errors": 5}])
    assert "에러율" in realtime_span_problem(failing)


def _finding(check: str, outcome: Outcome, severity: Severity | None = None) -> Finding:
    return Finding(check=check, outcome=outcome, section="§3-C", title=check, severity=severity, value=1)


def test_layers_are_named_in_the_runbooks_order_and_errors_are_not_all_clear():
    split = split_layers(
        [
            _finding("messaging.dispatcher_errors", Outcome.CRITICAL, Severity.P0),
            _finding("messaging.realtime_error_rate", Outcome.WARN, Severity.P2),
            _finding("messaging.rest_5xx_rate", Outcome.ERROR),
            _finding("cron.job_http_failures", Outcome.CRITICAL, Severity.P0),
        ]
    )
    assert split.layers == ["realtime", "dispatcher"]
    assert "판단 못한 층" in split.sentence and "DB insert/update" in split.sentence
    assert split_layers([_finding("messaging.push_failure_rate", Outcome.CRITICAL, Severity.P1)]).layers == []


def test_a_failing_query_is_an_error_finding_and_the_step_goes_on(contract_db):
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON logs.realtime_logs FROM opsbook_reader")
    until = datetime.now(UTC)
    with db.read_only(contract_db.reader, "t") as conn:
        detected = messaging.detect(conn, Window(until - timedelta(hours=1), until))
    found = {f.check: f.outcome for f in detected.findings}
    assert found["messaging.realtime_latency_p95"] is Outcome.ERROR
    assert found["messaging.realtime_error_rate"] is Outcome.ERROR
    assert found["messaging.scheduled_backlog"] is Outcome.OK, "the other queries still ran"

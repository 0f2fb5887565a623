"""Hand-built databases for the logs page, written on the bare contract (no seeder): console lines inserted
into logs.function_logs as the log drain writes them, JSON or not. The expected findings of each round
were written from the runbook (§4-A/B/C and logs.yaml's lines) BEFORE the page ran.

Round 1: a busy window mixing every deviation but personal data (plain-text lines, a payment event with a
null currency, a payment failure at warn, a non-normalized event name, a severity that contradicts the
level), with masked ids and order numbers that must not read as personal data.
Round 2: a quiet window (lines only before it: "no events", never "OK 100 %"), then the same database over
a window holding NULL fields, a broken JSON line and a plain-text line with an email and a phone number.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg

from opslib import runner
from opslib.results import Outcome, Verdict

UNTIL = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class Hand:
    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)

    def line(self, fn: str, minutes_before: float, level: str, message: str | dict, *, execution: bool = True) -> None:
        """execution=False: a line the drain wrote without an execution id (the contract allows NULL)."""
        text = message if isinstance(message, str) else json.dumps(message)
        self.conn.execute(
            'INSERT INTO logs.function_logs (id, "timestamp", function_name, level, execution_id, event_message)'
            " VALUES (gen_random_uuid(), %s, %s, %s, CASE WHEN %s THEN gen_random_uuid()::text END, %s)",
            (UNTIL - timedelta(minutes=minutes_before), fn, level, execution, text),
        )


def std(event: str, domain: str, severity: str = "info", **extra: object) -> dict:
    return {
        "env": "production",
        "release": "fn@v1",
        "platform": "edge",
        "request_id": "req_123",
        "event": event,
        "severity": severity,
        "domain": domain,
        "actor_id": "user_1a2b3c4d",  # masked, as §4-B asks: not personal data
        **extra,
    }


def payment(**override: object) -> dict:
    fields = {
        "payer_id": "user_abcd1234",
        "amount": 15000,
        "currency": "KRW",
        "provider": "portone",
        "order_id": "ord_20261202_000123",
        "idempotency_key": "whk_01a23aea-9e14-7c35",
        "status": "processed",
        "timestamp": "2026-12-02T11:40:00.000Z",
        "entity_id": "ord_20261202_000123",
    }
    return {**std("payment.webhook.processed", "payment", **fields), **override}


def run(db, tmp_path, **params):
    return runner.run("logs", {"until": UNTIL.isoformat(), **params}, database_url=db.reader, out_dir=tmp_path)


def problems(result) -> dict[tuple[str, str | None], str]:
    return {(f.check, f.subject): f.severity.value for f in result.findings if f.outcome.is_problem and f.severity}


def test_round1_every_deviation_but_personal_data(contract_db, tmp_path):
    expected = {
        ("logs.structured", "fan-notify"): "P2",  # 8 of 10 lines JSON = 80 % < 90
        ("logs.payment_fields", "payment-webhook"): "P2",  # 5 of 6 payment events complete (one null currency)
        ("logs.payment_failure_level", "payment-webhook"): "P2",  # payment.charge.failed at warn
        ("logs.event_names", "ops-manage"): "P3",  # AdminLogin, admin.login
        ("logs.severity_mismatch", "ops-manage"): "P3",  # severity error at level info
    }
    h = Hand(contract_db.admin)
    for i in range(8):
        h.line("fan-notify", 50 - i, "info", std("chat.push.sent", "chat", entity_id=f"msg_{i:06d}"))
    h.line("fan-notify", 10, "log", "sent push to 3 devices")
    h.line("fan-notify", 9, "log", "{broken json")
    for i in range(4):
        h.line("payment-webhook", 40 - i, "info", payment())
    h.line("payment-webhook", 20, "info", payment(currency=None))  # a NULL field is a missing one
    h.line("payment-webhook", 19, "warn", payment(status="failed", severity="warn", event="payment.charge.failed"))
    h.line("ops-manage", 30, "info", std("AdminLogin", "admin"))
    h.line("ops-manage", 29, "info", std("admin.login", "admin"))
    h.line("ops-manage", 28, "info", std("admin.banner.published", "admin", severity="error"))
    h.line("ops-manage", 27, "info", std("admin.banner.published", "admin"))
    # before the window: personal data that must not be counted
    h.line("ops-manage", 90, "info", "user kim@example.com logged in from 010-1234-5678")

    result = run(contract_db, tmp_path)
    assert result.error is None, result.error
    assert problems(result) == expected
    assert result.verdict is Verdict.FAIL  # five P2/P3 issues (§6: more than two)
    found = {f.key: f for f in result.findings}
    assert found["logs.structured[fan-notify]"].value == 80
    assert found["logs.payment_fields[payment-webhook]"].value == 83.333
    assert "currency 1건" in found["logs.payment_fields[payment-webhook]"].detail
    assert found["logs.event_names[ops-manage]"].value == 2
    assert found["logs.pii[payment-webhook]"].outcome is Outcome.OK  # masked ids, order numbers, amounts
    assert found["logs.common_fields[fan-notify]"].outcome is Outcome.OK  # judged on its JSON lines
    assert all(found[f"logs.pii[{fn}]"].value == 0 for fn in ("fan-notify", "payment-webhook", "ops-manage"))
    data = json.loads((result.folder / "result.json").read_text())
    assert data["exit_state"]["met"] is False


def test_round2_a_quiet_window_says_no_events(contract_db, tmp_path):
    h = Hand(contract_db.admin)
    h.line("chat-relay", 200, "info", "relay failed for kim.minsu@example.com")  # long before the window
    result = run(contract_db, tmp_path)
    assert result.error is None, result.error
    mine = [f for f in result.findings if f.check.startswith("logs.")]
    assert mine and all(f.outcome is Outcome.NOT_EVALUATED for f in mine)
    assert not any(f.outcome is Outcome.OK for f in mine)  # never "OK 100 %" on nothing
    assert any("no events" in h for h in result.headline), result.headline
    assert result.verdict is Verdict.PASS
    data = json.loads((result.folder / "result.json").read_text())
    assert data["exit_state"]["met"] is None
    html = (result.folder / "logs.html").read_text()
    assert "no events" in html


def test_round2_null_fields_broken_json_and_personal_data_in_plain_text(contract_db, tmp_path):
    expected = {
        ("logs.structured", "chat-relay"): "P2",  # 4 of 6 lines JSON
        ("logs.common_fields", "chat-relay"): "P2",  # request_id and release on 3 of 4 JSON lines
        ("logs.pii", "chat-relay"): "P1",  # the plain-text line's email and phone
    }
    h = Hand(contract_db.admin)
    for i in range(3):
        h.line("chat-relay", 30 - i, "info", std("chat.message.relayed", "chat", entity_id="msg_20261202_000123"))
    h.line("chat-relay", 20, "info", std("chat.message.relayed", "chat", request_id=None, release=""), execution=False)
    h.line("chat-relay", 10, "error", "relay failed for kim.minsu@example.com 010-2345-6789")
    h.line("chat-relay", 9, "error", '{"event": "chat.message.failed", ')  # cut off by the drain
    result = run(contract_db, tmp_path, window_minutes=45)
    assert result.error is None, result.error
    assert problems(result) == expected
    assert result.verdict is Verdict.FAIL
    found = {f.key: f for f in result.findings}
    assert found["logs.structured[chat-relay]"].value == 66.667
    assert found["logs.common_fields[chat-relay]"].value == 75
    assert "request_id 75.0%" in found["logs.common_fields[chat-relay]"].detail
    assert found["logs.pii[chat-relay]"].value == 1
    # no payment event at all: judged as such, not as "100 % complete"
    pay = [f for f in result.findings if f.check == "logs.payment_fields"]
    assert [f.outcome for f in pay] == [Outcome.NOT_EVALUATED]
    for p in result.folder.iterdir():
        text = p.read_text(errors="replace")
        assert "kim.minsu" not in text and "2345-6789" not in text, p.name

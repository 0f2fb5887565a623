"""The log-field standard's pure parts: the PII detector (positives and the false-positive shapes a healthy
log line is full of), the line rules (§4-A levels, §4-B names and fields, §4-C payment events) and the
thresholds as data."""

from __future__ import annotations

import json

import pytest

from opslib import checks
from opslib.logs import detector as pii
from opslib.logs import rules
from opslib.results import Outcome, Severity

# --- PII: what must be found --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "contact minsu.kim@example.com please",
        "user=fan42@gmail.co.kr",
        "<kim.minsu+fans@naver.com>",
    ],
)
def test_real_email_addresses_are_found(text):
    hits = pii.scan_text(text)
    assert [h.kind for h in hits] == [pii.EMAIL]
    assert "@" in hits[0].masked and "***" in hits[0].masked


@pytest.mark.parametrize(
    "text",
    ["call 010-1234-5678", "phone:01012345678", "+82 10-2345-6789 (mobile)", "tel +821023456789", "010.9876.5432"],
)
def test_korean_mobile_numbers_are_found(text):
    assert [h.kind for h in pii.scan_text(text)] == [pii.PHONE]


@pytest.mark.parametrize(
    "text",
    ["card 4111 1111 1111 1111", "pan=4111111111111111", "5555-5555-5555-4444", "amex 3782-822463-10005"],
)
def test_luhn_valid_card_numbers_are_found(text):
    assert [h.kind for h in pii.scan_text(text)] == [pii.CARD]


def test_a_raw_uuid_in_a_masked_id_field_is_personal_data():
    doc = {"actor_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "request_id": "7165d7ec-b59c-4c26-8f3b-cf8207b4ad23"}
    hits = pii.scan(json.dumps(doc), doc, ("actor_id", "payer_id", "entity_id"))
    assert [(h.kind, h.field) for h in hits] == [(pii.RAW_ID, "actor_id")]


def test_a_number_value_in_json_is_scanned_too():
    doc = {"card": 4111111111111111, "amount": 15000}
    assert [h.kind for h in pii.scan(json.dumps(doc), doc)] == [pii.CARD]


def test_plain_text_lines_are_scanned_whole():
    assert {h.kind for h in pii.scan("failed for kim@example.com 010-1234-5678", None)} == {pii.EMAIL, pii.PHONE}


# --- PII: the healthy baseline's shapes, never personal ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",  # a request id
        "whk_01a23aea-9e14-7c35-9a6c-535de0f71c91",  # a webhook id (uuid7 inside)
        "ord_20261202_000123",
        "ord_20261203_0101234567",  # an order number with an 010 run inside
        "stk_01023456789",  # an id token after '_'
        "rfd_0b2fb586d9a14d17a50aadf6e6dde85d",  # a hex digest
        "d41d8cd98f00b204e9800998ecf8427e",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha-256
        "2026-12-03T07:59:51.792Z",
        "20261203075951792",  # a compact timestamp
        "1764748800000",  # epoch milliseconds
        "amount 1500000 KRW",
        "amount: 12345678901234",  # a big number that is no card network's
        "INIpayCARD2026120307595100123",  # a PG transaction id
        "tviva20261203075951a1b2c",
        "payment-webhook@v41",  # a deploy version
        "m***@e***",  # already masked
        "010-****-**78",
        "user_c24818b2",
        "4111111111111112",  # Luhn-invalid
        "1 2 3 4 5 6 7 8 9 0 1 2 3",
    ],
)
def test_ids_orders_digests_timestamps_and_amounts_are_not_personal_data(text):
    assert pii.scan_text(text) == []


def test_the_healthy_baseline_lines_are_clean():
    lines = [
        '{"env" : "production", "release" : "payment-webhook@v41", "platform" : "edge", '
        '"request_id" : "93d073b2-1bbf-4c4b-847d-293f1542d79d", "event" : "payment.webhook.processed", '
        '"severity" : "info", "domain" : "payment", "provider" : "portone", "order_id" : "ord_20261203_0021022", '
        '"webhook_id" : "whk_01a23aed-8e71-7c35-9a6c-535de0f71c91", "status" : "processed", "http_status" : 200, '
        '"error" : null, "payer_id" : "user_435b07ce", "amount" : 1100, "currency" : "KRW", '
        '"idempotency_key" : "whk_01a23aed-8e71-7c35-9a6c-535de0f71c91", "timestamp" : "2026-12-03T08:03:04.357Z"}',
        '{"env": "production", "event": "payment.refund.executed", "amount": 110000, "domain": "payment", '
        '"idempotency_key": "rfd_0b2fb586d9a14d17a50aadf6e6dde85d", "payer_id": "user_c24818b2", '
        '"order_id": "ord_20261126_0010385", "timestamp": "2026-12-03T07:46:41.024Z"}',
    ]
    s = rules.standard()
    for line in lines:
        assert pii.scan(line, rules.parse(line), s.masked_id_fields) == []


def test_the_masked_form_never_holds_the_value():
    raw = "minsu.kim@example.com 010-2345-6789 4111 1111 1111 1111"
    for h in pii.scan_text(raw):
        assert "minsu" not in h.masked and "example" not in h.masked
        assert "2345" not in h.masked and "4111 1111" not in h.masked and "41111111" not in h.masked


def test_luhn():
    assert pii.luhn_ok("4111111111111111") and pii.luhn_ok("378282246310005")
    assert not pii.luhn_ok("4111111111111112")


# --- rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "structured"),
    [
        ('{"event": "x.y.z"}', True),
        ('  {"a": 1}\n', True),
        ("plain text line", False),
        ("{not json", False),
        ("[1, 2]", False),
        ('"a string"', False),
        ("", False),
        (None, False),
    ],
)
def test_a_line_is_structured_only_when_it_is_a_json_object(message, structured):
    assert (rules.parse(message) is not None) is structured


@pytest.mark.parametrize(
    ("event", "ok"),
    [
        ("payment.webhook.received", True),
        ("chat.dispatch.completed", True),
        ("payment.webhook.handler_error", True),
        ("dispatch.batch", False),
        ("Payment.Webhook.Received", False),
        ("payment webhook received", False),
        ("payment..received", False),
        ("storage_upload_failed", False),
    ],
)
def test_event_names_are_domain_noun_verb(event, ok):
    assert rules.normalized_event(event) is ok


def test_a_null_or_empty_field_is_not_present():
    doc = {"a": None, "b": "", "c": "  ", "d": 0, "e": "x"}
    assert [rules.present(doc, k) for k in "abcdef"] == [False, False, False, True, True, False]


def test_payment_events_by_domain_or_event_prefix():
    assert rules.is_payment({"domain": "payment", "event": "refund.x.y"})
    assert rules.is_payment({"event": "payment.webhook.received"})
    assert not rules.is_payment({"domain": "settlement", "event": "settlement.reconcile.completed"})
    assert not rules.is_payment(None)


@pytest.mark.parametrize(
    ("level", "doc", "flagged"),
    [
        ("warn", {"domain": "payment", "event": "payment.charge.failed"}, True),
        ("info", {"domain": "payment", "event": "payment.webhook.processed", "status": "error"}, True),
        ("error", {"domain": "payment", "event": "payment.charge.failed"}, False),
        ("warn", {"domain": "chat", "event": "chat.dispatch.failed"}, False),  # not a payment
        ("info", {"domain": "payment", "event": "payment.webhook.processed", "status": "processed"}, False),
    ],
)
def test_a_payment_failure_below_error(level, doc, flagged):
    assert rules.payment_failure_below_error(level, doc) is flagged


@pytest.mark.parametrize(
    ("level", "severity", "flagged"),
    [
        ("error", "info", True),
        ("info", "error", True),
        ("warn", "error", True),
        ("log", "info", False),  # one tier
        ("debug", "info", False),
        ("warn", "warning", False),
        ("error", "error", False),
        ("error", None, False),  # missing severity is the common-field check's
    ],
)
def test_severity_and_level_disagree_only_across_tiers(level, severity, flagged):
    doc = {} if severity is None else {"severity": severity}
    assert rules.severity_mismatch(level, doc) is flagged


# --- thresholds as data -----------------------------------------------------------------


def test_the_standard_reads_the_runbook_fields():
    s = rules.standard()
    assert s.common == (
        "env",
        "release",
        "platform",
        "actor_id",
        "session_id",
        "request_id",
        "trace_id",
        "event",
        "severity",
        "domain",
        "entity_id",
    )
    assert set(s.payment_fields) == {
        "payer_id",
        "amount",
        "currency",
        "provider",
        "order_id",
        "idempotency_key",
        "status",
        "timestamp",
    }
    required = {f.name for f in s.fields if f.required}
    assert {"event", "severity", "domain", "env", "release", "request_id"} <= required
    assert not required & {"actor_id", "session_id", "trace_id", "entity_id"}


def test_payment_events_need_every_field_and_pii_is_p1():
    pay = checks.get("logs.payment_fields")
    assert checks.evaluate(pay, 100.0).outcome is Outcome.OK
    assert checks.evaluate(pay, 99.9).severity is Severity.P2
    assert checks.evaluate(checks.get("logs.pii"), 1).severity is Severity.P1
    assert checks.evaluate(checks.get("logs.pii"), 0).outcome is Outcome.OK

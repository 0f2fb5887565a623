"""The payments page's pure logic, with plain values: no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from opslib import checks
from opslib.errors import ConfigError
from opslib.payments import (
    BucketMeasure,
    Condition,
    ExitThresholds,
    LedgerMeasure,
    PendingMeasure,
    ProviderCount,
    Stage,
    diagnose,
    evaluate_exit,
    load_pg_export,
)
from opslib.payments import standard_webhooks as sw
from opslib.payments.pg_export import map_headers, parse_amount, parse_time
from opslib.payments.postmortem import AFFECTED_COLUMNS, impact_markdown, totals_of
from opslib.payments.reconciliation import period_subject
from opslib.payments.signature_triage import (
    Deployment,
    SignatureBucket,
    coinciding,
    failure_onset,
    mask_webhook_id,
    triage_sentence,
)
from opslib.results import Outcome, Severity
from opslib.timewindow import KST, Window, kst_day

EXPORTS = Path(__file__).parent / "fixtures" / "pg_exports"
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 10:00 KST


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- exit condition --------------------------------------------------------------------------

THRESHOLDS = ExitThresholds(
    checkout_failure_max_pct=15,
    checkout_min_sample=10,
    webhook_success_min_pct=98,
    webhook_min_sample=10,
    ledger_lag_max_s=120,
    ledger_lag_min_sample=5,
)


def bucket(
    i: int,
    *,
    webhook: tuple[int, int] = (100, 100),
    checkout: tuple[int, int] = (1, 50),
    stale: int = 0,
    lag: float | None = 20.0,
    lag_n: int = 40,
    pending: int = 0,
) -> BucketMeasure:
    return BucketMeasure(
        start=at(5 * i),
        end=at(5 * i + 5),
        checkout=(ProviderCount("portone", *checkout),),
        webhook=(ProviderCount("portone", *webhook),),
        ledger=(LedgerMeasure("portone", stale, lag, lag_n),),
        pending=(PendingMeasure("portone", pending),) if pending else (),
    )


def test_thresholds_come_from_the_check_catalogue():
    t = ExitThresholds.from_catalogue()
    assert t.webhook_success_min_pct == checks.get("payments.webhook_success_rate").warn == 98
    assert t.checkout_failure_max_pct == checks.get("payments.checkout_failure_rate").warn
    assert t.ledger_lag_max_s == checks.get("payments.ledger_lag_p95").warn
    assert t.webhook_min_sample == checks.get("payments.webhook_success_rate").min_sample


def test_exit_met_after_thirty_good_minutes():
    buckets = [bucket(i, webhook=(80, 100)) for i in range(3)] + [bucket(i) for i in range(3, 10)]
    ev = evaluate_exit(buckets, THRESHOLDS, hold_minutes=30, until=at(50))
    assert ev.met
    assert ev.met_since == at(15)
    assert ev.held_minutes == 35
    assert ev.sentence.startswith("종료 조건 충족: 10:15 KST 이후 35분 유지")
    assert "(met since 10:15 KST)" in ev.sentence
    assert ev.failing == ()


def test_exit_not_met_names_the_failing_condition_and_since_when():
    buckets = [bucket(i) for i in range(4)] + [bucket(i, webhook=(921, 1000)) for i in range(4, 8)]
    ev = evaluate_exit(buckets, THRESHOLDS, hold_minutes=30, until=at(40))
    assert not ev.met and ev.met_since is None
    assert [(f.condition, f.subject, f.since) for f in ev.failing] == [(Condition.WEBHOOK, "portone", at(20))]
    assert ev.sentence == "미충족: webhook 성공률 (portone) 92.1 % since 10:20 KST (not met)"


def test_exit_recovered_but_not_for_long_enough():
    buckets = [bucket(i) for i in range(4)] + [bucket(4, stale=3)] + [bucket(i) for i in range(5, 7)]
    ev = evaluate_exit(buckets, THRESHOLDS, hold_minutes=30, until=at(35))
    assert not ev.met
    assert ev.met_since == at(25) and ev.held_minutes == 10
    assert ev.sentence.startswith("미충족: 10:25 KST 이후 10분 정상, 30분 유지 필요")
    assert "직전 실패: 원장 미반영 (portone) 3건 at 10:20 KST" in ev.sentence


def test_too_few_events_to_judge_counts_as_normal_but_is_said():
    quiet = [bucket(i, webhook=(1, 1), checkout=(0, 1), lag=900, lag_n=2) for i in range(8)]
    ev = evaluate_exit(quiet, THRESHOLDS, hold_minutes=30, until=at(40))
    assert ev.met
    assert ev.judged_buckets == 0
    assert "판단할 만큼의 결제/웹훅이 없음" in ev.sentence


def test_every_condition_can_fail():
    b = bucket(0, webhook=(90, 100), checkout=(20, 50), stale=2, lag=600, pending=4)
    ev = evaluate_exit([b], THRESHOLDS, hold_minutes=30, until=at(5))
    assert {f.condition for f in ev.failing} == set(Condition)
    assert "신규 결제 실패율 (portone) 40.0 %" in ev.sentence
    assert "PG 승인·DB 미반영 (portone) 4건" in ev.sentence
    assert "원장 반영 지연 P95 (portone) 600초" in ev.sentence


def test_a_failure_earlier_in_the_lookback_does_not_hold_back_a_long_recovery():
    buckets = [bucket(0, stale=1)] + [bucket(i) for i in range(1, 36)]
    ev = evaluate_exit(buckets, THRESHOLDS, hold_minutes=30, until=at(180))
    assert ev.met and ev.met_since == at(5)


QUIET_HOURS = replace(THRESHOLDS, webhook_min_failures=3, checkout_min_failures=5)


def test_a_quiet_bucket_is_judged_once_enough_of_it_failed():
    buckets = [bucket(i) for i in range(6)] + [bucket(6, webhook=(0, 3), checkout=(0, 3))]
    ev = evaluate_exit(buckets, QUIET_HOURS, hold_minutes=30, until=at(35))
    assert not ev.met
    assert [(f.condition, f.value) for f in ev.failing] == [(Condition.WEBHOOK, 0.0)]
    # two failures of three stay below min_failures: that bucket alone is not judged
    ev = evaluate_exit([bucket(0, webhook=(1, 3), checkout=(0, 3), lag_n=2)], QUIET_HOURS, 30, at(5))
    assert ev.failing == () and ev.judged_buckets == 0


def test_the_held_span_is_judged_as_a_whole():
    # half the webhooks fail in every bucket, two at a time: no bucket can be judged alone
    buckets = [bucket(i, webhook=(2, 4), checkout=(0, 2), lag_n=2) for i in range(12)]
    ev = evaluate_exit(buckets, QUIET_HOURS, hold_minutes=30, until=at(60))
    assert all(not breaches for _, breaches in ev.verdicts)
    assert not ev.met
    assert [(f.condition, f.subject, f.value, f.span_minutes) for f in ev.failing] == [
        (Condition.WEBHOOK, "portone", 50.0, 30.0)
    ]
    assert ev.sentence == "미충족: webhook 성공률 (portone) 50.0 %: 최근 30분 합계 (over the last 30 min) (not met)"


def test_payments_stuck_at_the_pg_hold_the_exit_back():
    # the PG approved, no webhook ever came: no delivery fails, yet the DB never caught up
    buckets = [bucket(i) for i in range(6)] + [bucket(i, pending=3) for i in range(6, 9)]
    ev = evaluate_exit(buckets, THRESHOLDS, hold_minutes=30, until=at(45))
    assert not ev.met
    assert [(f.condition, f.value, f.since) for f in ev.failing] == [(Condition.PG_PENDING, 3.0, at(30))]


# --- diagnosis -------------------------------------------------------------------------------


def finding(check_id: str, value: float, subject: str, sample: int | None = None):
    return checks.evaluate(checks.get(check_id), value, subject=subject, sample=sample)


def test_diagnosis_names_the_webhook_stage():
    d = diagnose(
        [
            finding("payments.checkout_failure_rate", 3.0, "portone", 200),
            finding("payments.pg_paid_db_pending", 42, "portone"),
            finding("payments.pg_paid_db_pending", 0, "tosspayments"),
            finding("payments.ledger_uncredited", 0, "portone"),
        ]
    )
    assert d.stage is Stage.WEBHOOK and d.stage.value == "webhook"
    assert d.sentence.startswith("Webhook 단계에서 끊김: PG 승인 42건이 DB에 반영되지 않음 (PortOne)")
    assert "Broken at Webhook" in d.sentence


def test_diagnosis_prefers_severity_then_the_earliest_stage():
    # ledger_uncredited 7 is CRITICAL (P0); checkout failure 20 % is WARN (P2).
    d = diagnose(
        [
            finding("payments.checkout_failure_rate", 20.0, "tosspayments", 100),
            finding("payments.ledger_uncredited", 7, "portone"),
        ]
    )
    assert d.stage is Stage.LEDGER
    assert "결제 완료 7건에 DT 미적립 (PortOne)" in d.sentence
    # Same severity (P1 WARN): the upstream stage wins.
    d = diagnose(
        [finding("payments.ledger_uncredited", 1, "portone"), finding("payments.pg_paid_db_pending", 1, "tosspayments")]
    )
    assert d.stage is Stage.WEBHOOK and "(TossPayments)" in d.sentence


def test_diagnosis_of_confirm_and_of_lag():
    d = diagnose([finding("payments.checkout_failure_rate", 35.3, "tosspayments", 100)])
    assert d.stage is Stage.CONFIRM and "PG 승인 실패율 TossPayments 35.3 %" in d.sentence
    d = diagnose([finding("payments.ledger_lag_p95", 812, "portone", 50)])
    assert d.stage is Stage.LEDGER and "P95 PortOne 812초" in d.sentence


def test_diagnosis_without_problems_or_with_errors():
    ok = diagnose([finding("payments.pg_paid_db_pending", 0, "portone")])
    assert ok.stage is None and ok.sentence.startswith("끊긴 단계 없음")
    err = diagnose([checks.error(checks.get("payments.ledger_uncredited"), "timeout")])
    assert err.stage is None and err.sentence.startswith("판정 불가") and "Ledger" in err.sentence


# --- signature triage ------------------------------------------------------------------------


def test_onset_is_the_start_of_the_current_burst_not_an_old_trickle():
    buckets = [
        SignatureBucket(at(0), 100, 1, at(1)),  # 1 %: not above the 1 % threshold
        SignatureBucket(at(5), 100, 0, None),
        SignatureBucket(at(10), 100, 40, at(12)),
        SignatureBucket(at(15), 0, 0, None),  # nothing signed: does not break the run
        SignatureBucket(at(20), 100, 90, at(20)),
    ]
    assert failure_onset(buckets, threshold_pct=1) == at(12)
    assert failure_onset(buckets[:2], threshold_pct=1) is None


def test_deployment_within_ten_minutes_coincides():
    deploys = [
        Deployment("v41", at(-120), at(9), 500, 0, 0),
        Deployment("v42", at(8), at(60), 300, 250, 0),
    ]
    assert coinciding(at(12), deploys).version == "v42"
    assert coinciding(at(19), deploys) is None  # 11 minutes
    assert coinciding(at(12), deploys[:1]) is None  # the version already running is not "new"
    yes = triage_sentence(at(12), deploys, 40)
    assert "10:12 KST" in yes and "v42" in yes and "겹침" in yes and "4분 차이" in yes
    no = triage_sentence(at(40), deploys, 40)
    assert "새 배포 없음" in no and "v42" in no
    assert triage_sentence(None, deploys, 0).startswith("서명 실패 없음")
    assert "PORTONE_WEBHOOK_SECRET" in triage_sentence(at(12), deploys, 40, frozenset({"portone"}))
    # Toss deposit callbacks carry a per-payment secret: no env variable to check
    toss = triage_sentence(at(12), deploys, 40, frozenset({"tosspayments"}))
    assert "PORTONE_WEBHOOK_SECRET" not in toss and "Payment.secret" in toss
    both = triage_sentence(at(12), deploys, 40, frozenset({"portone", "tosspayments"}))
    assert "PORTONE_WEBHOOK_SECRET" in both and "Payment.secret" in both
    # reasons a wrong secret does not cause point elsewhere
    clock = triage_sentence(at(12), deploys, 40, frozenset({"portone"}), frozenset({"TIMESTAMP_TOO_OLD"}))
    assert "시크릿 불일치가 아님" in clock and "NTP" in clock and "PORTONE_WEBHOOK_SECRET" not in clock
    mixed = triage_sentence(
        at(12), deploys, 40, frozenset({"portone"}), frozenset({"NO_MATCHING_SIGNATURE", "MISSING_REQUIRED_HEADERS"})
    )
    assert "PORTONE_WEBHOOK_SECRET" in mixed and "프록시" in mixed


def test_webhook_id_is_masked():
    assert mask_webhook_id("msg_2aBcDeFgHiJk") == "msg_2aBc…"
    assert mask_webhook_id(None) is None


# --- Standard Webhooks ----------------------------------------------------------------------


def test_the_standard_webhooks_reference_vector():
    # From the Standard Webhooks specification's own test suite.
    key = sw.secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    sig = sw.sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", '{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def independent_signature(secret: str, msg_id: str, ts: str, body: str) -> str:
    """The spec written out again, without opslib: key = b64decode(after whsec_), HMAC-SHA256."""
    key = base64.b64decode(secret.split("_", 1)[1])
    return "v1," + base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()


PAYLOAD = {
    "data": {"transactionId": "tx-1", "paymentId": "pay_한글_1", "storeId": "store-1"},
    "timestamp": "2026-11-25T01:02:03.456Z",
    "type": "Transaction.Paid",
}
BODY = (
    '{"type":"Transaction.Paid","timestamp":"2026-11-25T01:02:03.456Z",'
    '"data":{"storeId":"store-1","paymentId":"pay_한글_1","transactionId":"tx-1"}}'
)
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_portone_body_is_rebuilt_in_portone_order_compact_and_unescaped():
    assert sw.portone_body(PAYLOAD) == BODY
    assert sw.portone_body(BODY) == BODY  # a stored raw body is used as it is


def test_verify_both_ways_against_an_independent_signer():
    header = independent_signature(SECRET, "msg_1", "1764032523", BODY)
    key = sw.secret_key(SECRET)
    assert sw.verify(key, "msg_1", "1764032523", sw.portone_body(PAYLOAD), header)
    assert not sw.verify(key, "msg_1", "1764032524", BODY, header)  # another timestamp
    other = sw.secret_key("whsec_" + base64.b64encode(b"another secret, rotated 00000000").decode())
    assert not sw.verify(other, "msg_1", "1764032523", BODY, header)
    # During a rotation the header carries several signatures; any match is a match.
    both = f"v1,{base64.b64encode(b'x' * 32).decode()} {header} v2,ignored"
    assert sw.verify(key, "msg_1", "1764032523", BODY, both)
    assert sw.header_signatures(both)[1] == header.split(",", 1)[1]


def test_a_malformed_secret_never_appears_in_the_error():
    bad = "whsec_not*base64*at*all*SECRETVALUE"
    with pytest.raises(sw.SecretFormatError) as info:
        sw.secret_key(bad)
    assert "SECRETVALUE" not in str(info.value) and info.value.__cause__ is None


def test_signatures_made_by_the_demo_seeder_verify():
    signing = pytest.importorskip("opslib.seed.signing")
    body = signing.portone_signed_body(PAYLOAD)
    assert body == sw.portone_body(PAYLOAD)
    header = signing.sign_standard_webhook(SECRET, "msg_seed_1", 1764032523, body)
    assert header == independent_signature(SECRET, "msg_seed_1", "1764032523", body)
    assert sw.verify(sw.secret_key(SECRET), "msg_seed_1", "1764032523", body, header)
    demo = getattr(signing, "DEMO_PORTONE_WEBHOOK_SECRET", None)
    if demo:
        assert not sw.verify(sw.secret_key(demo), "msg_seed_1", "1764032523", body, header)


# --- PG exports ------------------------------------------------------------------------------


def test_portone_reconciliation_csv_with_korean_headers():
    export = load_pg_export(EXPORTS / "portone_recon.csv")
    assert export.format == "portone_csv" and export.providers == ("portone",)
    assert export.skipped == 1  # the line without a paymentId
    rows = {(r.order_id, r.tx_kind): r for r in export.rows}
    assert rows[("pay_recon_0001", "approval")].amount == 11000
    assert rows[("pay_recon_0001", "approval")].transaction_at == datetime(2026, 11, 25, 1, 1, 2, tzinfo=UTC)
    assert rows[("pay_recon_0002", "cancel")].amount == 33000  # cancels carry a positive amount
    assert rows[("pay_recon_0003", "partial_cancel")].amount == 5000
    assert rows[("pay_recon_0002", "approval")].status == "PAID"  # 결제완료 → PAID


def test_portone_csv_in_cp949_with_semicolons_and_won_suffix():
    export = load_pg_export(EXPORTS / "portone_recon_cp949.csv")
    (row,) = export.rows
    assert (row.order_id, row.amount, row.transaction_at) == (
        "pay_cp949_01",
        11000,
        datetime(2026, 11, 25, 0, 0, tzinfo=UTC),
    )


def test_per_payment_csv_becomes_an_approval_and_a_cancel():
    export = load_pg_export(EXPORTS / "portone_per_payment.csv")
    kinds = [(r.order_id, r.tx_kind, r.amount) for r in export.rows]
    assert kinds == [
        ("pay_pp_0001", "approval", 11000),
        ("pay_pp_0002", "approval", 22000),
        ("pay_pp_0002", "cancel", 22000),
        ("pay_pp_0003", "approval", 30000),
        ("pay_pp_0003", "partial_cancel", 10000),
    ]


def test_toss_transactions_list_is_deduplicated():
    export = load_pg_export(EXPORTS / "toss_transactions.json")
    assert export.format == "tosspayments_json"
    assert [(r.order_id, r.tx_kind) for r in export.rows] == [
        ("toss_order_0001", "approval"),
        ("toss_order_0002", "approval"),
        ("toss_order_0002", "cancel"),
    ]


def test_toss_settlements_under_data_with_a_cancel_line():
    export = load_pg_export(EXPORTS / "toss_settlements.json")
    cancel = next(r for r in export.rows if r.tx_kind == "cancel")
    assert cancel.amount == 11000 and cancel.transaction_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def test_portone_payments_api_json_keeps_only_succeeded_cancellations():
    export = load_pg_export(EXPORTS / "portone_payments.json")
    assert [(r.order_id, r.tx_kind, r.amount) for r in export.rows] == [
        ("pay_api_0001", "approval", 11000),
        ("pay_api_0002", "approval", 20000),
        ("pay_api_0002", "partial_cancel", 5000),
    ]


def test_sql_params_are_parallel_arrays():
    params = load_pg_export(EXPORTS / "toss_transactions.json").sql_params()
    assert {len(v) for v in params.values()} == {3}
    assert params["x_provider"] == ["tosspayments"] * 3


@pytest.mark.parametrize("name", ["unknown.csv", "unknown.json"])
def test_unknown_formats_are_one_clear_sentence(name):
    with pytest.raises(ConfigError) as info:
        load_pg_export(EXPORTS / name)
    message = str(info.value)
    assert message.startswith(name) and message.count(". ") == 0


def test_excel_and_missing_files(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(ConfigError, match="save the sheet as CSV"):
        load_pg_export(tmp_path / "x.xlsx")
    with pytest.raises(ConfigError, match="does not exist"):
        load_pg_export(tmp_path / "nope.csv")


def test_header_mapping_tolerates_wording():
    m = map_headers(["결제건 ID(paymentId)", "거래 ID(transactionId)", "취소금액", "결제금액", "거래일시", "취소일시"])
    assert m == {
        "cancel_amount": "취소금액",
        "cancel_time": "취소일시",
        "order_id": "결제건 ID(paymentId)",
        "transaction_key": "거래 ID(transactionId)",
        "amount": "결제금액",
        "time": "거래일시",
    }
    assert map_headers(["orderId", "paymentKey", "totalAmount", "approvedAt"])["order_id"] == "orderId"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12,000원", 12000),
        ("₩-3,000", -3000),
        (11000.0, 11000),
        ("", None),
        ("-", None),
        ("11000.00", 11000),  # not 1,100,000
        ("11,000.0", 11000),
        ("11,000-", -11000),  # trailing minus
        ("(3,000)", -3000),  # accounting style
        ("KRW 5,000", 5000),
    ],
)
def test_amounts(raw, value):
    assert parse_amount(raw) == value


@pytest.mark.parametrize("raw", ["11000.50", "12a00", "1.2.3", 99.5])
def test_an_amount_that_is_not_whole_won_is_refused(raw):
    with pytest.raises(ValueError, match="amount"):
        parse_amount(raw)


def test_times_without_offset_are_kst():
    assert parse_time("2026.11.25 09:00") == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert parse_time("2026-11-25T09:00:00+09:00") == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert parse_time("2026-11-25T00:00:00Z") == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    # Korean console / Excel style, 오전 (AM) and 오후 (PM), 12 o'clock both ways
    assert parse_time("2026. 11. 20. 오후 3:04:05") == datetime(2026, 11, 20, 6, 4, 5, tzinfo=UTC)
    assert parse_time("2026. 11. 20. 오전 9:00:20") == datetime(2026, 11, 20, 0, 0, 20, tzinfo=UTC)
    assert parse_time("2026. 11. 20. 오전 12:30") == datetime(2026, 11, 19, 15, 30, tzinfo=UTC)
    assert parse_time("2026. 11. 20. 오후 12:30") == datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
    # an unreadable time is an error, not a silently missing one (that hid the row from every period)
    with pytest.raises(ValueError, match="not a date and time"):
        parse_time("not a time")
    assert parse_time("  ") is None


# --- impact and subjects ---------------------------------------------------------------------


def test_impact_totals_count_people_and_orders_once():
    rows = pd.DataFrame(
        [
            ["stuck_at_webhook", "portone", "o1", "u1", 11000, 1100, 0, 0, at(0)],
            ["amount_mismatch", "portone", "o1", "u1", 11000, 0, 0, 0, at(3)],  # same order, second cause
            ["double_credit", "portone", "o2", "u1", 22000, 0, 2200, 0, at(9)],
            ["stuck_at_webhook", "portone", "o3", None, 5500, 0, 0, 0, at(1)],  # PG approval with no DB row
        ],
        columns=AFFECTED_COLUMNS,
    )
    t = totals_of(rows)
    assert (t.users, t.orders, t.amount_krw) == (1, 3, 11000 + 22000 + 5500)
    assert (t.dt_not_credited, t.dt_credited_twice) == (1100, 2200)
    assert t.first_at == at(0).astimezone(KST) and t.last_at == at(9).astimezone(KST)


def test_reconciliation_subject_names_a_kst_business_day():
    assert period_subject(kst_day(datetime(2026, 11, 25).date())) == "대사 2026-11-25"
    assert period_subject(Window(at(0), at(60))).startswith("대사 2026-11-25 10:00 KST")


def test_severities_follow_the_catalogue():
    f = checks.evaluate(checks.get("payments.double_credit"), 1)
    assert f.outcome is Outcome.CRITICAL and f.severity is Severity.P0
    assert json.dumps(f.to_json(), ensure_ascii=False)


def test_portone_body_of_a_non_object_payload_is_its_compact_json():
    # the jsonb column may hold any JSON value; a hand-built row with `null` must not crash the page
    assert sw.portone_body(None) == "null"
    assert sw.portone_body([1, {"a": "한"}]) == '[1,{"a":"한"}]'
    assert sw.portone_body(7) == "7"


def test_webhook_chart_keeps_a_total_outage_bucket_in_view():
    from datetime import UTC, datetime, timedelta

    import pandas as pd

    from opslib import charts

    start = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    frame = pd.DataFrame(
        {
            "provider": ["portone"] * 3,
            "bucket_start": [start + timedelta(minutes=5 * i) for i in range(3)],
            "success_rate": [100.0, 0.0, 50.0],
        }
    )
    bottom, top = charts.webhook_success_figure(frame).axes[0].get_ylim()
    assert bottom <= 0.0 < 100.0 <= top
    healthy = frame.assign(success_rate=[100.0, 99.0, float("nan")])
    assert charts.webhook_success_figure(healthy).axes[0].get_ylim()[0] == 90.0


HEADER = "\ufeff거래일시,결제건 ID(paymentId),거래 ID(transactionId),거래유형,상태,결제금액\n"


def test_a_korean_console_export_is_read_with_its_times_and_amounts(tmp_path):
    f = tmp_path / "portone_ko.csv"
    f.write_text(
        HEADER + '2026. 11. 20. 오후 3:04:05,pay_x_0002,tx-2,승인,결제완료,"11,000"\n'
        "2026-11-20 16:00:00,pay_x_0003,tx-3,승인,결제완료,11000.00\n",
        encoding="utf-8",
    )
    rows = load_pg_export(f).rows
    assert [(r.order_id, r.amount, r.transaction_at) for r in rows] == [
        ("pay_x_0002", 11000, datetime(2026, 11, 20, 6, 4, 5, tzinfo=UTC)),
        ("pay_x_0003", 11000, datetime(2026, 11, 20, 7, 0, tzinfo=UTC)),
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("2026-11-20 09:00:20,pay_x_0001,tx-1,승인,결제완료,010-9876-5432", "line 2: the amount is not a number"),
        ('어제 오후,pay_x_0001,tx-1,승인,결제완료,"11,000"', "line 2: the time is not a date and time"),
    ],
)
def test_an_unreadable_value_in_an_export_is_one_sentence_naming_the_file_and_line(tmp_path, line, said):
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_pg_export(f)
    assert str(err.value).startswith("bad.csv: " + said)
    assert "\n" not in str(err.value)
    assert "9876" not in str(err.value) and "어제" not in str(err.value)  # the value itself is never echoed


def test_no_impact_is_said_only_when_every_measurement_ran():
    window = Window(T0, at(60))
    nothing = totals_of(pd.DataFrame(columns=AFFECTED_COLUMNS))
    empty = pd.DataFrame(columns=["label", "counted", "orders"])
    assert "영향 없음" in impact_markdown(window, nothing, empty, ())
    partial = impact_markdown(window, nothing, empty, (), ("측정 실패 (pg_paid_db_pending): timeout",), incomplete=True)
    assert "영향 없음" not in partial and "영향 미확정" in partial


def test_two_partial_cancels_under_one_transaction_id_both_count_a_repeated_line_once(tmp_path):
    f = tmp_path / "two_partials.csv"
    f.write_text(
        HEADER + '2026-11-20 10:00:20,pay_two_pc,tx-two,승인,결제완료,"22,000"\n'
        '2026-11-20 12:00:00,pay_two_pc,tx-two,부분취소,부분취소,"-11,000"\n'
        '2026-11-20 13:00:00,pay_two_pc,tx-two,부분취소,부분취소,"-11,000"\n'
        '2026-11-20 13:00:00,pay_two_pc,tx-two,부분취소,부분취소,"-11,000"\n',  # the same line listed twice
        encoding="utf-8",
    )
    rows = load_pg_export(f).rows
    assert [(r.tx_kind, r.amount) for r in rows] == [
        ("approval", 22000),
        ("partial_cancel", 11000),
        ("partial_cancel", 11000),
    ]

from __future__ import annotations

import pandas as pd

from opslib import masking


def test_free_text_identifiers_are_masked():
    text = "fan1234@example.com +82 10-1234-5678 3f2b9c1e-1111-2222-3333-444455556666 52.78.5.241"
    out = masking.mask_text(text)
    for raw in ("fan1234@example.com", "1234-5678", "3f2b9c1e-1111", "52.78.5.241"):
        assert raw not in out
    assert "52.78.x.x" in out


def test_frame_columns_are_masked_by_name_and_content():
    frame = pd.DataFrame(
        {"user_id": ["3f2b9c1e-1111-2222-3333-444455556666"], "source_ip": ["10.1.2.3"], "amount": [5500]}
    )
    out = masking.mask_frame(frame)
    assert out.loc[0, "user_id"] == "3f2b…"
    assert out.loc[0, "source_ip"] == "10.1.x.x"
    assert out.loc[0, "amount"] == 5500


def test_secret_patterns_are_found_by_kind_not_value():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    hits = masking.find_secrets(f"key={jwt} url=postgresql://u:hunter22@db/x whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert set(hits) >= {"jwt", "url with password", "standard-webhooks secret"}
    assert all(jwt not in h for h in hits)


def test_parameters_with_secret_names_are_redacted():
    assert masking.redact_parameters({"db_password": "x", "window_minutes": 5}) == {
        "db_password": "***",
        "window_minutes": 5,
    }


def test_identifiers_hidden_in_ids_and_other_formats_are_masked():
    leaks = [
        "stk_01023456789",  # a phone inside an order id, after '_'
        "010.5678.9012",
        "+82 2 345 6789",  # a Seoul landline
        "김민수@example.com",
        "minsu@한국.kr",
        "4111-1111-1111-1111",  # card
        "900101-1234567",  # resident registration number
        "110-234-567890",  # bank account
        "2001:db8:85a3::8a2e:370:7334",
    ]
    out = masking.mask_text(" | ".join(leaks))
    for raw in (
        "01023456789",
        "5678.9012",
        "345 6789",
        "김민수@",
        "minsu@",
        "4111-1111",
        "1234567",
        "234-567890",
        "85a3",
    ):
        assert raw not in out, raw
    # and what must stay readable does
    keep = "2026-11-20T15:04:05+09:00 12:30:45 pay_9001234 payment-webhook@v41 DSP202611200000123"
    assert masking.mask_text(keep) == keep


def test_list_columns_are_masked_element_by_element():
    import numpy as np

    assert masking.mask_value("order_ids", ["kim.minsu@example.com", "pay_1"]) == ["k***@e***", "pay_1"]
    assert masking.mask_value("order_ids", np.array(["a@b.co"])) == ["a***@b***"]


def test_a_url_query_password_is_hidden_and_found():
    from opslib import db

    url = "postgresql://ops@/app?host=/tmp/x&password=S3cr3t-pa55"
    assert "S3cr3t-pa55" not in db.display_url(url)
    assert "password in a url query" in masking.find_secrets(f"error: could not connect to {url}")
    assert masking.find_secrets(db.display_url(url)) == []


def test_korean_names_are_masked_by_their_cues_and_ordinary_words_are_not():
    text = "PG 오류: 예금주 홍길동 · (김민수, 환불) · 이서연님 요청 · idem_김민수"
    out = masking.mask_text(text)
    for name in ("홍길동", "김민수", "이서연"):
        assert name not in out, name
    assert "예금주 홍**" in out and "이**님" in out
    words = "장애가 발생함 · 정상적으로 처리 · 카드사 승인 거절 · 중복 결제 · 미사용 DT 환불 요청 · 서명 불일치"
    assert masking.mask_text(words) == words


def test_a_json_object_in_a_table_reads_as_masked_key_value_text():
    from opslib.display import for_display, mapping_text

    details = {
        "version": "payment-webhook@v43",
        "approved_by": "ops.kim@example.com",
        "user_id": "6f1c2b8e-3c1d-4f5e-9a7b-1234567890ab",
        "service_role_key": "anything",
        "nested": {"ip": "211.45.67.89", "dry_run": False},
        "note": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
    }
    text = mapping_text(details)
    assert text.startswith("version: payment-webhook@v43, approved_by: o***@e***, user_id: 6f1c…")
    assert "service_role_key: ***" in text and "nested: {ip: 211.45.x.x, dry_run: false}" in text
    assert "eyJ" not in text and "anything" not in text
    shown = for_display(pd.DataFrame({"details": [details, None], "n": [1, 2]}))
    assert shown.loc[0, "details"] == text and shown["n"].tolist() == [1, 2]

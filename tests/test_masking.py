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

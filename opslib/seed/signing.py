"""PortOne V2 webhook signatures (Standard Webhooks) for the demo data.

The seeder signs every PortOne delivery with a demo-only secret so that the runbook's
offline verification (rebuild the body from the stored payload, recompute the HMAC) works on
the demo database exactly as it would on production data. Bulk rows are signed inside
PostgreSQL: the embedded server has no pgcrypto, so HMAC-SHA256 is spelled out with the
built-in sha256() and the two padded keys from `hmac_pads` (RFC 2104).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

# Demo only: never a real PortOne secret. 32 bytes derived from a fixed phrase, so every demo
# database is signed with the same key and the value is reproducible from this file.
DEMO_PORTONE_WEBHOOK_SECRET = "whsec_" + base64.b64encode(
    hashlib.sha256(b"opsbook demo PortOne webhook secret (not a real secret)").digest()
).decode("ascii")

_PREFIX = "whsec_"
# PortOne's body key order: jsonb does not keep it, so the body is rebuilt in this order.
_TOP_KEYS = ("type", "timestamp", "data")
_DATA_KEYS = ("storeId", "paymentId", "transactionId", "cancellationId")
_BLOCK = 64  # SHA-256 block size in bytes


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 decoding of the part after `whsec_`."""
    text = secret[len(_PREFIX) :] if secret.startswith(_PREFIX) else secret
    return base64.b64decode(text, validate=True)


def _ordered(obj: Mapping[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    out = {k: obj[k] for k in first if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


def portone_signed_body(payload: Mapping[str, Any]) -> str:
    """The exact body PortOne signs: compact JSON, PortOne's key order, non-ASCII unescaped."""
    ordered = _ordered(payload, _TOP_KEYS)
    data = ordered.get("data")
    if isinstance(data, Mapping):
        ordered["data"] = _ordered(data, _DATA_KEYS)
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def sign_standard_webhook(secret: str, webhook_id: str, ts: int | str, body: str) -> str:
    """`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the webhook-signature header."""
    message = f"{webhook_id}.{ts}.{body}".encode()
    digest = hmac.new(secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def hmac_pads(secret: str) -> tuple[bytes, bytes]:
    """(key XOR ipad, key XOR opad): what SQL needs to compute HMAC-SHA256 with sha256() alone."""
    key = secret_key(secret)
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)

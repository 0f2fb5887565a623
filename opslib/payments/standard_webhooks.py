"""Standard Webhooks signatures as PortOne V2 sends them (pure: no database, no environment).

PortOne signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256; the key is the
base64 decoding of the secret after its `whsec_` prefix; `webhook-signature` carries one or
more space-separated `v1,<base64>` values (several during a secret rotation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
# PortOne's body key order (the signed bytes depend on it; jsonb storage does not keep it).
PORTONE_KEYS = ("type", "timestamp", "data")
PORTONE_DATA_KEYS = ("storeId", "paymentId", "transactionId", "cancellationId")


class SecretFormatError(ValueError):
    """The configured secret is not `whsec_<base64>`. The message never contains the secret."""


def _ordered(obj: Mapping[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    out = {k: obj[k] for k in first if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


def portone_body(payload: Any) -> str:
    """The body exactly as PortOne sends it: compact JSON, PortOne's key order, UTF-8 unescaped.

    A payload stored as the raw body string is used as it is; any other JSON value the jsonb
    column may hold (null, an array, a number) is re-serialised compactly as it is.
    """
    if isinstance(payload, str):
        return payload
    if not isinstance(payload, Mapping):
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    ordered = _ordered(payload, PORTONE_KEYS)
    data = ordered.get("data")
    if isinstance(data, Mapping):
        ordered["data"] = _ordered(data, PORTONE_DATA_KEYS)
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret (a bare base64 secret is accepted too)."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError("the webhook secret is not base64 after the whsec_ prefix") from None
    if not key:
        raise SecretFormatError("the webhook secret is empty")
    return key


def sign(key: bytes, webhook_id: str, timestamp: str, body: str) -> str:
    """One `v1,<base64>` signature."""
    message = f"{webhook_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def header_signatures(header: str) -> tuple[str, ...]:
    """The base64 values of every `v1,` entry in a webhook-signature header."""
    out = []
    for part in header.split():
        version, _, value = part.partition(",")
        if version == "v1" and value:
            out.append(value)
    return tuple(out)


def verify(key: bytes, webhook_id: str, timestamp: str, body: str, header: str) -> bool:
    """True when any v1 signature in the header matches (constant-time comparison)."""
    expected = sign(key, webhook_id, timestamp, body).partition(",")[2].encode("ascii")
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in header_signatures(header))

"""The log-field standard (runbook §4-A/B/C) as pure functions of one console line or a frame of them.

A line is `(level, event_message)`; event_message is "often a JSON document" (30_logs.sql): a line
that is not a JSON object is `not structured`, counted on its own, never an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from opslib.checks import SAFE_LOADER

# §4-B: 정규화된 이벤트명 `payment.webhook.received`: lower-case snake segments, at least three.
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*){2,}")
# §4-A's tiers: console.log/info/debug are one tier below WARN; WARN and ERROR are their own.
_TIER = {"debug": 0, "log": 0, "info": 0, "warn": 1, "warning": 1, "error": 2, "fatal": 2, "critical": 2}


@dataclass(frozen=True)
class FieldRule:
    name: str
    required: bool
    warn: float | None = None  # percent; None: the check's own line
    critical: float | None = None


@dataclass(frozen=True)
class Standard:
    """What logs.yaml says beyond its checks: the fields, what a payment event is, what failure reads like."""

    fields: tuple[FieldRule, ...]
    payment_fields: tuple[str, ...]
    payment_domains: frozenset[str]
    payment_event_prefixes: tuple[str, ...]
    failure_words: frozenset[str]
    failure_statuses: frozenset[str]
    masked_id_fields: tuple[str, ...]
    sample_per_function: int

    @property
    def common(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@cache
def standard() -> Standard:
    raw = yaml.load((resources.files("opslib") / "checks" / "logs.yaml").read_text(encoding="utf-8"), SAFE_LOADER)
    return Standard(
        fields=tuple(
            FieldRule(f["name"], bool(f.get("required", False)), f.get("warn"), f.get("critical"))
            for f in raw["fields"]
        ),
        payment_fields=tuple(raw["payment_fields"]),
        payment_domains=frozenset(raw["payment_domains"]),
        payment_event_prefixes=tuple(raw["payment_event_prefixes"]),
        failure_words=frozenset(raw["failure_words"]),
        failure_statuses=frozenset(raw["failure_statuses"]),
        masked_id_fields=tuple(raw["masked_id_fields"]),
        sample_per_function=int(raw["sample_per_function"]),
    )


def parse(message: str | None) -> dict[str, Any] | None:
    """The line's JSON object, or None when it is plain text (or JSON that is not an object)."""
    if not message:
        return None
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def present(doc: Mapping[str, Any] | None, field: str) -> bool:
    """A field is carried when it has a value: a JSON null or an empty string tells nothing."""
    if doc is None:
        return False
    value = doc.get(field)
    return value is not None and not (isinstance(value, str) and not value.strip())


def text(doc: Mapping[str, Any] | None, field: str) -> str:
    value = doc.get(field) if doc else None
    return value.strip() if isinstance(value, str) else ""


def normalized_event(name: str) -> bool:
    return bool(EVENT_NAME.fullmatch(name))


def is_payment(doc: Mapping[str, Any] | None, s: Standard | None = None) -> bool:
    s = s or standard()
    if doc is None:
        return False
    return text(doc, "domain").lower() in s.payment_domains or text(doc, "event").lower().startswith(
        s.payment_event_prefixes
    )


def is_failure(doc: Mapping[str, Any] | None, s: Standard | None = None) -> bool:
    """The event or its status says it failed: payment.charge.failed, payment.webhook.handler_error, status error."""
    s = s or standard()
    if doc is None:
        return False
    last = text(doc, "event").lower().rsplit(".", 1)[-1]
    return last in s.failure_words or text(doc, "status").lower() in s.failure_statuses


def tier(level: str) -> int | None:
    return _TIER.get(level.strip().lower())


def payment_failure_below_error(level: str, doc: Mapping[str, Any] | None, s: Standard | None = None) -> bool:
    """§4-A: 결제 실패 → ERROR (always a Sentry capture). A payment failure at log/info/warn does not reach it."""
    return is_payment(doc, s) and is_failure(doc, s) and (tier(level) or 0) < 2


def severity_mismatch(level: str, doc: Mapping[str, Any] | None) -> bool:
    """The JSON's severity and the console level disagree on a tier that matters (warn or error on either side).

    A missing or unknown severity is the common-field check's business, not a mismatch."""
    stated = tier(text(doc, "severity")) if doc else None
    actual = tier(level)
    if stated is None or actual is None:
        return False
    return stated != actual and max(stated, actual) >= 1

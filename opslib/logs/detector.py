"""Raw personal data in a log line: emails, Korean mobile numbers, card numbers, raw user ids.

Pure and strict on purpose: a log line is full of ids, order numbers, hex digests, timestamps and
amounts that look like numbers people have. A false alarm here is a P1 security finding on a healthy
system, so each kind asks for more than its shape:
- a card number is a Luhn-valid 13-19 digit run with a card network's leading digits, standing alone
  (not part of a longer token such as `INIpayCARD2026...` or a uuid, not a compact date or epoch);
- a phone number is a Korean mobile (010/011/016-019, or +82 10...) standing alone, never digits
  inside an order id (`ord_20261202_0101234567`) or a longer number;
- an email is a real address (a dot and a letter-only top-level domain after the @), not a deploy
  version (`payment-webhook@v41`) nor an already masked one (`m***@e***`);
- a uuid is personal only in a field where §4-B asks for a masked id (actor_id, payer_id, entity_id).

What leaves this module is a kind and a masked form, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opslib.masking import mask_email

EMAIL = "email"
PHONE = "phone"
CARD = "card"
RAW_ID = "raw_user_id"
KINDS = (EMAIL, PHONE, CARD, RAW_ID)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# the local part must start right after a non-address character: "m***@e***" has '*' before the @
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@((?:[A-Za-z0-9-]+\.)+)([A-Za-z]{2,24})(?![A-Za-z0-9-])"
)
# A token boundary: not a letter, digit, '_' (ids like ord_..., stk_...) nor a dash-joined neighbour.
_EDGE_L = r"(?<![A-Za-z0-9_])"
_EDGE_R = r"(?![A-Za-z0-9_])"
_PHONE = re.compile(
    _EDGE_L + r"(?<![-.+])(?:\+82[-. ]?(?:0)?1[016789]|01[016789])([-. ]?)(\d{3,4})\1(\d{4})" + _EDGE_R + r"(?![-.]\d)"
)
# digit groups joined by single spaces or dashes (4-4-4-4, 4-6-5) or one run, 13-19 digits in all
_DIGIT_RUN = re.compile(r"\d(?:[- ]?\d){12}")
_CARD = re.compile(_EDGE_L + r"(?<![-.:])(\d(?:[- ]?\d){12,18})" + _EDGE_R + r"(?![-.:]\d)")


@dataclass(frozen=True)
class Hit:
    kind: str
    masked: str
    field: str = ""  # the JSON field it was found in, when known


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_network(digits: str) -> bool:
    """Leading digits of a card network: Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, JCB 35,
    Diners 30/36/38, Discover/UnionPay 6, Korean domestic cards 9. Compact dates (2026...) and epoch
    milliseconds (17...) start otherwise."""
    if digits[0] in "469":
        return True
    two = int(digits[:2])
    if 51 <= two <= 55 or two in (30, 34, 35, 36, 37, 38):
        return True
    return 2221 <= int(digits[:4]) <= 2720


def _is_date_like(digits: str) -> bool:
    """A compact timestamp (YYYYMMDD..., 19xx/20xx) is no card even when Luhn agrees."""
    if len(digits) < 8 or digits[:2] not in ("19", "20"):
        return False
    month, day = int(digits[4:6]), int(digits[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


def cards(text: str) -> list[str]:
    found = []
    for m in _CARD.finditer(text):
        raw = m.group(1)
        digits = re.sub(r"[- ]", "", raw)
        groups = re.split(r"[- ]", raw)
        # separators only between groups of 4 (4-4-4-4...) or Amex's 4-6-5: "1 2 3" spacing is not a card
        fours = all(len(g) == 4 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 4
        if len(groups) > 1 and not (fours or [len(g) for g in groups] == [4, 6, 5]):
            continue
        if 13 <= len(digits) <= 19 and _card_network(digits) and not _is_date_like(digits) and luhn_ok(digits):
            found.append(digits)
    return found


def mask_card(digits: str) -> str:
    return f"****-{digits[-4:]} ({len(digits)}자리 카드번호 card number)"


def mask_phone(local: str) -> str:
    return f"010-****-**{local[-2:]}"


def mask_uuid(value: str) -> str:
    return f"{value[:4]}…(uuid)"


def scan_text(text: str) -> list[Hit]:
    """Emails, phones and cards in free text (uuids are not personal in free text: request ids are uuids)."""
    hits: list[Hit] = []
    # a uuid's digit groups are no phone or card: blank them out first (same length, positions kept)
    plain = _UUID.sub(lambda m: "x" * len(m.group(0)), text) if "-" in text else text
    # cheap guards first: most values hold no '@', no "01"/"+82", no run of 13 digits
    if "@" in plain:
        hits += [Hit(EMAIL, mask_email(m.group(0))) for m in _EMAIL.finditer(plain)]
    if "01" in plain or "+82" in plain:
        hits += [Hit(PHONE, mask_phone(m.group(3))) for m in _PHONE.finditer(plain)]
    if _DIGIT_RUN.search(plain):
        hits += [Hit(CARD, mask_card(digits)) for digits in cards(plain)]
    return hits


def _walk(value: Any, field: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v, field)
    elif isinstance(value, str):
        yield field, value
    elif value is not None and not isinstance(value, bool):
        yield field, str(value)


def scan(message: str, doc: Mapping[str, Any] | None, masked_id_fields: Iterable[str] = ()) -> list[Hit]:
    """Every raw personal datum in one log line: free text is scanned as a whole (a plain-text line, or
    each string of a JSON document, with the field it sat in); a uuid in a masked-id field is one too."""
    if doc is None:
        return scan_text(message)
    id_fields = set(masked_id_fields)
    values = list(_walk(doc, ""))
    raw_ids = [(f, t) for f, t in values if f in id_fields and _UUID.search(t)]
    # one scan of every value joined (" | " ends every pattern) before the per-field one that names the field:
    # nearly every line is clean, and that is a fifth of the regex work
    if not raw_ids and not scan_text(" | ".join(t for _, t in values)):
        return []
    hits: list[Hit] = []
    for field, text in values:
        if field in id_fields and _UUID.search(text):
            hits.append(Hit(RAW_ID, mask_uuid(_UUID.search(text).group(0)), field))  # type: ignore[union-attr]
        hits.extend(Hit(h.kind, h.masked, field) for h in scan_text(text))
    return hits

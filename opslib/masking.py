"""Masking personal identifiers, and keeping secrets out of anything that leaves the process.

Evidence (notebook output, HTML, JSON, logs) shows emails, phones, IPs and user ids
masked; secrets are never shown at all and a final scan fails a run that leaks one.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# A dot after the domain label: "payment-webhook@v41" (a deploy version) is not an email.
# Local part and domain in any script (김민수@example.com, minsu@한국.kr).
_EMAIL = re.compile(r"([\w.%+-])[\w.%+-]*@([\w-]+)\.[\w.-]*[^\W\d_]")
# Korean mobiles and landlines, with -, ., space or nothing between the groups; after a letter
# or '_' too (order ids such as stk_01023456789), never inside a longer number.
_PHONE = re.compile(r"(?:\+82[-. ]?0?|(?<!\d)0)(?:1[016789]|2|[3-6][1-5]|70)[-. ]?\d{3,4}[-. ]?\d{2}(\d{2})(?!\d)")
_CARD = re.compile(r"(?<!\d)(?:\d{4}[- ]){3}\d{1,4}(?!\d)|(?<![\d-])\d{4}-\d{6}-\d{5}(?![\d-])")
_RRN = re.compile(r"(?<!\d)(\d{6})-[1-8]\d{6}(?!\d)")  # 주민등록번호 / 외국인등록번호
_ACCOUNT = re.compile(r"(?<![\d-])\d{3,6}-\d{2,6}-\d{4,8}(?:-\d{1,3})?(?![\d-])")  # bank account numbers
# Korean personal names in free text. A name cannot be told from a word by its letters, so two
# cues: a 2-4 syllable token after a word that introduces a person (예금주 홍길동, 고객 김민수) or
# before 님/씨; and a standalone 3-syllable token starting with one of the ten commonest surnames
# (about two thirds of Koreans), unless it is an ordinary word seen in payment errors.
_NAME_CUE = re.compile(
    r"(?P<cue>(?:고객|회원|사용자|예금주|입금자|구매자|수령인|주문자|명의자?|이름|성명|담당자|작성자|요청자)\s*[:=]?\s*)"
    r"(?P<name>[가-힣]{2,4})(?![가-힣])"
)
_NAME_HONORIFIC = re.compile(r"(?<![가-힣])(?P<name>[가-힣]{2,4})(?=\s?(?:님|씨)(?![가-힣]))")
# '_' may precede or follow (keys such as idem_..._김민수); letters and digits may not
_SURNAME_NAME = re.compile(r"(?<![가-힣A-Za-z0-9])(?P<name>[김이박최정강조윤장임][가-힣]{2})(?![가-힣A-Za-z0-9])")
_NOT_NAMES = frozenset(
    (
        "이용자",
        "이메일",
        "이미지",
        "이상한",
        "이체중",
        "정상적",
        "정산서",
        "정책상",
        "정기적",
        "정보가",
        "조회중",
        "조회된",
        "장애가",
        "장애로",
        "장애는",
        "장바구",
        "임시로",
        "최대치",
        "최소한",
        "강제로",
        "이력이",
        "이후에",
        "이전에",
        "정지된",
        "조정됨",
        "정산중",
        "장기간",
        "최종적",
        "조건이",
    )
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){3,7}[0-9a-fA-F]{1,4}(?![\w:])")
_UUID = re.compile(r"\b([0-9a-fA-F]{8})-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\b")

# Column names whose values are personal identifiers, whatever they look like.
PII_COLUMNS = {
    "email",
    "phone",
    "ip",
    "source_ip",
    "user_agent",
    "user_id",
    "payer_id",
    "actor_id",
    "recipient_id",
    "admin_id",
    "fan_id",
    "customer_key",
}


def mask_email(value: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)[:1]}***", value)


def mask_uuid(value: str) -> str:
    return _UUID.sub(lambda m: f"{m.group(1)[:4]}…", value)


def mask_ip(value: str) -> str:
    try:
        ip = ipaddress.ip_address(value.split("/")[0])
    except ValueError:
        return _IPV4.sub(lambda m: f"{m.group(1)}.{m.group(2)}.x.x", value)
    if ip.version == 4:
        a, b, _, _ = str(ip).split(".")
        return f"{a}.{b}.x.x"
    return str(ip).split(":")[0] + ":…"


def mask_korean_names(value: str) -> str:
    def hide(name: str) -> str:
        return name[0] + "*" * (len(name) - 1)

    value = _NAME_CUE.sub(lambda m: m.group("cue") + hide(m.group("name")), value)
    value = _NAME_HONORIFIC.sub(lambda m: hide(m.group("name")), value)
    return _SURNAME_NAME.sub(
        lambda m: m.group("name") if m.group("name") in _NOT_NAMES else hide(m.group("name")), value
    )


def mask_text(value: str) -> str:
    """Mask every identifier-looking token in free text (emails, phones, ids, card, resident
    and account numbers, IPs, and Korean names by the cues in mask_korean_names)."""
    value = mask_email(value)
    value = mask_uuid(value)
    value = _CARD.sub("****-****-****-****", value)
    value = _RRN.sub(lambda m: f"{m.group(1)}-*******", value)
    value = _PHONE.sub(lambda m: f"010-****-**{m.group(1)}", value)
    value = _ACCOUNT.sub("***-***-****", value)
    value = _IPV6.sub(lambda m: m.group(0).split(":")[0] + ":…", value)
    value = mask_korean_names(value)
    return _IPV4.sub(lambda m: f"{m.group(1)}.{m.group(2)}.x.x", value)


def mask_value(column: str, value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return value
    col = column.lower()
    if isinstance(value, uuid.UUID):
        value = str(value)
    if col in PII_COLUMNS:
        text = str(value)
        if col in ("ip", "source_ip"):
            return mask_ip(text)
        if col == "email":
            return mask_email(text)
        if col == "user_agent":
            return text.split("/")[0] + "/…"
        if _UUID.fullmatch(text):
            return mask_uuid(text)
        return text[:2] + "***"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list | tuple):  # array columns (order_ids, idempotency_keys)
        return [mask_value(column, v) for v in value]
    if getattr(value, "ndim", 0) >= 1:  # numpy arrays from array_agg (never numpy scalars: ndim 0)
        return [mask_value(column, v) for v in value.tolist()]
    return value


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with personal identifiers masked in every text-like column."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("string", "str")):
            out[col] = [mask_value(str(col), v) for v in out[col]]
    return out


def mask_records(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple({k: mask_value(k, v) for k, v in row.items()} for row in rows)


# --- secrets -------------------------------------------------------------------------

SECRET_NAME = re.compile(r"(pass(word)?|secret|token|api[_-]?key|service[_-]?role|jwt|private)", re.IGNORECASE)
# Things that look like secrets wherever they appear.
SECRET_PATTERNS = {
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "standard-webhooks secret": re.compile(r"whsec_[A-Za-z0-9+/=]{16,}"),
    "url with password": re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^:/@\s]+:(?!\*\*\*)[^@\s]+@"),
    "password in a url query": re.compile(r"[?&](?:ssl)?password=(?!\*\*\*|%2A%2A%2A)[^&\s'\"<>]+", re.IGNORECASE),
    "supabase secret key": re.compile(r"sb_secret_[A-Za-z0-9_-]{16,}"),
}


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as they may be written to result.json: secret-looking names removed."""
    return {k: ("***" if is_secret_name(k) else v) for k, v in params.items()}


REDACTED = "***REDACTED***"


def _searchable(value: str) -> bool:
    """A known secret value worth searching for as text. A password that is an ordinary word
    ('payments') would redact the page's own words; such a value is still caught where it can
    leak, inside a URL (SECRET_PATTERNS)."""
    return len(value) >= 6 and not value.isalpha()


def redact_text(text: str, values: Iterable[str] = ()) -> tuple[str, list[str]]:
    """text with known secret values and secret-looking strings redacted, and the kinds found."""
    kinds: list[str] = []
    for value in sorted({v for v in values if v and _searchable(v)}, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
            kinds.append("a configured secret value")
    for name, pattern in SECRET_PATTERNS.items():
        text, n = pattern.subn(REDACTED, text)
        if n:
            kinds.append(name)
    return text, kinds


def find_secrets(text: str, extra_values: Iterable[str] = ()) -> list[str]:
    """Names of the secret kinds found in text (never the values themselves)."""
    return redact_text(text, extra_values)[1]

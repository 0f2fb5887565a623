"""Reading a PG export file (PortOne reconciliation CSV, TossPayments / PortOne JSON) into rows.

Nothing is written to the database: reconcile() sends the rows as arrays and unnest()s them
inside its read-only transaction. The readers are tolerant of header wording (Korean and
English, with or without `(paymentId)`-style hints) because console exports change.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from opslib.errors import ConfigError
from opslib.timewindow import KST

TX_KINDS = ("approval", "cancel", "partial_cancel")


@dataclass(frozen=True)
class PgExportRow:
    """One PG transaction: an approval or a cancel (cancels carry a positive amount)."""

    provider: str
    order_id: str
    transaction_key: str
    tx_kind: str
    status: str | None
    amount: int
    transaction_at: datetime | None  # UTC
    method: str | None = None


@dataclass(frozen=True)
class PgExport:
    name: str  # file name only (paths may hold user names)
    format: str  # portone_csv | tosspayments_csv | tosspayments_json | portone_json
    rows: tuple[PgExportRow, ...]
    skipped: int = 0  # lines without an order id or an amount

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(sorted({r.provider for r in self.rows}))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [r.__dict__ for r in self.rows],
            columns=[
                "provider",
                "order_id",
                "transaction_key",
                "tx_kind",
                "status",
                "amount",
                "transaction_at",
                "method",
            ],
        )

    def sql_params(self) -> dict[str, list[Any]]:
        """The x_* array parameters of recon_items / recon_totals."""
        return {
            "x_provider": [r.provider for r in self.rows],
            "x_order_id": [r.order_id for r in self.rows],
            "x_transaction_key": [r.transaction_key for r in self.rows],
            "x_tx_kind": [r.tx_kind for r in self.rows],
            "x_status": [r.status for r in self.rows],
            "x_amount": [r.amount for r in self.rows],
            # ISO text, cast in SQL: the query catalogue's parameter types have no timestamptz[].
            "x_transaction_at": [r.transaction_at.isoformat() if r.transaction_at else None for r in self.rows],
        }


def empty_params() -> dict[str, list[Any]]:
    return PgExport("", "", ()).sql_params()


# --- values ----------------------------------------------------------------------------

# Korean console words → the PG API's own status words, so the SQL's status rules apply.
_STATUS = {
    "결제완료": "PAID",
    "승인": "PAID",
    "승인완료": "PAID",
    "완료": "PAID",
    "결제": "PAID",
    "취소": "CANCELLED",
    "취소완료": "CANCELLED",
    "전체취소": "CANCELLED",
    "결제취소": "CANCELLED",
    "부분취소": "PARTIAL_CANCELLED",
    "부분취소완료": "PARTIAL_CANCELLED",
    "실패": "FAILED",
    "결제실패": "FAILED",
    "승인실패": "FAILED",
    "결제대기": "READY",
    "대기": "READY",
    "결제예정": "READY",
    "가상계좌발급": "VIRTUAL_ACCOUNT_ISSUED",
    "입금대기": "WAITING_FOR_DEPOSIT",
}
_CANCEL_STATUSES = {"CANCELLED", "CANCELED", "CANCEL"}
_PARTIAL_STATUSES = {"PARTIAL_CANCELLED", "PARTIAL_CANCELED", "PARTIAL_CANCEL"}


def canonical_status(raw: object) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    return _STATUS.get(text.replace(" ", ""), text.upper().replace(" ", "_"))


def kind_from_word(raw: object) -> str | None:
    """approval / cancel / partial_cancel from a type column or a status; None if it says neither."""
    status = canonical_status(raw)
    if status is None:
        return None
    if status in _PARTIAL_STATUSES or "부분" in str(raw):
        return "partial_cancel"
    if status in _CANCEL_STATUSES or "취소" in str(raw) or "환불" in str(raw):
        return "cancel"
    if status in ("PAID", "DONE", "APPROVAL", "APPROVED", "PAYMENT", "결제", "승인") or "승인" in str(raw):
        return "approval"
    return None


_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def parse_amount(raw: object) -> int | None:
    """'12,000원', '₩12000', '-3,000', '3,000-', '(3,000)', '11000.00', 12000.0 → int (None: empty).

    KRW has no minor unit: a fraction other than .0 is refused, as is anything else that is not
    a number (ValueError with the value, for the caller to name the file and line).
    """
    if raw is None:
        return None
    if isinstance(raw, int | float):
        if pd.isna(raw):
            return None
        if raw != int(raw):
            raise ValueError("an amount has a fraction (KRW has none)")
        return int(raw)
    text = re.sub(r"[\s,원₩]|KRW", "", str(raw))
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting style
        negative, text = True, text[1:-1]
    if text.endswith("-"):  # trailing minus, as some consoles export cancels
        negative, text = not negative, text[:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    if not text:
        return None
    # the messages never echo the value: a shifted CSV row puts a buyer's phone in the amount column
    if not _NUMBER.match(text):
        raise ValueError("the amount is not a number (a shifted column? check quoting)")
    whole, _, fraction = text.partition(".")
    if fraction.strip("0"):
        raise ValueError("an amount has a fraction (KRW has none)")
    return -int(whole) if negative else int(whole)


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d")
# Korean Excel/console style: '2026. 11. 20. 오후 3:04:05'
_KOREAN_TIME = re.compile(r"^(\d{4})\.\s*(\d{1,2})\.\s*(\d{1,2})\.?\s*(오전|오후)\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_time(raw: object) -> datetime | None:
    """ISO-8601 with offset as given; a local time without offset is KST (how consoles export).

    None for an empty value; ValueError for a value that is not a time we can read (a silently
    dropped time would hide the row from every period).
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    korean = _KOREAN_TIME.match(text)
    if korean:
        year, month, day, half, hour, minute, second = korean.groups()
        h = int(hour) % 12 + (12 if half == "오후" else 0)
        return datetime(int(year), int(month), int(day), h, int(minute), int(second or 0), tzinfo=KST).astimezone(UTC)
    text = re.sub(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})", r"\1-\2-\3", text).replace("Z", "+00:00")
    text = re.sub(r"^(\d{4})-(\d)-", r"\1-0\2-", text)
    text = re.sub(r"^(\d{4}-\d{2})-(\d)(\D|$)", r"\1-0\2\3", text)
    value: datetime | None = None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError("the time is not a date and time we can read (use ISO-8601, e.g. 2026-11-20 15:04:05)")
    if value.tzinfo is None:
        value = value.replace(tzinfo=KST)
    return value.astimezone(UTC)


# --- CSV -------------------------------------------------------------------------------


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-()\[\]./:]", "", header.strip().lower().lstrip("\ufeff"))


# field → (exact aliases, substrings), tried in this order so that e.g. 취소금액 is taken
# by cancel_amount before amount's looser "금액" could grab it.
_FIELDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "cancel_amount",
        ("취소금액", "cancelamount", "cancelledamount", "canceledamount", "환불금액"),
        ("취소금액", "cancelamount", "cancelledamount", "canceledamount"),
    ),
    ("cancel_time", ("취소일시", "cancelledat", "canceledat", "취소시각"), ("취소일시", "cancelledat", "canceledat")),
    ("cancel_id", ("취소id", "cancellationid", "취소거래id"), ("cancellationid", "취소id")),
    (
        "order_id",
        (
            "paymentid",
            "결제건id",
            "결제건idpaymentid",
            "결제id",
            "주문번호",
            "orderid",
            "주문id",
            "merchantuid",
            "고객사주문번호",
            "가맹점주문번호",
        ),
        ("paymentid", "orderid", "결제건id", "주문번호", "merchantuid"),
    ),
    (
        "transaction_key",
        ("transactionid", "거래id", "거래idtransactionid", "transactionkey", "거래키", "pg거래id"),
        ("transactionid", "transactionkey", "거래id", "거래키"),
    ),
    ("payment_key", ("paymentkey", "결제키"), ("paymentkey", "결제키")),
    ("kind", ("거래유형", "거래구분", "구분", "유형", "txkind", "transactiontype", "type"), ("거래유형", "거래구분")),
    ("status", ("상태", "거래상태", "결제상태", "status", "결제건상태"), ("상태", "status")),
    (
        "amount",
        ("결제금액", "거래금액", "금액", "amount", "승인금액", "totalamount", "총결제금액", "결제금액원"),
        ("결제금액", "거래금액", "승인금액", "amount", "금액"),
    ),
    (
        "time",
        (
            "거래일시",
            "결제일시",
            "승인일시",
            "transactionat",
            "paidat",
            "approvedat",
            "일시",
            "거래시각",
            "결제시각",
            "datetime",
        ),
        ("거래일시", "결제일시", "승인일시", "transactionat", "approvedat", "paidat", "일시"),
    ),
    ("method", ("결제수단", "method", "paymethod", "결제방법"), ("결제수단", "method")),
)


def map_headers(headers: Sequence[str]) -> dict[str, str]:
    """field name → the header that carries it (exact alias first, then a substring)."""
    normalised = {h: _norm(h) for h in headers}
    taken: set[str] = set()
    out: dict[str, str] = {}
    for field, exact, contains in _FIELDS:
        pick = next((h for h, n in normalised.items() if h not in taken and n in exact), None)
        if pick is None:
            pick = next((h for h, n in normalised.items() if h not in taken and any(c in n for c in contains)), None)
        if pick is not None:
            out[field] = pick
            taken.add(pick)
    return out


def _csv_provider(mapping: Mapping[str, str]) -> str:
    order_header = _norm(mapping.get("order_id", ""))
    if "paymentkey" in mapping.get("payment_key", "").lower() or order_header in ("orderid", "주문번호", "주문id"):
        return "tosspayments"
    return "portone"


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):  # Korean Excel saves CSV as CP949 unless told otherwise
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(f"{path.name}: the file is neither UTF-8 nor CP949 text; save it as a UTF-8 CSV")


def parse_csv(text: str, name: str, provider: str | None = None) -> PgExport:
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [h for h in (reader.fieldnames or []) if h]
    mapping = map_headers(headers)
    if "order_id" not in mapping or "amount" not in mapping:
        raise ConfigError(
            f"{name}: not a PortOne reconciliation CSV or TossPayments CSV (no order id / amount column among "
            f"{', '.join(headers[:12]) or 'no columns'})"
        )
    who = provider or _csv_provider(mapping)
    per_payment = "cancel_amount" in mapping and "kind" not in mapping
    rows: list[PgExportRow] = []
    skipped = 0
    for line_no, rec in enumerate(reader, start=2):

        def get(field: str, rec: Mapping[str, Any] = rec) -> str | None:
            header = mapping.get(field)
            value = rec.get(header) if header else None
            return value.strip() if isinstance(value, str) and value.strip() else None

        order_id = get("order_id")
        try:
            amount = parse_amount(get("amount"))
            if not order_id or amount is None:
                skipped += 1
                continue
            at = parse_time(get("time"))
            cancelled = parse_amount(get("cancel_amount")) if per_payment else None
            cancel_time = parse_time(get("cancel_time"))
        except ValueError as exc:
            raise ValueError(f"line {line_no}: {exc}") from None
        status = canonical_status(get("status"))
        key = get("transaction_key") or get("payment_key") or f"{order_id}:line{line_no}"
        method = get("method")
        if per_payment:
            # One line per payment: the approval, plus its cancelled part as a cancel row.
            rows.append(PgExportRow(who, order_id, key, "approval", status, abs(amount), at, method))
            if cancelled:
                kind = "partial_cancel" if abs(cancelled) < abs(amount) else "cancel"
                cancel_key = get("cancel_id") or f"{key}:cancel"
                cancel_at = cancel_time or at
                rows.append(PgExportRow(who, order_id, cancel_key, kind, status, abs(cancelled), cancel_at, method))
            continue
        kind = kind_from_word(get("kind")) if "kind" in mapping else None
        if kind is None:
            kind = kind_from_word(get("status")) or ("cancel" if amount < 0 else "approval")
        if kind != "approval":
            key = get("cancel_id") or key
            at = cancel_time or at
        rows.append(PgExportRow(who, order_id, key, kind, status, abs(amount), at, method))
    return PgExport(name, f"{who}_csv", _dedupe(rows), skipped)


# --- JSON ------------------------------------------------------------------------------


def _items(data: Any) -> list[Mapping[str, Any]] | None:
    if isinstance(data, Mapping):
        for key in ("data", "items", "transactions", "settlements", "payments"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if isinstance(data, list) and all(isinstance(x, Mapping) for x in data):
        return list(data)
    return None


def _toss_rows(obj: Mapping[str, Any]) -> list[PgExportRow]:
    order_id = obj.get("orderId")
    if not order_id:
        return []
    payment_key = obj.get("paymentKey")
    status = canonical_status(obj.get("status"))
    method = obj.get("method")
    cancel = obj.get("cancel")
    if isinstance(cancel, Mapping) and cancel:  # a settlement line for a cancel
        amount = parse_amount(cancel.get("cancelAmount")) or parse_amount(obj.get("amount")) or 0
        key = obj.get("transactionKey") or cancel.get("transactionKey") or f"{payment_key}:cancel"
        at = parse_time(cancel.get("canceledAt") or obj.get("transactionAt") or obj.get("approvedAt"))
        return [PgExportRow("tosspayments", order_id, key, "cancel", status, abs(amount), at, method)]
    cancels = obj.get("cancels")
    if isinstance(cancels, list) and "totalAmount" in obj:  # a Payment object
        rows = [
            PgExportRow(
                "tosspayments",
                order_id,
                str(payment_key or order_id),
                "approval",
                status,
                abs(parse_amount(obj.get("totalAmount")) or 0),
                parse_time(obj.get("approvedAt")),
                method,
            )
        ]
        for c in cancels:
            if isinstance(c, Mapping) and (c.get("cancelStatus") in (None, "DONE")):
                amount = abs(parse_amount(c.get("cancelAmount")) or 0)
                kind = "partial_cancel" if amount < (rows[0].amount or 0) else "cancel"
                rows.append(
                    PgExportRow(
                        "tosspayments",
                        order_id,
                        str(c.get("transactionKey") or f"{payment_key}:cancel:{len(rows)}"),
                        kind,
                        status,
                        amount,
                        parse_time(c.get("canceledAt")),
                        method,
                    )
                )
        return rows
    amount = parse_amount(obj.get("amount") if obj.get("amount") is not None else obj.get("totalAmount"))
    if amount is None:
        return []
    kind = kind_from_word(obj.get("status")) or ("cancel" if amount < 0 else "approval")
    key = obj.get("transactionKey") or f"{payment_key or order_id}:{kind}"
    at = parse_time(obj.get("transactionAt") or obj.get("approvedAt"))
    return [PgExportRow("tosspayments", order_id, str(key), kind, status, abs(amount), at, method)]


def _portone_rows(obj: Mapping[str, Any]) -> list[PgExportRow]:
    order_id = obj.get("id") or obj.get("paymentId")
    amount_obj = obj.get("amount")
    total_amount = parse_amount(amount_obj.get("total") if isinstance(amount_obj, Mapping) else amount_obj)
    if not order_id or total_amount is None:
        return []
    status = canonical_status(obj.get("status"))
    method_obj = obj.get("method")
    method = method_obj.get("type") if isinstance(method_obj, Mapping) else method_obj
    key = str(obj.get("transactionId") or f"{order_id}:approval")
    rows = [
        PgExportRow(
            "portone", order_id, key, "approval", status, abs(total_amount), parse_time(obj.get("paidAt")), method
        )
    ]
    for c in obj.get("cancellations") or []:
        if isinstance(c, Mapping) and c.get("status", "SUCCEEDED") == "SUCCEEDED":
            amount = abs(parse_amount(c.get("totalAmount")) or 0)
            kind = "partial_cancel" if amount < abs(total_amount) else "cancel"
            rows.append(
                PgExportRow(
                    "portone",
                    order_id,
                    str(c.get("id") or f"{key}:cancel:{len(rows)}"),
                    kind,
                    status,
                    amount,
                    parse_time(c.get("cancelledAt")),
                    method,
                )
            )
    return rows


def parse_json(text: str, name: str) -> PgExport:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"{name}: the file is not valid JSON") from None
    items = _items(data)
    if not items:
        raise ConfigError(f'{name}: expected a list of PG transactions (or {{"data": [...]}}), found none')
    if any("orderId" in x or "paymentKey" in x for x in items):
        fmt, reader = "tosspayments_json", _toss_rows
    elif any("transactionId" in x or "storeId" in x or isinstance(x.get("amount"), Mapping) for x in items):
        fmt, reader = "portone_json", _portone_rows
    else:
        raise ConfigError(
            f"{name}: not a TossPayments transactions/settlements or PortOne payments JSON "
            f"(no orderId/paymentKey or id/transactionId fields)"
        )
    rows: list[PgExportRow] = []
    skipped = 0
    for obj in items:
        got = reader(obj)
        if got:
            rows.extend(got)
        else:
            skipped += 1
    return PgExport(name, fmt, _dedupe(rows), skipped)


def _dedupe(rows: Iterable[PgExportRow]) -> tuple[PgExportRow, ...]:
    """An export listing the same line twice counts it once. Same line = same transaction key,
    kind, amount and time: two partial cancels under one transaction id (as PortOne's CSV lists
    them) differ in time or amount and both count."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for r in rows:
        key = (r.provider, r.transaction_key, r.tx_kind, r.amount, r.transaction_at)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return tuple(out)


def load_pg_export(path: str | Path, provider: str | None = None) -> PgExport:
    """Read a PortOne reconciliation CSV or a TossPayments (or PortOne) JSON export.

    `provider` forces the provider of a CSV whose headers do not tell.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"PG export file {p.name} does not exist or is not a file")
    if provider is not None and provider not in ("portone", "tosspayments"):
        raise ConfigError(f"provider must be portone or tosspayments, not {provider!r}")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        raise ConfigError(f"{p.name}: Excel files are not read; save the sheet as CSV (UTF-8) and pass that file")
    text = _read_text(p)
    stripped = text.lstrip("\ufeff \r\n\t")
    try:
        if suffix == ".json" or stripped.startswith(("[", "{")):
            export = parse_json(stripped, p.name)
        elif suffix in (".csv", ".tsv", ".txt") or "," in stripped.partition("\n")[0]:
            export = parse_csv(text, p.name, provider)
        else:
            export = None
    except ValueError as exc:  # a value no reader could take: name the file, and the line if known
        raise ConfigError(f"{p.name}: {exc}") from None
    if export is None:
        raise ConfigError(
            f"{p.name}: unknown PG export format (expected a PortOne reconciliation .csv or a TossPayments .json)"
        )
    if not export.rows:
        raise ConfigError(f"{p.name}: no PG transaction with an order id and an amount was found in the file")
    return export

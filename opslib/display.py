"""Frames as people may see them: identifiers masked, times in KST, rows as evidence."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from opslib.masking import is_secret_name, mask_frame, mask_records, mask_value, redact_text
from opslib.timewindow import KST

# Evidence attached to a finding stays short: the notebook table holds the full list.
EVIDENCE_ROWS = 20


def _is_time_column(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    if series.dtype == object:
        values = [v for v in series if v is not None and not (isinstance(v, float) and pd.isna(v))]
        return bool(values) and all(isinstance(v, dt.datetime) for v in values)
    return False


def kst_times(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose timestamp columns are timezone-aware Asia/Seoul (the runbook's clock)."""
    out = frame.copy()
    for col in out.columns:
        if _is_time_column(out[col]):
            out[col] = pd.to_datetime(out[col], utc=True).dt.tz_convert(KST)
    return out


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Masked (emails, phones, IPs, user ids, uuids) and in KST; JSON objects (a jsonb column such as
    ops_audit_log.details) as `key: value` text."""
    return readable_objects(mask_frame(kst_times(frame)))


# A JSON object in a table cell is cut at this length: the table is read, result.json keeps the rows.
OBJECT_CHARS = 200


def mapping_text(value: Mapping[str, Any]) -> str:
    """{'version': 'v43', 'by': 'kim@x.io', 'token': ...} -> 'version: v43, by: k***@x***, token: ***'.

    Each value is masked by its key as a column of that name would be (user_id, email, ip, ...), and
    free text in it by mask_text; a key named like a secret shows *** and secret-looking values are
    redacted. Nested objects read in braces, lists as comma-separated values."""

    def one(key: str, v: Any) -> str:
        if is_secret_name(key):
            return "***"
        if isinstance(v, Mapping):
            return "{" + ", ".join(f"{k}: {one(str(k), x)}" for k, x in v.items()) + "}"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(one(key, x) for x in v) + "]"
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(mask_value(key, v if isinstance(v, int | float) else str(v)))

    text = ", ".join(f"{k}: {one(str(k), v)}" for k, v in value.items()) or "-"
    text = redact_text(text)[0]
    return text if len(text) <= OBJECT_CHARS else text[: OBJECT_CHARS - 1] + "…"


def readable_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose JSON-object cells are mapping_text (a Python dict's repr is not for people)."""
    out = frame
    for col in frame.columns:
        if frame[col].dtype == object and any(isinstance(v, Mapping) for v in frame[col]):
            if out is frame:
                out = frame.copy()
            out[col] = [mapping_text(v) if isinstance(v, Mapping) else v for v in frame[col]]
    return out


def _plain(value: Any) -> Any:
    """JSON-friendly scalar: evidence rows end up in result.json."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item") and not isinstance(value, list | tuple | str):
        try:
            return value.item()
        except (AttributeError, ValueError):
            return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def evidence(
    frame: pd.DataFrame, columns: Iterable[str] | None = None, limit: int = EVIDENCE_ROWS
) -> tuple[dict[str, Any], ...]:
    """The first rows of a frame, masked, KST, plain values: what a finding carries as evidence."""
    if frame.empty:
        return ()
    part = kst_times(frame.head(limit))
    if columns is not None:
        part = part[[c for c in columns if c in part.columns]]
    rows = [{str(k): _plain(v) for k, v in row.items()} for row in part.to_dict(orient="records")]
    return mask_records(rows)

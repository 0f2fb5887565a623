"""Frames as people may see them: identifiers masked, times in KST, rows as evidence."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import pandas as pd

from opslib.masking import mask_frame, mask_records
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
    """Masked (emails, phones, IPs, user ids, uuids) and in KST."""
    return mask_frame(kst_times(frame))


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

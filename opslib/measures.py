"""Small pure helpers shared by every page's steps: rates, frame lookups, counts as text."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def pct(part: float, whole: float) -> float | None:
    """part/whole in percent; None when there is nothing to divide by (not 0 %, not 100 %)."""
    if not whole:
        return None
    return 100.0 * float(part) / float(whole)


def rows(frame: pd.DataFrame, **where: object) -> pd.DataFrame:
    """The rows matching every column=value given; an empty frame stays empty (and never KeyErrors)."""
    out = frame
    for key, value in where.items():
        if out.empty or key not in out.columns:
            return out.iloc[0:0]
        out = out[out[key] == value]
    return out


def total(frame: pd.DataFrame, column: str, **where: object) -> int:
    """Sum of an integer column over the rows matching where (0 on an empty frame)."""
    if frame.empty or column not in frame.columns:
        return 0
    rows = frame
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return int(pd.to_numeric(rows[column], errors="coerce").fillna(0).sum())


def first_value(frame: pd.DataFrame, column: str, **where: object) -> object | None:
    if frame.empty or column not in frame.columns:
        return None
    rows = frame
    for key, value in where.items():
        rows = rows[rows[key] == value]
    if rows.empty:
        return None
    value = rows.iloc[0][column]
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def number(value: object) -> float | None:
    """A float from whatever a driver handed back (int, Decimal, numpy, NaN, None)."""
    if value is None:
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(out) else out


def join_counts(pairs: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pairs if count)

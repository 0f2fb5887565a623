"""PostgreSQL binary COPY, row blocks built and parsed with numpy structured arrays.

Binary COPY is how the seeder moves millions of rows cheaply: no text formatting on either
side, one `tobytes()` per block of rows that share a layout (same columns NULL, same text
widths). Format: docs "COPY / Binary Format": header, then per row an int16 field count and
per field an int32 length (-1 = NULL) and the value in network byte order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import psycopg

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags = 0, header extension length = 0
TRAILER = b"\xff\xff"
PG_EPOCH_UNIX_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds: timestamptz's zero
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)

Value = np.ndarray | bytes | int | None


def _dtype(value: np.ndarray | bytes | int) -> np.dtype:
    if isinstance(value, bytes):
        return np.dtype(f"S{len(value)}")
    if isinstance(value, int):
        return np.dtype(">i8")
    if value.dtype.kind in "iu":
        return np.dtype(">i8")
    return value.dtype  # V16 (uuid) or S<n> (text of one width)


def rows(n: int, *records: Sequence[Value]) -> np.ndarray:
    """n encoded rows as an (n, width) uint8 array; several records make each row several COPY rows.

    Each value is an array of n items, a constant, or None (NULL in every row).
    """
    spec: list[tuple[str, object]] = []
    for r, values in enumerate(records):
        spec.append((f"nf{r}", ">i2"))
        for i, value in enumerate(values):
            spec.append((f"l{r}_{i}", ">i4"))
            if value is not None:
                spec.append((f"v{r}_{i}", _dtype(value)))
    out = np.empty(n, dtype=np.dtype(spec))  # type: ignore[call-overload]
    for r, values in enumerate(records):
        out[f"nf{r}"] = len(values)
        for i, value in enumerate(values):
            if value is None:
                out[f"l{r}_{i}"] = -1
            else:
                out[f"l{r}_{i}"] = _dtype(value).itemsize
                out[f"v{r}_{i}"] = value
    return out.view(np.uint8).reshape(n, -1)


def encode(n: int, values: Sequence[Value]) -> np.ndarray:
    """n encoded rows, concatenated (a flat uint8 array, written to COPY as it is)."""
    return rows(n, values).reshape(-1)


def decode(data: bytes, fields: Sequence[tuple[str, str]]) -> np.ndarray:
    """Parse a binary COPY of fixed-width, never-NULL fields into a structured array."""
    spec: list[tuple[str, str]] = [("_nf", ">i2")]
    for name, kind in fields:
        spec += [(f"_l_{name}", ">i4"), (name, kind)]
    body = data[len(HEADER) : -len(TRAILER)]
    rows = np.frombuffer(body, dtype=np.dtype(spec))
    for name, kind in fields:
        if rows.size and (rows[f"_l_{name}"] != np.dtype(kind).itemsize).any():
            raise ValueError(f"column {name} is NULL or not {np.dtype(kind).itemsize} bytes wide in some row")
    return rows


def fetch(conn: psycopg.Connection, query: str, fields: Sequence[tuple[str, str]]) -> np.ndarray:
    """Run `query` (a SELECT whose columns match `fields`) through COPY ... TO STDOUT (FORMAT binary)."""
    with conn.cursor().copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:  # type: ignore[arg-type]
        data = b"".join(bytes(block) for block in copy)
    return decode(data, fields)


def load(
    conn: psycopg.Connection, table_and_columns: str, blocks: Iterable[np.ndarray], *, freeze: bool = False
) -> None:
    """COPY ... FROM STDIN (FORMAT binary) from encoded row blocks (flat uint8 arrays).

    (Encoding the next block on a second thread while the server ingests was measured slower:
    the two contend for the GIL and both cores are busy anyway.)
    """
    options = "FORMAT binary, FREEZE" if freeze else "FORMAT binary"
    with conn.cursor().copy(f"COPY {table_and_columns} FROM STDIN ({options})") as copy:  # type: ignore[arg-type]
        copy.write(HEADER)
        for block in blocks:
            copy.write(memoryview(np.ascontiguousarray(block)).cast("B"))
        copy.write(TRAILER)


def uuid_text(ids: np.ndarray) -> np.ndarray:
    """(n, 16) uint8 uuids -> (n, 36) uint8 of their canonical text (8-4-4-4-12, lower-case hex)."""
    raw = ids.reshape(-1, 16)
    hexed = np.empty((raw.shape[0], 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 15]
    dash = np.full((raw.shape[0], 1), ord("-"), dtype=np.uint8)
    return np.hstack(
        [hexed[:, :8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash, hexed[:, 16:20], dash, hexed[:, 20:]]
    )


def text(*parts: np.ndarray | bytes, n: int) -> np.ndarray:
    """Concatenate fixed-width parts (constants or (n, w) uint8 arrays) into one S<width> column."""
    columns = [
        np.broadcast_to(np.frombuffer(p, dtype=np.uint8), (n, len(p))) if isinstance(p, bytes) else p for p in parts
    ]
    joined = np.ascontiguousarray(np.hstack(columns))
    return joined.view(f"S{joined.shape[1]}").reshape(n)


def uuids(raw: np.ndarray) -> np.ndarray:
    """(n, 16) uint8 -> n values of dtype V16 (what encode writes as a uuid)."""
    return np.ascontiguousarray(raw).view("V16").reshape(-1)

"""Storage API requests from the gateway log: which are uploads, URL generations, reads, preflights.

The SQL (storage.requests_buckets, storage.failed_requests) cuts the path into an area (the
endpoint name after /storage/v1/object/, or '' for an object path) and a storage bucket; the
rule that turns method and area into a kind of request lives here, once, as a pure function.
"""

from __future__ import annotations

import enum

import pandas as pd

BUCKET_MINUTES = 5


class Kind(enum.Enum):
    UPLOAD = "upload"  # POST/PUT /object/<bucket>/..., PUT /object/upload/sign/<bucket>/...
    URL_SIGN = "url_sign"  # POST /object/sign/<bucket>/... (createSignedUrl), POST /object/upload/sign/...
    READ_PUBLIC = "read_public"  # GET /object/public/<bucket>/... (getPublicUrl)
    READ_AUTH = "read_auth"  # GET /object/authenticated/<bucket>/..., GET /object/<bucket>/... (download)
    READ_SIGNED = "read_signed"  # GET /object/sign/<bucket>/...?token= (a signed URL used)
    PREFLIGHT = "preflight"  # OPTIONS: the browser's CORS check before a web upload
    DELETE = "delete"
    OTHER = "other"  # list, info, move, copy

    @property
    def is_read(self) -> bool:
        return self in (Kind.READ_PUBLIC, Kind.READ_AUTH, Kind.READ_SIGNED)


READS = (Kind.READ_PUBLIC.value, Kind.READ_AUTH.value, Kind.READ_SIGNED.value)
_GET = ("GET", "HEAD")


def classify(method: str, area: str) -> Kind:
    """Pure: the kind of one Storage API request from its method and area ('' = an object path)."""
    method = (method or "").upper()
    if method == "OPTIONS":
        return Kind.PREFLIGHT
    if area == "sign":
        return Kind.URL_SIGN if method == "POST" else Kind.READ_SIGNED if method in _GET else Kind.OTHER
    if area == "upload":
        return Kind.UPLOAD if method == "PUT" else Kind.URL_SIGN if method == "POST" else Kind.OTHER
    if area == "public":
        return Kind.READ_PUBLIC if method in _GET else Kind.OTHER
    if area == "authenticated":
        return Kind.READ_AUTH if method in _GET else Kind.OTHER
    if area:
        return Kind.OTHER
    if method in ("POST", "PUT"):
        return Kind.UPLOAD
    if method in _GET:
        return Kind.READ_AUTH
    if method == "DELETE":
        return Kind.DELETE
    return Kind.OTHER


def succeeded(status: object) -> bool:
    """2xx and 3xx (a 304 on a cached read) succeed; an error status or none (client gone) does not."""
    try:
        code = int(status)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    return 200 <= code < 400


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The query's rows with kind, ok, failed (request counts) and a nullable int status."""
    out = frame.copy()
    if out.empty:
        for col, dtype in (("kind", object), ("ok", "int64"), ("failed", "int64"), ("requests", "int64")):
            out[col] = pd.Series(dtype=dtype)
        return out
    out["kind"] = [classify(m, a).value for m, a in zip(out["method"], out["area"].fillna(""), strict=True)]
    good = out["status_code"].map(succeeded).astype(bool)
    out["requests"] = pd.to_numeric(out["requests"]).astype("int64") if "requests" in out else 1
    out["ok"] = out["requests"].where(good, 0)
    out["failed"] = out["requests"].where(~good, 0)
    return out


def of_kind(frame: pd.DataFrame, *kinds: str) -> pd.DataFrame:
    if frame.empty or "kind" not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame["kind"].isin(kinds)]


def status_mix(frame: pd.DataFrame, limit: int = 4) -> str:
    """'503 ×40, 500 ×3': the commonest failing statuses of a tidy frame."""
    bad = frame[frame["failed"] > 0] if not frame.empty else frame
    if bad.empty:
        return ""
    codes = bad.assign(code=bad["status_code"].map(lambda s: "응답 없음" if pd.isna(s) else str(int(s))))
    counts = codes.groupby("code")["failed"].sum().sort_values(ascending=False).head(limit)
    return ", ".join(f"{code} ×{int(n)}" for code, n in counts.items())


def tidy_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Single failed requests (storage.failed_requests) with their kind."""
    out = frame.copy()
    if out.empty:
        out["kind"] = pd.Series(dtype=object)
        return out
    out["kind"] = [classify(m, a).value for m, a in zip(out["method"], out["area"].fillna(""), strict=True)]
    return out

"""What one GoTrue answer means for §3-B: a success, or which kind of failure (pure, no database).

Failed logins exist only in logs.auth_logs (GoTrue answers 400 invalid_credentials and writes no
audit_log_entries row), so every rate on the auth page is read from there and classified here.
A social callback that fails redirects (302/303) with an error code: an error code is a failure
whatever the status. No status at all is a request that got no answer (the client gave up).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# The /token grants that open a session, the social callback and OTP verification.
LOGIN_METHODS = ("password", "id_token", "pkce", "social_callback", "otp")
REFRESH_METHOD = "refresh_token"

SUCCESS = "success"
SERVER_ERROR = "server_error"  # 5xx or no answer: GoTrue (or what is behind it) is broken
RATE_LIMITED = "rate_limited"  # 429 / over_*_rate_limit
CREDENTIALS = "credentials"  # wrong password: the user's mistake, or an attacker's
PROVIDER = "provider"  # the social provider or its configuration
SESSION = "session"  # refresh token or JWT no longer valid
CLIENT_ERROR = "client_error"  # any other 4xx / error code

CREDENTIAL_CODES = frozenset({"invalid_credentials", "invalid_grant"})
SESSION_CODES = frozenset(
    {"refresh_token_not_found", "refresh_token_already_used", "session_not_found", "session_expired", "bad_jwt"}
)
PROVIDER_CODES = frozenset(
    {
        "provider_disabled",
        "bad_oauth_callback",
        "bad_oauth_state",
        "oauth_provider_not_supported",
        "provider_email_needs_verification",
    }
)
SERVER_CODES = frozenset({"unexpected_failure", "request_timeout", "hook_timeout", "conflict"})
_RATE_LIMIT = re.compile(r"^over_.*rate_limit$")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def outcome(status: Any, error_code: Any) -> str:
    """The class of one answer (see the module docstring)."""
    code = "" if _missing(error_code) else str(error_code)
    if _missing(status):
        return SERVER_ERROR
    status = int(status)
    if status >= 500 or code in SERVER_CODES:
        return SERVER_ERROR
    if status == 429 or _RATE_LIMIT.match(code):
        return RATE_LIMITED
    if code in CREDENTIAL_CODES:
        return CREDENTIALS
    if code in PROVIDER_CODES:
        return PROVIDER
    if code in SESSION_CODES:
        return SESSION
    if code or status >= 400:
        return CLIENT_ERROR
    return SUCCESS


def annotate(frame: pd.DataFrame) -> pd.DataFrame:
    """The requests frame with `outcome` and `failed` columns (an empty frame keeps its shape)."""
    out = frame.copy()
    if out.empty:
        out["outcome"] = pd.Series(dtype=object)
        out["failed"] = pd.Series(dtype=bool)
        return out
    out["outcome"] = [outcome(s, c) for s, c in zip(out["status"], out["error_code"], strict=True)]
    out["failed"] = out["outcome"] != SUCCESS
    return out


def logins(frame: pd.DataFrame, *, include_excluded: bool = False) -> pd.DataFrame:
    """Login attempts (password, id_token, pkce, social callback, OTP) of an annotated frame."""
    if frame.empty:
        return frame
    part = frame[frame["method"].isin(LOGIN_METHODS)]
    return part if include_excluded else part[~part["excluded"].astype(bool)]


def counts(frame: pd.DataFrame) -> tuple[int, int]:
    """(attempts, failures) of an annotated frame."""
    if frame.empty:
        return 0, 0
    return int(frame["requests"].sum()), int(frame.loc[frame["failed"], "requests"].sum())


def top_codes(frame: pd.DataFrame, limit: int = 4) -> str:
    """The commonest failure codes as 'code n, ...' (status when there is no code)."""
    failed = frame[frame["failed"]] if not frame.empty else frame
    if failed.empty:
        return ""
    labels = [
        str(c) if not _missing(c) and c else (f"HTTP {int(s)}" if not _missing(s) else "무응답 (no answer)")
        for c, s in zip(failed["error_code"], failed["status"], strict=True)
    ]
    sums = failed.assign(label=labels).groupby("label")["requests"].sum().sort_values(ascending=False)
    return ", ".join(f"{k} {int(v):,}" for k, v in sums.head(limit).items())

"""Sentry's web API: opt-in, shared by the pages that read it.

The alert board reads the crash-free session rate (§4-E), the post-deploy page the new issues of a
release (§2). Both go through `get_json`: the token only from `$SENTRY_AUTH_TOKEN`, the base URL from
`$SENTRY_URL` (the names sentry-cli uses; default https://sentry.io, or a self-hosted Sentry). The
token travels in a header and nowhere else: errors name the HTTP status or the exception's class,
never the request or its URL.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

TOKEN_ENV = "SENTRY_AUTH_TOKEN"
URL_ENV = "SENTRY_URL"
DEFAULT_URL = "https://sentry.io"
TIMEOUT_S = 10.0


class SentryUnavailable(OSError):
    """Sentry did not answer usable JSON; the message is safe to show (no token, no URL)."""


def token() -> str:
    return os.environ.get(TOKEN_ENV, "")


def base_url() -> str:
    return os.environ.get(URL_ENV, "").strip() or DEFAULT_URL


def host() -> str:
    """Where the figures came from, for the report (the host only)."""
    return urllib.parse.urlsplit(base_url()).netloc


def get_json(path: str, query: Sequence[tuple[str, str]], timeout: float = TIMEOUT_S) -> Any:
    """One authenticated GET of `path` (e.g. /api/0/organizations/<org>/sessions/) under the base URL."""
    secret = token()
    if not secret:
        raise SentryUnavailable(f"${TOKEN_ENV} is not set")
    request = urllib.request.Request(
        f"{base_url().rstrip('/')}{path}?{urllib.parse.urlencode(list(query))}",
        headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise SentryUnavailable(f"Sentry answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SentryUnavailable(f"Sentry could not be reached ({type(reason).__name__})") from None
    except ValueError:
        raise SentryUnavailable("Sentry's answer is not JSON") from None

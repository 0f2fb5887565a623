"""Sentry: new errors by release tag (§2 첫 줄). Opt-in: an export file, or the issues API.

Sentry is outside the database. The page reads, in this order of preference:
- `sentry_export`: a JSON file as the issues API returns it (a list of issues with `firstSeen`,
  `count`, `level`, `title`, and `firstRelease`), e.g. saved from the web UI or `curl`;
- the issues API: `GET {base}/api/0/projects/{org}/{project}/issues/?query=firstRelease:<release>`,
  with the token in `$SENTRY_AUTH_TOKEN` (environment only, never a parameter, never printed) and
  `$SENTRY_URL` (default https://sentry.io) for self-hosted Sentry (opslib.sentry).
Without either the checklist line is manual (NOT_EVALUATED, with what to look at), never OK.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from opslib import checks, sentry
from opslib.deploy.changes import Deployment
from opslib.display import for_display
from opslib.masking import redact_text
from opslib.results import Finding

TOKEN_ENV = sentry.TOKEN_ENV
CHECK = "deploy.sentry_new_errors"


@dataclass(frozen=True)
class SentryView:
    source: str  # "export <file>" | "api <host>" | "manual"
    issues: pd.DataFrame  # new issues of the release: title (redacted), level, count, first seen
    sentence: str
    findings: tuple[Finding, ...]


def issues_path(org: str, project: str) -> str:
    return f"/api/0/projects/{urllib.parse.quote(org, safe='')}/{urllib.parse.quote(project, safe='')}/issues/"


def issues_query(release: str) -> list[tuple[str, str]]:
    return [("query", f"firstRelease:{release}"), ("statsPeriod", "24h"), ("limit", "100")]


def fetch_issues(org: str, project: str, release: str) -> list[dict[str, Any]]:
    """One GET to the issues API (opslib.sentry: token from the environment, safe errors)."""
    data = sentry.get_json(issues_path(org, project), issues_query(release))
    if not isinstance(data, list):
        raise sentry.SentryUnavailable("Sentry's answer is not a list of issues")
    return data


def load_export(path: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OSError(f"the Sentry export {Path(path).name} cannot be read ({type(exc).__name__})") from None
    if isinstance(data, dict) and isinstance(data.get("issues"), list):
        data = data["issues"]
    if not isinstance(data, list):
        raise OSError(f"the Sentry export {Path(path).name} is not a list of issues")
    return data


def new_issues(issues: list[dict[str, Any]], release: str, since: datetime | None) -> pd.DataFrame:
    """Pure: the issues first seen in this release (firstRelease, or firstSeen after the deploy)."""
    rows = []
    for issue in issues:
        if not isinstance(issue, dict):
            continue
        first_release = issue.get("firstRelease")
        version = first_release.get("version") if isinstance(first_release, dict) else first_release
        first_seen = pd.to_datetime(issue.get("firstSeen"), utc=True, errors="coerce")
        in_release = bool(release) and version is not None and str(version) == release
        after_deploy = since is not None and not pd.isna(first_seen) and first_seen >= pd.Timestamp(since)
        if version is not None and not in_release:
            continue
        if not in_release and not after_deploy:
            continue
        rows.append(
            {
                "title": redact_text(str(issue.get("title", "")))[0][:200],
                "level": issue.get("level"),
                "events": int(issue.get("count") or 0),
                "users": int(issue.get("userCount") or 0),
                "first_seen": first_seen,
                "release": version,
                "short_id": issue.get("shortId"),
            }
        )
    return pd.DataFrame(rows)


def sentry_new_errors(
    conn: Any, deployment: Deployment, release: str = "", export_path: str = "", org: str = "", project: str = ""
) -> SentryView:
    """The §2 Sentry line: new issues in the release, from the export or the API; else manual."""
    del conn  # Sentry is outside the database; the signature is a page step's
    check = checks.get(CHECK)
    token = sentry.token()
    if export_path:
        source = f"export {Path(export_path).name}"
    elif org and project and token:
        source = f"api {sentry.host()}"
    else:
        why = (
            "수동 확인: Sentry → Releases → "
            + (release or "<release>")
            + " → New Issues (opt-in: sentry_export 파일, 또는 sentry_org/sentry_project와 $"
            + TOKEN_ENV
            + ")"
        )
        return SentryView("manual", pd.DataFrame(), why, (checks.evaluate(check, None, detail=why),))
    try:
        issues = load_export(export_path) if export_path else fetch_issues(org, project, release)
    except OSError as exc:
        # the token is never part of the message (fetch_issues builds it without it); scrub anyway
        text = redact_text(str(exc), [token] if token else [])[0]
        return SentryView(source, pd.DataFrame(), text, (checks.error(check, text),))
    since = deployment.deploy_at
    frame = new_issues(issues, release, since)
    n = len(frame)
    events = int(frame["events"].sum()) if n else 0
    sentence = (
        f"Sentry ({source}): 릴리즈 {release or '?'}의 신규 이슈 {n}건, 이벤트 {events}건"
        if n
        else f"Sentry ({source}): 릴리즈 {release or '?'}의 신규 이슈 없음 (no new issue in the release)"
    )
    finding = checks.evaluate(check, n, subject=release or None, detail=sentence)
    return SentryView(source, for_display(frame) if n else frame, sentence, (finding,))

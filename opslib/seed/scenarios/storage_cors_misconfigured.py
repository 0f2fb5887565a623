"""cors_misconfigured: the web app's origin is dropped from Storage's allowed origins.

Injected, from 40 minutes before as_of: every CORS preflight (OPTIONS) on a storage path from the
web app (origin https://fanapp.kr) is answered 403 'CORS: origin not allowed'; the browser then
never sends the upload, so the baseline's web uploads of the incident are gone from the log (the
mobile apps, which send no preflight, keep uploading: the upload success rate stays normal).
On top, 40 failed preflights from the web spread over the incident.

Ground truth: storage.cors_preflight_failures P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import storage_drills as sd
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register
from opslib.seed.storage import WEB_ORIGIN

MESSAGE = "CORS: origin not allowed"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    sd.restatus(conn, "e.method = 'OPTIONS'", 403, MESSAGE)
    conn.execute(
        f"DELETE FROM logs.edge_logs e WHERE {sd.IN_INCIDENT} AND {sd.UPLOAD} AND e.client_platform = 'web'"  # type: ignore[arg-type]
    )
    path = "'/storage/v1/object/message-media/' || u.id || '/' || s_uuid4(i, 991) || '.jpg'"
    sd.requests(
        conn,
        tag=41,
        count=40,
        method="OPTIONS",
        path=path,
        status=403,
        message=MESSAGE,
        users="creators",
        platform="web",
        origin=WEB_ORIGIN,
    )


SCENARIO = register(
    Scenario(
        name="cors_misconfigured",
        title="Storage CORS 설정 오류 (web uploads blocked by preflight)",
        description=__doc__ or "",
        expected=(Expected("storage.cors_preflight_failures", Severity.P1),),
        stage=None,
        inject=inject,
        runbook="storage",
    )
)

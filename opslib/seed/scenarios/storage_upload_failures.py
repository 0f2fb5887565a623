"""upload_failures: the Storage service answers 503 to uploads (5xx on put).

Injected, from 40 minutes before as_of: 9 in 10 of the baseline's uploads (POST/PUT on
/storage/v1/object/<bucket>/...) are answered 503 'Service Unavailable'; on top, 60 uploads of
users (40 creators' message media, 20 avatars) spread over the incident, 9 in 10 failing, and
12 banner-image uploads by ops-manage with the service-role key (no user JWT), all failing;
ops-manage logs `storage_upload_failed` as an error for each. Reads are untouched. The service
role fails as users do: the network or the service, not RLS.

Ground truth: storage.upload_success_rate P1 for message-media and avatars,
storage.upload_failed_events P3.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import storage_drills as sd
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

MESSAGE = "Service Unavailable: upstream storage backend error"
EVENT = (
    '{"env":"production","release":"ops-manage@v23","platform":"edge","event":"storage_upload_failed",'
    '"severity":"error","domain":"storage","status":503,"bucket":"banners"}'
)


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    sd.restatus(conn, sd.UPLOAD, 503, MESSAGE, share=0.9)
    media = "'/storage/v1/object/message-media/' || u.id || '/' || s_uuid4(i, 961) || '.jpg'"
    avatar = "'/storage/v1/object/avatars/' || u.id || '/avatar.webp'"
    n = 40
    sd.requests(conn, tag=1, count=n, method="POST", path=media, status=503, message=MESSAGE, users="creators")
    sd.requests(conn, tag=2, count=n // 10, method="POST", path=media, status=200, users="creators")
    sd.requests(conn, tag=3, count=18, method="POST", path=avatar, status=503, message=MESSAGE)
    sd.requests(conn, tag=4, count=2, method="PUT", path=avatar, status=200)
    banner = "'/storage/v1/object/banners/home/drill-' || i || '.webp'"
    sd.requests(conn, tag=5, count=12, method="POST", path=banner, status=503, message=MESSAGE, users="none")
    sd.console(conn, tag=1, count=12, function="ops-manage", level="error", message=EVENT)


SCENARIO = register(
    Scenario(
        name="upload_failures",
        title="Storage 업로드 503 (5xx on put)",
        description=__doc__ or "",
        expected=(
            Expected("storage.upload_success_rate", Severity.P1, "message-media"),
            Expected("storage.upload_success_rate", Severity.P1, "avatars"),
            Expected("storage.upload_failed_events", Severity.P3),
        ),
        stage=None,
        inject=inject,
        runbook="storage",
    )
)

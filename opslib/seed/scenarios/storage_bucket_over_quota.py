"""bucket_over_quota: message-media outgrows its quota; uploads to it are rejected with 413.

Injected: 1,100 creator videos of 48 MiB each (video/mp4, allowed, under the 50 MiB file limit)
uploaded to message-media over the last 10 days (about 52 GiB: past the page's default quota of
50 GB per bucket); from 40 minutes before as_of, 8 in 10 of the baseline's uploads to
message-media are answered 413 'Payload too large: storage quota exceeded', plus 40 creator
uploads spread over the incident, all rejected. Avatars keep working.

Ground truth: storage.bucket_capacity P1 for message-media, storage.uploads_rejected P1,
storage.upload_success_rate P1 for message-media.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import storage_drills as sd
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

VIDEOS = 1_100
VIDEO_BYTES = 48 * 1024**2
MESSAGE = "Payload too large: storage quota exceeded"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        f"""INSERT INTO storage.objects (id, bucket_id, name, owner, owner_id, created_at, updated_at,
                                         last_accessed_at, metadata, version)
            SELECT s_uuid4(i, 981), 'message-media', c.id || '/video-' || s_uuid4(i, 982) || '.mp4', c.id, c.id::text,
                   x.at, x.at, x.at,
                   jsonb_build_object('eTag', '"' || md5(i::text) || '"', 'size', {VIDEO_BYTES},
                                      'mimetype', 'video/mp4', 'cacheControl', 'max-age=3600',
                                      'contentLength', {VIDEO_BYTES}, 'httpStatusCode', 200),
                   s_uuid4(i, 983)::text
            FROM s_params p CROSS JOIN generate_series(1, {VIDEOS}) i
            JOIN s_users c ON c.n = 4 + i % (SELECT n_creators FROM s_params)
            CROSS JOIN LATERAL (SELECT p.incident_start - (i::float8 / {VIDEOS}) * interval '10 days' AS at) x"""  # type: ignore[arg-type]
    )
    media = f"{sd.UPLOAD} AND split_part(e.path, '/', 5) = 'message-media'"
    sd.restatus(conn, media, 413, MESSAGE, share=0.8)
    path = "'/storage/v1/object/message-media/' || u.id || '/video-' || s_uuid4(i, 984) || '.mp4'"
    sd.requests(conn, tag=31, count=40, method="POST", path=path, status=413, message=MESSAGE, users="creators")


SCENARIO = register(
    Scenario(
        name="bucket_over_quota",
        title="message-media 용량 초과 (uploads rejected 413)",
        description=__doc__ or "",
        expected=(
            Expected("storage.bucket_capacity", Severity.P1, "message-media"),
            Expected("storage.uploads_rejected", Severity.P1),
            Expected("storage.upload_success_rate", Severity.P1, "message-media"),
        ),
        stage=None,
        inject=inject,
        runbook="storage",
    )
)

"""Building blocks of the messaging drills (§3-C), on top of a finished baseline.

  hold()            the baseline's messages due since the incident started were never sent:
                    back to pending, their delivery rows gone (the fan-out never happened);
  burst()           extra messages due evenly over the incident (creators' posts to subscribers
                    and scheduled one-to-one messages), in a given state;
  dispatcher_answers()  what scheduled-dispatcher answered each pg_cron call of the incident
                    (net._http_response, function_edge_logs, its console line);
  dispatcher_silent()   the job stopped: no cron run, no pg_net response, no invocation.

Conditions are SQL over the run parameters `p` (p.incident_start, p.as_of). Runs with triggers
off (session_replication_role = replica) like every drill.
"""

from __future__ import annotations

import psycopg

from opslib.seed.scenarios.base import ScenarioContext

DISPATCHER = "scheduled-dispatcher"


def scaled(base: int, ctx: ScenarioContext) -> int:
    """A drill's volume: unmistakable at scale 1 and at any hour, growing slowly with the scale."""
    return round(base * ctx.scale**0.3)


def hold(conn: psycopg.Connection) -> None:
    """Baseline messages due since the incident started go back to pending, undelivered."""
    conn.execute(
        """
        WITH held AS (
          UPDATE public.messages m
             SET scheduled_status = 'pending', sent_at = NULL, locked_by = NULL, locked_at = NULL,
                 dispatch_attempts = 0, updated_at = m.created_at
            FROM s_params p
           WHERE m.scheduled_status = 'sent' AND coalesce(m.scheduled_at, m.created_at) >= p.incident_start
          RETURNING m.id
        )
        DELETE FROM public.message_delivery d USING held WHERE d.message_id = held.id
        """
    )


def burst(
    conn: psycopg.Connection,
    ctx: ScenarioContext,
    count: int,
    *,
    salt: int,
    status: str = "pending",
    sent_after_s: float = 20.0,
    lock_after_s: float = 30.0,
) -> None:
    """`count` messages due evenly over [incident_start, as_of): a third posts to subscribers, the
    rest scheduled one-to-one messages (audience 'user'); every other one paid.

    status 'sent' sends each sent_after_s after it was due (delivery rows: see fan_out());
    'processing' leaves each claimed lock_after_s after it was due, by a run that never finished.
    """
    conn.execute(
        """
        INSERT INTO public.messages
          (id, sender_id, audience, recipient_id, body, media_paths, price_dt, scheduled_at, scheduled_status,
           sent_at, dispatch_attempts, locked_by, locked_at, created_at, updated_at)
        SELECT s_uuid4(%(salt)s * 100000 + i, 97), c.id,
               CASE WHEN i %% 3 = 0 THEN 'subscribers' ELSE 'user' END,
               CASE WHEN i %% 3 = 0 THEN NULL ELSE f.id END,
               (ARRAY['생일 축하해요 🎂', '오늘 라이브 고마웠어요', '새 사진 도착 📸',
                      '답장 늦어서 미안해요'])[1 + i %% 4],
               '{}'::text[], CASE WHEN i %% 2 = 0 THEN 30 ELSE 0 END,
               x.due,
               %(status)s,
               CASE WHEN %(status)s = 'sent' THEN x.due + %(sent_after)s * interval '1 second' END,
               CASE WHEN %(status)s IN ('sent', 'processing') THEN 1 ELSE 0 END,
               CASE WHEN %(status)s IN ('sent', 'processing') THEN 'scheduled-dispatcher' END,
               CASE WHEN %(status)s = 'processing' THEN x.due + %(lock_after)s * interval '1 second'
                    WHEN %(status)s = 'sent' THEN x.due + (%(sent_after)s - 1) * interval '1 second' END,
               x.due - interval '1 hour',
               CASE WHEN %(status)s = 'sent' THEN x.due + %(sent_after)s * interval '1 second'
                    WHEN %(status)s = 'processing' THEN x.due + %(lock_after)s * interval '1 second'
                    ELSE x.due - interval '1 hour' END
        FROM s_params p
        CROSS JOIN generate_series(1, %(count)s) i
        CROSS JOIN LATERAL (
          SELECT p.incident_start + (i - 0.5) / %(count)s * (p.as_of - p.incident_start) AS due
        ) x
        JOIN s_users c ON c.n = 4 + (i * 7) %% p.n_creators
        JOIN s_users f ON f.n = p.fan0 + (i * 131) %% p.n_pre
        WHERE x.due < p.as_of
          AND (%(status)s <> 'sent' OR x.due + %(sent_after)s * interval '1 second' < p.as_of)
          AND (%(status)s <> 'processing' OR x.due + %(lock_after)s * interval '1 second' < p.as_of)
        """,
        {
            "salt": salt,
            "count": count,
            "status": status,
            "sent_after": sent_after_s,
            "lock_after": lock_after_s,
        },
    )


def fan_out(conn: psycopg.Connection) -> None:
    """Delivery rows for sent messages that have none yet: the baseline's subscriber fan-out, and
    the one recipient of a one-to-one message (inbox and push)."""
    from opslib.seed import community

    conn.execute(community.SUBSCRIBER_DELIVERIES)  # type: ignore[arg-type]
    conn.execute(
        """
        INSERT INTO public.message_delivery
          (message_id, recipient_id, channel, status, attempt_count, delivered_at, created_at, updated_at)
        SELECT m.id, m.recipient_id, c.channel, 'delivered', 1,
               m.sent_at + CASE c.channel WHEN 'push' THEN interval '1.5 seconds' ELSE interval '500 milliseconds' END,
               m.sent_at, m.sent_at + interval '2 seconds'
        FROM public.messages m, s_params p, (VALUES ('inbox'), ('push')) AS c(channel)
        WHERE m.audience = 'user' AND m.scheduled_status = 'sent' AND m.sent_at >= p.incident_start
        ON CONFLICT (message_id, recipient_id, channel) DO NOTHING
        """
    )


def dispatcher_answers(conn: psycopg.Connection, *, status: int | None, content: str, error: str | None = None) -> None:
    """Each dispatcher call of the incident answered `status` (None: no answer, pg_net timed out)."""
    conn.execute(
        """
        UPDATE net._http_response r
           SET status_code = %(status)s, content = %(content)s,
               timed_out = %(status)s IS NULL, error_msg = %(error)s
          FROM s_params p
         WHERE r.created >= p.incident_start AND r.content LIKE '{"ok":true,"claimed"%%'
        """,
        {"status": status, "content": content, "error": error},
    )
    conn.execute(
        """
        UPDATE logs.function_edge_logs f
           SET status_code = %(status)s,
               execution_time_ms = CASE WHEN %(status)s IS NULL THEN 150000 ELSE 12 END,
               event_message = 'POST | ' || coalesce(%(status)s::text, 'timeout') || ' | '
                               || split_part(f.event_message, ' | ', 3)
          FROM s_params p
         WHERE f.function_name = 'scheduled-dispatcher' AND f."timestamp" >= p.incident_start
        """,
        {"status": status},
    )


def dispatcher_silent(conn: psycopg.Connection) -> None:
    """The job stopped running at the incident's start: no run, no HTTP response, no invocation."""
    conn.execute(
        """
        DELETE FROM net._http_response r USING s_params p
         WHERE r.created >= p.incident_start AND r.content LIKE '{"ok":true,"claimed"%%'
        """
    )
    conn.execute(
        """
        DELETE FROM cron.job_run_details d USING cron.job j, s_params p
         WHERE d.jobid = j.jobid AND j.jobname = 'scheduled-dispatcher' AND d.start_time >= p.incident_start
        """
    )
    conn.execute(
        """
        DELETE FROM logs.function_logs f USING s_params p
         WHERE f.function_name = 'scheduled-dispatcher' AND f."timestamp" >= p.incident_start
        """
    )
    conn.execute(
        """
        DELETE FROM logs.function_edge_logs f USING s_params p
         WHERE f.function_name = 'scheduled-dispatcher' AND f."timestamp" >= p.incident_start
        """
    )

"""cleanup_not_running: rate-limits-cleanup has been failing for two days; rate_limits grows.

Injected: a migration two days before as_of left public.rate_limits owned by another role; every
hourly run since fails with `permission denied for table rate_limits`. Meanwhile the API keeps
writing fixed-window counters (per user and per IP, one-minute windows), so rows older than a
day pile up: three days of counters are in the table instead of one.

Ground truth: cron.runs_failed[rate-limits-cleanup] P3 (ongoing), cron.cleanup_backlog
[public.rate_limits] P3 (rows past the one-day retention).
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

KEYS_PER_MINUTE = 6


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    broke = ctx.as_of - timedelta(days=2)
    conn.execute(
        """UPDATE cron.job_run_details d SET status = 'failed',
                  return_message = 'ERROR:  permission denied for table rate_limits',
                  end_time = d.start_time + interval '4 milliseconds'
             FROM cron.job j
            WHERE j.jobid = d.jobid AND j.jobname = 'rate-limits-cleanup' AND d.start_time >= %s""",
        (broke,),
    )
    conn.execute(
        """INSERT INTO public.rate_limits (key, window_start, window_seconds, hits, updated_at)
           SELECT CASE WHEN k %% 3 = 0 THEN 'webhook:ip:203.0.113.' || (k %% 50)
                       ELSE 'msg_send:user:' || s_uuid4(k, 9711) END,
                  date_trunc('minute', p.as_of) - m * interval '1 minute', 60, 1 + k %% 7,
                  date_trunc('minute', p.as_of) - m * interval '1 minute' + interval '20 seconds'
           FROM s_params p, generate_series(0, 3 * 1440 - 1) m, generate_series(1, %s) k
           ON CONFLICT DO NOTHING""",
        (KEYS_PER_MINUTE,),
    )


SCENARIO = register(
    Scenario(
        name="cleanup_not_running",
        title="rate-limits-cleanup 실패 (rate_limits growing)",
        description=__doc__ or "",
        expected=(
            Expected("cron.runs_failed", Severity.P3, "rate-limits-cleanup"),
            Expected("cron.cleanup_backlog", Severity.P3, "public.rate_limits"),
        ),
        stage=None,
        inject=inject,
        runbook="cron",
    )
)

"""checkout_failures: the PGs decline most payments at confirm.

Injected, from 40 minutes before as_of: a PG-side outage makes about 60 % of the purchases
requested in the window (the baseline's and a burst of extra ones, both PGs) end 'failed' at
confirm with the PGs' outage codes (Toss PROVIDER_ERROR / FAILED_INTERNAL_SYSTEM_PROCESSING,
PortOne pgCode F001): no PG approval row, provider_status ABORTED/FAILED, the PG's failure
webhook processed normally, the confirm idempotency key answered 400. The rest are paid and
credited as usual.

Ground truth: payments.checkout_failure_rate P0. Stage: confirm.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed import profile
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, Stage, register

DECLINE = """
UPDATE {table} s
SET status = 'failed', plan = 'failed', credit_tx_id = NULL,
    failure_code = CASE WHEN s.provider = 'portone' THEN (ARRAY{po})[1 + s.n % {po_n}]
                        ELSE (ARRAY{toss})[1 + s.n % {toss_n}] END,
    failure_message = CASE WHEN s.provider = 'portone' THEN (ARRAY{po_msg})[1 + s.n % {po_n}]
                           ELSE (ARRAY{toss_msg})[1 + s.n % {toss_n}] END
WHERE {condition}
"""


def _decline(conn: psycopg.Connection, table: str, condition: str) -> None:
    po, toss = profile.PORTONE_OUTAGE_FAILURES, profile.TOSS_OUTAGE_FAILURES
    conn.execute(  # type: ignore[arg-type]
        DECLINE.format(
            table=table,
            condition=condition,
            po=[c for c, _ in po],
            po_msg=[m for _, m in po],
            po_n=len(po),
            toss=[c for c, _ in toss],
            toss_msg=[m for _, m in toss],
            toss_n=len(toss),
        )
    )


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    declined = "s.n % 5 < 3"  # 60 %, evenly spread
    rewound = drills.rewind(conn, f"s.requested_at >= p.incident_start AND {declined}", tag="confirm")
    _decline(conn, rewound, "true")
    drills.drop_pg_approvals(conn, rewound)
    drills.write(conn, rewound, pg=False, credits=False)
    conn.execute(  # type: ignore[arg-type]
        "UPDATE public.idempotency_keys SET response_status = 400,"
        ' response_body = \'{"ok": false, "status": "failed"}\'::jsonb'
        f" WHERE scope = 'purchase.confirm' AND key IN (SELECT idempotency_key FROM {rewound})"
    )
    extra = drills.burst(conn, ctx, ctx.burst_size, tag="confirm")
    _decline(conn, extra, f"{declined} AND s.status = 'paid'")
    drills.write(conn, extra)


SCENARIO = register(
    Scenario(
        name="checkout_failures",
        title="결제 승인 실패 급증 (PG declines at confirm)",
        description=__doc__ or "",
        expected=(Expected("payments.checkout_failure_rate", Severity.P0),),
        stage=Stage.CONFIRM,
        inject=inject,
    )
)

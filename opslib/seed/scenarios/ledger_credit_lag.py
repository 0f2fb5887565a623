"""ledger_credit_lag: payments are confirmed but the DT credit does not follow.

Injected, from 40 minutes before as_of: the webhook handler processes every delivery fine and
marks the purchase 'paid', but posting the purchase_credit fails or stalls. For about 70 % of
the purchases paid in the window (the baseline's and a burst of extra ones) there is no credit
at all (dt_purchases.wallet_tx_id NULL, no wallet transaction); the others are credited 15-30
minutes after payment (when that is before as_of). Unlocks those users would have paid from
the missing DT did not happen either. Webhooks, PG imports and balances are consistent.

Ground truth: payments.ledger_uncredited P0, payments.ledger_lag_p95 P0 (the late credits come 15-30
minutes after payment: a P95 far above §4-E's 600 s). Stage: ledger.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import drills
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, Stage, register

LATE = "s.pg_at + (900 + 900 * s_rnd(s.n, 302)) * interval '1 second'"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    rewound = drills.rewind(conn, "s.credit_at >= p.incident_start", tag="lag", keep_webhooks=True)
    conn.execute(f"UPDATE {rewound} SET credit_tx_id = NULL")  # type: ignore[arg-type]
    drills.write(conn, rewound, pg=False, deliveries=False, credits=False)
    extra = drills.burst(conn, ctx, ctx.burst_size, tag="lag")
    conn.execute(f"UPDATE {extra} SET credit_tx_id = NULL")  # type: ignore[arg-type]
    drills.write(conn, extra, credits=False)
    for table in (rewound, extra):
        drills.credit(
            conn,
            table,
            f"s.status = 'paid' AND s_rnd(s.n, 301) >= 0.7 AND {LATE} <= p.as_of",
            tx_id=f"s_uuid7({LATE}, s.n, 303)",
            at=LATE,
        )


SCENARIO = register(
    Scenario(
        name="ledger_credit_lag",
        title="원장 반영 지연/누락 (DT credit missing or late)",
        description=__doc__ or "",
        expected=(
            Expected("payments.ledger_uncredited", Severity.P0),
            Expected("payments.ledger_lag_p95", Severity.P0),
        ),
        stage=Stage.LEDGER,
        inject=inject,
    )
)

"""healthy: no incident. The baseline alone: two weeks of normal traffic ending at as_of.

Ground truth: nothing fires at P0 or P1. Normal background remains (about 5 % PG declines,
abandoned checkouts, a few open refunds, rare PortOne redeliveries answered 'duplicate', a few
handler timeouts retried successfully, but none in the last hours), so pages may report P2/P3
observations but never an outage.
"""

from __future__ import annotations

import psycopg

from opslib.seed.scenarios.base import Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    """Nothing to inject."""


SCENARIO = register(
    Scenario(
        name="healthy",
        title="정상 (healthy baseline)",
        description=__doc__ or "",
        expected=(),
        stage=None,
        inject=inject,
    )
)

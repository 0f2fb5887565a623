"""What a scenario is: one documented incident injected on top of the healthy baseline."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from opslib.results import Severity


class Stage(enum.Enum):
    """Where the payment pipeline breaks (runbook §3-A 트리아지 1: Checkout → Confirm → Webhook → 원장)."""

    CHECKOUT = "checkout"
    CONFIRM = "confirm"
    WEBHOOK = "webhook"
    LEDGER = "ledger"


@dataclass(frozen=True)
class Expected:
    """Ground truth: this check fires (WARN or CRITICAL) at exactly this severity (its worst over subjects).

    A scenario's Expected tuples are the complete list: the drill test asserts the page raises
    these checks and no other problem, so `opsbook db scenarios` and the page cannot drift.
    """

    check: str
    severity: Severity
    subject: str | None = None


@dataclass(frozen=True)
class ScenarioContext:
    """What an injection knows about the run. Incidents are ongoing: [incident_start, as_of).

    inject() runs on the seeder's connection after the baseline is complete: triggers off
    (session_replication_role = replica), search_path = the scratch schema then public, so the
    staged baseline (s_purchases, s_tx, s_deliveries) and the helpers in scenarios.drills are available.
    """

    scale: int
    as_of: datetime
    incident_start: datetime

    @property
    def incident(self) -> timedelta:
        return self.as_of - self.incident_start

    @property
    def burst_size(self) -> int:
        """Extra affected purchases over the incident: unmistakable at any hour (03:00 KST is quiet)."""
        return round(80 * self.scale**0.3)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    expected: tuple[Expected, ...]
    stage: Stage | None
    inject: Callable[[psycopg.Connection, ScenarioContext], None]
    # The page whose drill this is (its id in opslib.runbooks); "healthy" is every page's baseline.
    runbook: str = "payments"

    def ground_truth(self) -> dict[str, str]:
        """{check: severity}: exactly the problem checks the page must raise, at that worst severity."""
        worst: dict[str, str] = {}
        for e in self.expected:
            worst[e.check] = min(worst.get(e.check, e.severity.value), e.severity.value)
        return worst


SCENARIOS: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    if scenario.name in SCENARIOS:
        raise ValueError(f"scenario {scenario.name!r} is registered twice")
    SCENARIOS[scenario.name] = scenario
    return scenario

"""Runbook §3-C 트리아지 1 (3단 분리): which of the three layers broke, from the page's findings."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from opslib.results import Finding


class Layer(enum.Enum):
    """The runbook's three layers, in its order."""

    REALTIME = "realtime"
    DB_WRITE = "db_write"
    DISPATCHER = "dispatcher"

    @property
    def label_ko(self) -> str:
        return {
            Layer.REALTIME: "Realtime 연결 (채널 subscribe)",
            Layer.DB_WRITE: "DB insert/update 자체",
            Layer.DISPATCHER: "scheduled-dispatcher (pending→sent)",
        }[self]


# Which checks speak for which layer. The backlog belongs to the dispatcher: pending messages
# pile up when nothing claims them, whatever the reason (401, stalled job, kill switch).
LAYER_CHECKS: dict[Layer, tuple[str, ...]] = {
    Layer.REALTIME: ("messaging.realtime_latency_p95", "messaging.realtime_error_rate"),
    Layer.DB_WRITE: ("messaging.db_write_drop", "messaging.rest_5xx_rate"),
    Layer.DISPATCHER: (
        "messaging.scheduled_backlog",
        "messaging.dispatcher_errors",
        "messaging.dispatcher_silent",
        "messaging.stuck_processing",
        "messaging.dispatch_retries",
        "messaging.scheduled_dispatch_kill_switch",
        "cron.",  # the cron runs and HTTP outcomes of the dispatcher job (opslib.dispatcher)
    ),
}


@dataclass(frozen=True)
class LayerSplit:
    broken: tuple[Layer, ...]
    unjudged: tuple[Layer, ...]  # a check of the layer could not be measured
    sentence: str

    @property
    def layers(self) -> list[str]:
        return [layer.value for layer in self.broken]


def _belongs(check: str, prefixes: tuple[str, ...]) -> bool:
    return any(check == p or (p.endswith(".") and check.startswith(p)) for p in prefixes)


def split_layers(findings: Iterable[Finding]) -> LayerSplit:
    """Pure: the layers with a WARN/CRITICAL finding, worst first in the runbook's order."""
    items = list(findings)
    broken, unjudged = [], []
    reasons: list[str] = []
    for layer, prefixes in LAYER_CHECKS.items():
        mine = [f for f in items if _belongs(f.check, prefixes)]
        problems = [f for f in mine if f.outcome.is_problem and f.severity is not None]
        if problems:
            broken.append(layer)
            worst = min(problems, key=lambda f: f.severity.rank if f.severity else 9)
            reasons.append(f"{layer.label_ko}: {worst.title} {worst.value}{worst.unit}")
        elif any(f.outcome.value == "ERROR" for f in mine):
            unjudged.append(layer)
    if broken:
        sentence = "끊긴 층 (broken): " + " / ".join(reasons)
    else:
        sentence = "세 층 모두 정상 범위 (all three layers within thresholds)"
    if unjudged:
        sentence += " · 측정 실패로 판단 못한 층: " + ", ".join(layer.label_ko for layer in unjudged)
    return LayerSplit(tuple(broken), tuple(unjudged), sentence)

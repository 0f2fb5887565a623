"""Runbook §3-C 메시지/리얼타임 장애 (messaging): the SQL-backed steps behind the messaging page.

detect → the three layers (realtime_layer, write_layer, dispatcher_layer; split_layers) →
runbook_backlog → rls_check → push_deliveries → exit_condition, and impact for the
post-mortem. Every step takes a read-only connection, returns a frozen dataclass of
display-ready frames (masked, KST) and findings, and turns a failed query into ERROR findings
instead of stopping the page.
"""

from opslib.messaging.detection import Backlog, Detection, detect
from opslib.messaging.dispatch import CronSecretCheck, DispatcherLayer, cron_secret, dispatcher_layer
from opslib.messaging.exit_criteria import ExitCondition, exit_condition
from opslib.messaging.layers import Layer, LayerSplit, split_layers
from opslib.messaging.postmortem import Impact, impact
from opslib.messaging.push import PushDeliveries, push_deliveries
from opslib.messaging.realtime import RealtimeLayer, RestartCheck, realtime_layer, restart_check
from opslib.messaging.rls import PolicyDiff, RlsCheck, rls_check
from opslib.messaging.runbook_query import RunbookQuery, runbook_backlog
from opslib.messaging.writes import WriteLayer, write_layer

__all__ = [
    "Backlog",
    "CronSecretCheck",
    "Detection",
    "DispatcherLayer",
    "ExitCondition",
    "Impact",
    "Layer",
    "LayerSplit",
    "PolicyDiff",
    "PushDeliveries",
    "RealtimeLayer",
    "RestartCheck",
    "RlsCheck",
    "RunbookQuery",
    "WriteLayer",
    "cron_secret",
    "detect",
    "dispatcher_layer",
    "exit_condition",
    "impact",
    "push_deliveries",
    "realtime_layer",
    "restart_check",
    "rls_check",
    "runbook_backlog",
    "split_layers",
    "write_layer",
]

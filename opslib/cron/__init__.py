"""§3-F 크론/스케줄 잡 장애 (Cron): the page's steps, one module each.

registry     잡 레지스트리: cron.job vs the contract's five jobs (schedule UTC/KST, due times)
detection    감지: missed runs (cronsim), failed, stuck, duration drift, HTTP outcome (opslib.dispatcher)
functions    트리아지: logs.function_edge_logs / function_logs, execution time vs request timeout
sessions     트리아지: pg_cron sessions in pg_stat_activity (locks, long runs)
reconcile    트리아지: payment-reconcile business days, failed runs, the §7 known issue
cleanup      트리아지: tables the cleanup jobs keep small
exit_criteria 종료 조건: each affected job's next N due times on schedule and successful
impact       영향: runs missed/failed, late messages, business days not reconciled
The 401 triage is opslib.dispatcher.compare_cron_secret, shared with the messaging page.
"""

from __future__ import annotations

from opslib.cron.cleanup import Cleanup, cleanup_backlog
from opslib.cron.detection import Detection, detect
from opslib.cron.exit_criteria import ExitCondition, exit_condition
from opslib.cron.functions import FunctionView, function_view
from opslib.cron.impact import Impact, impact
from opslib.cron.reconcile import Reconcile, reconcile_status
from opslib.cron.registry import Registry, job_registry
from opslib.cron.sessions import Sessions, cron_sessions
from opslib.dispatcher import compare_cron_secret

__all__ = [
    "Cleanup",
    "Detection",
    "ExitCondition",
    "FunctionView",
    "Impact",
    "Reconcile",
    "Registry",
    "Sessions",
    "cleanup_backlog",
    "compare_cron_secret",
    "cron_sessions",
    "detect",
    "exit_condition",
    "function_view",
    "impact",
    "job_registry",
    "reconcile_status",
]

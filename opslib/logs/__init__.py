"""The log-field standard audit (runbook §4-A 로그 레벨, §4-B 공통 필드, §4-C 결제/정산 필드): one module per part.

The window's Edge Function console lines (logs.function_logs) are read once (window.detect); every
triage step is a pure function of that read (audit.py), the PII detector is its own pure module (detector.py).
"""

from opslib.logs.audit import common_fields, event_names, levels, payment_fields, pii
from opslib.logs.remedy import advice, exit_condition, impact
from opslib.logs.window import detect

__all__ = [
    "advice",
    "common_fields",
    "detect",
    "event_names",
    "exit_condition",
    "impact",
    "levels",
    "payment_fields",
    "pii",
]

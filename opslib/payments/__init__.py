"""Runbook §3-A 결제 장애 (payments): the SQL-backed steps behind the payments page.

detect → funnel → idempotency → signatures / verify_delivery → reconcile / open_refunds →
exit_condition, and impact for the post-mortem. Every step takes a read-only connection,
returns a frozen dataclass of display-ready frames (masked, KST) and findings, and turns a
failed query into ERROR findings instead of stopping the page.
"""

from opslib.payments.detection import Detection, detect
from opslib.payments.diagnosis import Diagnosis, diagnose
from opslib.payments.duplicates import Idempotency, idempotency
from opslib.payments.exit_criteria import (
    BucketMeasure,
    Condition,
    ExitCondition,
    ExitEvaluation,
    ExitThresholds,
    FailingCondition,
    LedgerMeasure,
    PendingMeasure,
    ProviderCount,
    evaluate_exit,
    exit_condition,
)
from opslib.payments.pg_export import PgExport, PgExportRow, load_pg_export
from opslib.payments.pipeline import Funnel, funnel
from opslib.payments.postmortem import Cause, Impact, ImpactTotals, impact
from opslib.payments.reconciliation import Reconciliation, ReconTotals, reconcile, reconcile_with_export
from opslib.payments.refunds import Refunds, open_refunds
from opslib.payments.signature_triage import SignatureCheck, SignatureTriage, signatures, verify_delivery
from opslib.payments.stages import PROVIDERS, Stage

__all__ = [
    "PROVIDERS",
    "BucketMeasure",
    "Cause",
    "Condition",
    "Detection",
    "Diagnosis",
    "ExitCondition",
    "ExitEvaluation",
    "ExitThresholds",
    "FailingCondition",
    "Funnel",
    "Idempotency",
    "Impact",
    "ImpactTotals",
    "LedgerMeasure",
    "PendingMeasure",
    "PgExport",
    "PgExportRow",
    "ProviderCount",
    "ReconTotals",
    "Reconciliation",
    "Refunds",
    "SignatureCheck",
    "SignatureTriage",
    "Stage",
    "detect",
    "diagnose",
    "evaluate_exit",
    "exit_condition",
    "funnel",
    "idempotency",
    "impact",
    "load_pg_export",
    "open_refunds",
    "reconcile",
    "reconcile_with_export",
    "signatures",
    "verify_delivery",
]

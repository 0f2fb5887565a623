"""Runbook §3-D 스토리지 장애 (storage): the SQL-backed steps behind the storage page.

detect → symptoms (트리아지 1) → policies (2) → service_role_test (3) → capacity (4) →
recovery → exit_condition, and impact for the post-mortem. Every step takes a read-only
connection, returns a frozen dataclass of display-ready frames (masked, KST) and findings,
and turns a failed query into ERROR findings instead of stopping the page.
"""

from opslib.storage.capacity import Capacity, capacity
from opslib.storage.detection import Detection, detect
from opslib.storage.exit_criteria import ExitCondition, ExitEvaluation, UploadBucket, evaluate_exit, exit_condition
from opslib.storage.impact import Impact, impact
from opslib.storage.policies import Policies, compare_buckets, compare_policies, mitigation_target, policies
from opslib.storage.probe import Cause, ProbeResult, ServiceRoleTest, infer, run_probe, service_role_test
from opslib.storage.recovery import Recovery, recovery
from opslib.storage.requests import Kind, classify
from opslib.storage.symptoms import Symptom, Symptoms, symptoms

__all__ = [
    "Capacity",
    "Cause",
    "Detection",
    "ExitCondition",
    "ExitEvaluation",
    "Impact",
    "Kind",
    "Policies",
    "ProbeResult",
    "Recovery",
    "ServiceRoleTest",
    "Symptom",
    "Symptoms",
    "UploadBucket",
    "capacity",
    "classify",
    "compare_buckets",
    "compare_policies",
    "detect",
    "evaluate_exit",
    "exit_condition",
    "impact",
    "infer",
    "mitigation_target",
    "policies",
    "recovery",
    "run_probe",
    "service_role_test",
    "symptoms",
]

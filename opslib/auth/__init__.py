"""Runbook §3-B 인증/로그인 장애 (auth): the SQL-backed steps behind the auth page.

detect → separate (three symptoms) → patterns (stuffing, hammering, audit comparison) →
jwt_expiry → rate_limits → social → demo_mode / login notice → probe_health → exit_condition →
impact. Failed logins are read from logs.auth_logs only; auth.audit_log_entries holds successes
and is read only to check the log drain. Every step returns a frozen dataclass of display-ready
frames (masked, KST) and findings, and turns a failed query into ERROR findings.
"""

from opslib.auth.detection import Detection, detect
from opslib.auth.exit_criteria import (
    ExitCondition,
    ExitEvaluation,
    ExitRule,
    LoginBucket,
    evaluate_exit,
    exit_condition,
)
from opslib.auth.impact import Impact, impact
from opslib.auth.patterns import Patterns, patterns
from opslib.auth.policy import POLICY, DemoPolicy, demo_mode
from opslib.auth.probe import Probe, probe_health
from opslib.auth.rate_limits import RateLimits, rate_limits
from opslib.auth.sessions import JwtExpiry, jwt_expiry
from opslib.auth.social import Social, social
from opslib.auth.symptoms import Symptom, Symptoms, separate

__all__ = [
    "POLICY",
    "DemoPolicy",
    "Detection",
    "ExitCondition",
    "ExitEvaluation",
    "ExitRule",
    "Impact",
    "JwtExpiry",
    "LoginBucket",
    "Patterns",
    "Probe",
    "RateLimits",
    "Social",
    "Symptom",
    "Symptoms",
    "demo_mode",
    "detect",
    "evaluate_exit",
    "exit_condition",
    "impact",
    "jwt_expiry",
    "patterns",
    "probe_health",
    "rate_limits",
    "separate",
    "social",
]

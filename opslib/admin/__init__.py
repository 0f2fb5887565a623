"""Runbook §3-E 관리자/운영툴 장애 (admin): the SQL-backed steps behind the admin page.

detect → who_can_get_in → errors_by_version → service_key → admin_rate_limits → recovery →
exit_condition, and impact for the post-mortem. Every step takes a read-only connection, returns
a frozen dataclass of display-ready frames (masked, KST) and findings, and turns a failed query
into ERROR findings instead of stopping the page.
"""

from opslib.admin.access import Access, who_can_get_in
from opslib.admin.detection import Detection, detect
from opslib.admin.exit_criteria import Condition, ExitCondition, exit_condition
from opslib.admin.mitigation import Plan, publish_block_plan, restore_plan
from opslib.admin.postmortem import Impact, impact
from opslib.admin.rate_limits import RateTriage, admin_rate_limits
from opslib.admin.recovery import Recovery, recovery
from opslib.admin.service_key import KeyTriage, service_key
from opslib.admin.settings import AdminSettings, settings
from opslib.admin.versions import VersionTriage, errors_by_version

__all__ = [
    "Access",
    "AdminSettings",
    "Condition",
    "Detection",
    "ExitCondition",
    "Impact",
    "KeyTriage",
    "Plan",
    "RateTriage",
    "Recovery",
    "VersionTriage",
    "admin_rate_limits",
    "detect",
    "errors_by_version",
    "exit_condition",
    "impact",
    "publish_block_plan",
    "recovery",
    "restore_plan",
    "service_key",
    "settings",
    "who_can_get_in",
]

"""The live RLS and privilege audit (runbook §7 DB_RLS_AUDIT, §5 DB/보안 변경 추가 규칙): one module per step.

Every step reads catalogs only (pg_class, pg_policies, pg_proc, aclexplode, pg_roles, storage.buckets):
the answers are the database's state now, not a time window's.
"""

from opslib.rls_audit.buckets import buckets
from opslib.rls_audit.coverage import coverage
from opslib.rls_audit.functions import functions
from opslib.rls_audit.grants import grants
from opslib.rls_audit.policies import policies
from opslib.rls_audit.remedy import exit_condition, fix_plan, impact, known_gaps
from opslib.rls_audit.roles import roles
from opslib.rls_audit.scope import scope

__all__ = [
    "buckets",
    "coverage",
    "exit_condition",
    "fix_plan",
    "functions",
    "grants",
    "impact",
    "known_gaps",
    "policies",
    "roles",
    "scope",
]

"""§2 배포 후 관찰 (Post-Deploy, 30~60분): the page's steps, one module each.

changes     무엇이 바뀌었나: Edge Function versions before vs after; the deploy time (given or read)
functions   Edge Functions before vs after, per function and version: 5xx, 401/403, cold starts
gateway     the API gateway (logs.edge_logs) before vs after: REST, auth, storage, realtime
webhooks    payments webhook signature failures before vs after
logs        Supabase Logs: function console errors before vs after (Poisson rates)
comparison  the rule every difference is judged by: over a floor AND significantly worse (scipy)
sentry      Sentry new issues by release tag (opt-in export or API; manual otherwise)
smoke       the smoke run (§6) of the same WI in the evidence folder
checklist   the §2 checklist lines; payments and cron reuse those pages' detection
rollback    rollback advice in reverse deploy order (web → Edge Functions → DB), kill switch
verdict     종료 조건 (observation over, no regression) and impact
"""

from __future__ import annotations

from opslib.deploy.changes import Deployment, FunctionChange, function_changes, parse_functions, what_changed
from opslib.deploy.checklist import PaymentsCron, checklist, payments_and_cron
from opslib.deploy.comparison import Counts, fisher_p, judge_rate, mannwhitney_p, poisson_p
from opslib.deploy.functions import FunctionComparison, compare_functions, judge_function
from opslib.deploy.gateway import GatewayComparison, compare_gateway, judge_gateway
from opslib.deploy.logs import LogComparison, compare_logs
from opslib.deploy.rollback import RollbackAdvice, rollback_advice, show_kill_switch
from opslib.deploy.sentry import SentryView, sentry_new_errors
from opslib.deploy.smoke import SmokeView, smoke_run
from opslib.deploy.verdict import ExitCondition, exit_condition, impact
from opslib.deploy.webhooks import SignatureComparison, compare_signatures

__all__ = [
    "Counts",
    "Deployment",
    "ExitCondition",
    "FunctionChange",
    "FunctionComparison",
    "GatewayComparison",
    "LogComparison",
    "PaymentsCron",
    "RollbackAdvice",
    "SentryView",
    "SignatureComparison",
    "SmokeView",
    "checklist",
    "compare_functions",
    "compare_gateway",
    "compare_logs",
    "compare_signatures",
    "exit_condition",
    "fisher_p",
    "function_changes",
    "impact",
    "judge_function",
    "judge_gateway",
    "judge_rate",
    "mannwhitney_p",
    "parse_functions",
    "payments_and_cron",
    "poisson_p",
    "rollback_advice",
    "sentry_new_errors",
    "show_kill_switch",
    "smoke_run",
    "what_changed",
]

"""Incident drills: each module registers one Scenario (adding a drill = one module + one import line)."""

from __future__ import annotations

# Importing a drill's module registers it (the alias marks the import as intended).
from opslib.seed.scenarios import admin_rate_limited as admin_rate_limited
from opslib.seed.scenarios import admins_demoted as admins_demoted
from opslib.seed.scenarios import amount_mismatch as amount_mismatch
from opslib.seed.scenarios import audit_log_gap as audit_log_gap

# auth (§3-B)
from opslib.seed.scenarios import auth_rate_limited as auth_rate_limited
from opslib.seed.scenarios import bad_deploy as bad_deploy
from opslib.seed.scenarios import checkout_failures as checkout_failures
from opslib.seed.scenarios import cleanup_not_running as cleanup_not_running
from opslib.seed.scenarios import credential_stuffing as credential_stuffing
from opslib.seed.scenarios import cron_secret_mismatch as cron_secret_mismatch
from opslib.seed.scenarios import definer_without_search_path as definer_without_search_path
from opslib.seed.scenarios import dispatcher_secret_mismatch as dispatcher_secret_mismatch
from opslib.seed.scenarios import dispatcher_stalled as dispatcher_stalled
from opslib.seed.scenarios import double_credit as double_credit
from opslib.seed.scenarios import fan_read_policy_dropped as fan_read_policy_dropped
from opslib.seed.scenarios import healthy as healthy
from opslib.seed.scenarios import healthy_deploy as healthy_deploy
from opslib.seed.scenarios import job_overlap_long_running as job_overlap_long_running
from opslib.seed.scenarios import job_unscheduled as job_unscheduled
from opslib.seed.scenarios import ledger_credit_lag as ledger_credit_lag
from opslib.seed.scenarios import log_fields_missing as log_fields_missing
from opslib.seed.scenarios import login_failure_spike as login_failure_spike
from opslib.seed.scenarios import messages_stuck_processing as messages_stuck_processing
from opslib.seed.scenarios import negative_balance as negative_balance
from opslib.seed.scenarios import net_timeouts as net_timeouts
from opslib.seed.scenarios import ops_manage_500_after_deploy as ops_manage_500_after_deploy
from opslib.seed.scenarios import permissive_policy as permissive_policy
from opslib.seed.scenarios import pg_paid_db_pending as pg_paid_db_pending
from opslib.seed.scenarios import pii_in_logs as pii_in_logs
from opslib.seed.scenarios import push_provider_failures as push_provider_failures
from opslib.seed.scenarios import realtime_degraded as realtime_degraded
from opslib.seed.scenarios import reconcile_failing_5xx as reconcile_failing_5xx
from opslib.seed.scenarios import refresh_token_failures as refresh_token_failures
from opslib.seed.scenarios import refund_not_clawed_back as refund_not_clawed_back
from opslib.seed.scenarios import rls_denials_after_migration as rls_denials_after_migration
from opslib.seed.scenarios import rls_disabled_table as rls_disabled_table
from opslib.seed.scenarios import scheduled_dispatch_kill_switch_left_off as scheduled_dispatch_kill_switch_left_off
from opslib.seed.scenarios import service_role_key_missing as service_role_key_missing
from opslib.seed.scenarios import social_provider_down as social_provider_down
from opslib.seed.scenarios import storage_bucket_made_public as storage_bucket_made_public
from opslib.seed.scenarios import storage_bucket_over_quota as storage_bucket_over_quota
from opslib.seed.scenarios import storage_cors_misconfigured as storage_cors_misconfigured
from opslib.seed.scenarios import storage_read_policy_dropped as storage_read_policy_dropped
from opslib.seed.scenarios import storage_upload_failures as storage_upload_failures
from opslib.seed.scenarios import webhook_handler_5xx as webhook_handler_5xx
from opslib.seed.scenarios import webhook_secret_mismatch as webhook_secret_mismatch
from opslib.seed.scenarios.base import SCENARIOS, Expected, Scenario, ScenarioContext, Stage, register

__all__ = ["SCENARIOS", "Expected", "Scenario", "ScenarioContext", "Stage", "register"]

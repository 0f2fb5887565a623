"""Incident drills: each module registers one Scenario (adding a drill = one module + one import line)."""

from __future__ import annotations

# Importing a drill's module registers it (the alias marks the import as intended).
from opslib.seed.scenarios import admin_rate_limited as admin_rate_limited
from opslib.seed.scenarios import admins_demoted as admins_demoted
from opslib.seed.scenarios import amount_mismatch as amount_mismatch
from opslib.seed.scenarios import audit_log_gap as audit_log_gap
from opslib.seed.scenarios import checkout_failures as checkout_failures
from opslib.seed.scenarios import double_credit as double_credit
from opslib.seed.scenarios import healthy as healthy
from opslib.seed.scenarios import ledger_credit_lag as ledger_credit_lag
from opslib.seed.scenarios import negative_balance as negative_balance
from opslib.seed.scenarios import ops_manage_500_after_deploy as ops_manage_500_after_deploy
from opslib.seed.scenarios import pg_paid_db_pending as pg_paid_db_pending
from opslib.seed.scenarios import refund_not_clawed_back as refund_not_clawed_back
from opslib.seed.scenarios import service_role_key_missing as service_role_key_missing
from opslib.seed.scenarios import webhook_handler_5xx as webhook_handler_5xx
from opslib.seed.scenarios import webhook_secret_mismatch as webhook_secret_mismatch
from opslib.seed.scenarios.base import SCENARIOS, Expected, Scenario, ScenarioContext, Stage, register

__all__ = ["SCENARIOS", "Expected", "Scenario", "ScenarioContext", "Stage", "register"]

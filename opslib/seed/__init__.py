"""Demo data: a realistic production-shaped database for the runbooks, plus incident drills.

    from opslib.seed import seed
    report = seed(libpq_url, scale=10, scenario="webhook_secret_mismatch")

The database must be freshly created with the app contract (opslib.embedded.create_contract_database).
Scale 1 is about 3,000 fans and 1,500 DT purchases a day over 14 days; scale multiplies users and
volume. Scenarios are listed in opslib.seed.scenarios.SCENARIOS.
"""

from __future__ import annotations

from opslib.seed.runner import SeedError, SeedReport, seed
from opslib.seed.signing import DEMO_PORTONE_WEBHOOK_SECRET, portone_signed_body, sign_standard_webhook

__all__ = [
    "DEMO_PORTONE_WEBHOOK_SECRET",
    "SeedError",
    "SeedReport",
    "portone_signed_body",
    "seed",
    "sign_standard_webhook",
]

"""§3-B 트리아지 2: which failed logins are an attack or one user hammering, not users locked out.

Credential stuffing (many invalid_credentials from a few sources, across many accounts) is a
security incident with its own action (block or rate-limit the sources), not a login outage: its
attempts are left out of the login failure rate and the exit condition, and reported by their own
checks. The rule reads credential failures only, so a GoTrue outage (5xx, no answer) is never
attributed to an attacker, however many retries it causes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import Fetched, fetch

# A source is an attacker when it sends this many credential failures and (almost) never
# succeeds, or spreads them over several accounts.
ATTACK_MIN_CREDENTIAL_FAILURES = 20
ATTACK_MAX_SUCCESS_SHARE = 0.10
ATTACK_MIN_ACCOUNTS = 5
# One known user with this many wrong passwords is hammering (a script, a stuck client).
HAMMER_MIN_CREDENTIAL_FAILURES = 10


@dataclass(frozen=True)
class Attribution:
    """Sources and users whose failures are not the service's (raw values: never shown)."""

    attack_ips: tuple[str, ...]
    noisy_users: tuple[str, ...]
    sources: Fetched  # login_sources: per IP with a failure
    users: Fetched  # login_users: per known user with a failure

    @property
    def ips_known(self) -> bool:
        """Whether the drain carries source IPs at all (else stuffing cannot be told by source)."""
        frame = self.sources.frame
        return self.sources.ok and not frame.empty and bool(frame["ip"].notna().any())


def attack_sources(sources: pd.DataFrame) -> pd.DataFrame:
    """The rows of login_sources that look like credential stuffing."""
    if sources.empty:
        return sources
    known = sources[sources["ip"].notna()]
    cred = known["credential_failures"].astype(int)
    quiet_success = known["successes"].astype(int) <= ATTACK_MAX_SUCCESS_SHARE * known["attempts"].astype(int)
    many_accounts = known["accounts"].astype(int) >= ATTACK_MIN_ACCOUNTS
    return known[(cred >= ATTACK_MIN_CREDENTIAL_FAILURES) & (quiet_success | many_accounts)]


def hammering_users(users: pd.DataFrame) -> pd.DataFrame:
    """Known users with many wrong passwords of their own (not from an attack source)."""
    if users.empty:
        return users
    own_credential = users["credential_failures"].astype(int).clip(upper=users["own_failures"].astype(int))
    return users[own_credential >= HAMMER_MIN_CREDENTIAL_FAILURES]


def attribute(conn: Connection, since: datetime, until: datetime) -> Attribution:
    """Read the sources and users of failed logins in [since, until) and attribute them."""
    sources = fetch(conn, "auth.login_sources", {"since": since, "until": until})
    attack = tuple(str(ip) for ip in attack_sources(sources.frame)["ip"]) if sources.ok else ()
    users = fetch(conn, "auth.login_users", {"since": since, "until": until, "attack_ips": list(attack)})
    noisy = tuple(str(u) for u in hammering_users(users.frame)["user_id"]) if users.ok else ()
    return Attribution(attack, noisy, sources, users)


def nothing_attributed() -> Attribution:
    """No source or user left out: for a step that reads every request as it is."""
    empty = Fetched("auth.none", pd.DataFrame(), None, 0.0)
    return Attribution((), (), empty, empty)


def request_params(attribution: Attribution) -> dict[str, list[str]]:
    return {"attack_ips": list(attribution.attack_ips), "noisy_users": list(attribution.noisy_users)}

"""Errors a user can act on: each carries one clear sentence and maps to an exit code."""

from __future__ import annotations


class OpsbookError(Exception):
    """Base: the message is one sentence naming what is wrong and what to do."""


class ConfigError(OpsbookError):
    """Bad configuration: unknown runbook, bad parameter, bad URL."""


class DatabaseUnavailable(OpsbookError):
    """The database could not be reached."""


class QueryFailed(OpsbookError):
    """A runbook query failed (timeout, missing table, permission)."""


class ActionRefused(OpsbookError):
    """A guarded action was not confirmed or its preconditions do not hold."""


class EvidenceUnwritable(OpsbookError):
    """The evidence bundle could not be written (read-only or full disk, a file where a folder goes)."""


class LockBlocked(OpsbookError):
    """A page query waited for a lock another session holds (lock_timeout): names the table and the holder."""


class Busy(OpsbookError):
    """Another opsbook process holds the embedded database's lock (seeding it, for instance)."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived during a run: the bundle is still written, marked ERROR."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)

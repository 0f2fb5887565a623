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

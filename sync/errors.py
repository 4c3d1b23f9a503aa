"""Typed errors whose message a person can act on.

Every error FerraSync raises on purpose derives from FerraSyncError; the CLI prints its
message (never a traceback) and exits with its exit code.
"""

from __future__ import annotations


class FerraSyncError(Exception):
    """An expected failure with an actionable message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(FerraSyncError):
    """A setting is missing, malformed or cannot be stored."""


class DatabaseError(FerraSyncError):
    """FerraWin (or a demo database) cannot be reached or read."""

    exit_code = 3


class ServiceError(FerraSyncError):
    """A local service (relay, stub) cannot start, e.g. its port is in use."""

    exit_code = 4

"""Errors a user can meet, each with its exit code and a one-line message."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_CLUSTER = 2


class K8sAuditError(Exception):
    """An error shown to the user as one line; `exit_code` is what the CLI returns."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(K8sAuditError):
    """Bad arguments or input files (exit code 1)."""


class SnapshotError(K8sAuditError):
    """A snapshot file that cannot be read: truncated, corrupt, foreign or newer (exit code 1)."""


class ConnectionFailure(K8sAuditError):
    """The cluster cannot be reached or authenticated to (exit code 2)."""

    exit_code = EXIT_CLUSTER

"""Errors a user can meet, each with its exit code and a one-line message."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_CLUSTER = 2
EXIT_FAIL_UNDER = 3  # --fail-under: the overall score is below the threshold (or nothing was scored)
EXIT_FAIL_ON = 4  # --fail-on: an unwaived finding at or above the severity
EXIT_PARTIAL = 5  # a fleet scan: some clusters could not be scanned (all of them: EXIT_CLUSTER)


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

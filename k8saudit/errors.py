"""Errors a user can meet, each with its exit code and a one-line message."""

from __future__ import annotations

from pathlib import Path

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


def check_input_file(path: Path, expected: str, error: type[K8sAuditError] = UsageError) -> None:
    """Refuse, as one `error` line, an input path that is a directory (`--waivers ~/.config/k8saudit`)
    or that cannot even be looked at (a name too long, a parent without search permission).
    "Does not exist" or the system's "Is a directory" would say neither what went wrong nor what
    to give instead: `expected` says that ("a waivers TOML file"). A missing file is left to the
    caller, whose message names what it looked for."""
    try:
        directory = path.is_dir()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    if directory:
        raise error(f"{path} is a directory; expected {expected}")

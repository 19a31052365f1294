"""Pipeline gates: `--fail-under SCORE` and `--fail-on SEVERITY` turn a report into an exit code.

- `--fail-under S` exits 3 when the overall score is below S, or when nothing could be scored
  or read (an audit that saw nothing must not pass a gate).
- `--fail-on SEV` exits 4 when an unwaived fail or warn finding of severity SEV or worse exists.
  Waived findings never trip it: that is what a waiver is for.
When both are unmet, 4 wins: the more specific signal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from k8saudit.errors import EXIT_FAIL_ON, EXIT_FAIL_UNDER, EXIT_OK
from k8saudit.model import Severity
from k8saudit.report import Report


@dataclass(frozen=True, slots=True)
class Gates:
    fail_under: float | None = None
    fail_on: Severity | None = None

    @property
    def active(self) -> bool:
        return self.fail_under is not None or self.fail_on is not None


@dataclass(frozen=True, slots=True)
class GateFailure:
    exit_code: int
    message: str


def problems_by_severity(report: Report) -> Counter[str]:
    """Unwaived fail/warn findings counted by their check's severity."""
    counts: Counter[str] = Counter()
    for finding in report.findings:
        if finding.status.is_problem and not finding.waived and finding.check_id in report.checks:
            counts[report.checks[finding.check_id].severity.value] += 1
    return counts


def gate_failures(
    overall: float | None,
    problems: Mapping[str, int],
    gates: Gates,
    unscored: str = "nothing could be scored",
) -> list[GateFailure]:
    """What fails, from the overall score (None: `unscored` says why there is none) and the
    unwaived problems by severity."""
    failures = []
    if gates.fail_on is not None:
        at_or_above = [s for s in Severity if s.rank <= gates.fail_on.rank and problems.get(s.value)]
        if at_or_above:
            counts = ", ".join(f"{problems[s.value]} {s.value}" for s in at_or_above)
            failures.append(
                GateFailure(
                    EXIT_FAIL_ON, f"unwaived findings at or above {gates.fail_on.value}: {counts} (--fail-on)"
                )
            )
    if gates.fail_under is not None:
        if overall is None:
            failures.append(GateFailure(EXIT_FAIL_UNDER, f"{unscored} (--fail-under)"))
        elif float(shown := f"{overall:.1f}") < gates.fail_under:  # the score as every report shows it
            failures.append(
                GateFailure(
                    EXIT_FAIL_UNDER, f"overall score {shown} is under {gates.fail_under:g} (--fail-under)"
                )
            )
    return failures


def report_gate_failures(report: Report, gates: Gates) -> list[GateFailure]:
    if not gates.active:
        return []
    problems = problems_by_severity(report)
    if not report.inventory.kinds_read():
        # Then only checks that need no object (EXP-010) scored: no score to pass a gate on, as
        # the fleet table says of the same snapshot.
        return gate_failures(None, problems, gates, "no kind could be read, so nothing was scored")
    return gate_failures(report.scores.overall, problems, gates)


def exit_code(failures: list[GateFailure]) -> int:
    return max((f.exit_code for f in failures), default=EXIT_OK)

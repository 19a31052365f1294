"""The small value types everything else speaks: severities, statuses, subjects and findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical … 4 for info: sorts the worst first."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}


class Status(StrEnum):
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    UNKNOWN = "unknown"
    PASS = "pass"
    NOT_APPLICABLE = "not-applicable"

    @property
    def rank(self) -> int:
        """Failing first, then warnings, errors, unknowns, passes, not-applicable."""
        return _STATUS_RANK[self]

    @property
    def is_problem(self) -> bool:
        return self in (Status.FAIL, Status.WARN)


_STATUS_RANK = {status: rank for rank, status in enumerate(Status)}
_STATUS_BY_VALUE = {status.value: status for status in Status}
# What every check id looks like (`DNS-001`); a recorded finding with another is refused, since
# renderers print ids as they are.
CHECK_ID_PATTERN = "^[A-Z]+-[0-9]{3}$"
CHECK_ID = re.compile(CHECK_ID_PATTERN)

CLUSTER_KIND = "Cluster"
# The subject of a finding about an API group/version the server serves (VER-010): no object.
API_VERSION_KIND = "APIVersion"
# Subject kinds that are not a Kubernetes kind; a waiver may name them as it names a Kind.
PSEUDO_KINDS = (CLUSTER_KIND, API_VERSION_KIND)


class Subject(NamedTuple):
    """What a finding is about: an object (kind, namespace, name) or the cluster itself.

    A named tuple, so built, hashed and ordered in C: a large cluster's report holds hundreds of
    thousands of findings, each sorted and indexed by its subject."""

    kind: str
    namespace: str = ""
    name: str = ""

    @classmethod
    def cluster(cls) -> Subject:
        return cls(CLUSTER_KIND, "", "cluster")

    @property
    def is_cluster(self) -> bool:
        return self.kind == CLUSTER_KIND

    def __str__(self) -> str:
        if self.is_cluster:
            return "cluster"
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subject:
        return cls(str(data["kind"]), str(data.get("namespace", "")), str(data.get("name", "")))


class _Shared:
    """What many findings hold as one object: it refuses changes (`_refusal` says why), and is
    its own copy."""

    __slots__ = ()
    _refusal = ""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(self._refusal)

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


class _NoItems(_Shared, list[Any]):
    """An empty list that refuses to change: the one `NO_ITEMS` every finding's evidence may
    hold for "none" (`evidence["findings"] = offending or NO_ITEMS`). Equal to `[]`, and written
    and read back as `[]`. At 100k pods, checks made 367,777 empty lists, one per finding, and
    kept them with their findings: 20 MiB of a scan's peak."""

    __slots__ = ()
    _refusal = "NO_ITEMS is shared by every finding: build a list of your own to change"
    append = extend = insert = remove = pop = clear = sort = reverse = _Shared._refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _Shared._refuse


NO_ITEMS: list[Any] = _NoItems()


class _SharedEvidence(_Shared, dict[str, Any]):
    """Evidence that refuses to change: one module-level constant (`shared_evidence`) that many
    findings hold, for a verdict most subjects share word for word (a clean workload's). Equal
    to the plain dict, and written and read back as one. At 100k pods, EXP-004..007 and DNS-014
    built 150,000 such dicts alike, one per finding: 25 MiB of a scan's peak."""

    __slots__ = ()
    _refusal = "this evidence is shared by many findings: change a copy (dict(evidence))"
    __setitem__ = __delitem__ = __ior__ = _Shared._refuse
    pop = popitem = clear = update = setdefault = _Shared._refuse

    def __reduce__(self) -> tuple[Any, ...]:  # pickling rebuilds it without setting items
        return _SharedEvidence, (dict(self),)


def shared_evidence(**fields: Any) -> dict[str, Any]:
    """Evidence for many findings to hold as one object: it refuses changes (see `_SharedEvidence`)."""
    return _SharedEvidence(fields)


@dataclass(slots=True)
class Finding:
    """One verdict of one check on one subject. `evidence` is small plain JSON data."""

    check_id: str
    status: Status
    subject: Subject
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    waiver: dict[str, Any] | None = None  # the waiver that applies: source, reason, owner, expiry

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity across snapshots: the same check on the same subject."""
        return (self.check_id, self.subject.kind, self.subject.namespace, self.subject.name)

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    def unwaived(self) -> Finding:
        """A copy without the waiver mark (the evidence is shared: findings never change it)."""
        return Finding(self.check_id, self.status, self.subject, self.message, self.evidence)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check_id": self.check_id,
            "status": self.status.value,
            "subject": self.subject.to_dict(),
            "message": self.message,
            "evidence": self.evidence,
        }
        if self.waiver is not None:
            data["waiver"] = self.waiver
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        # Runs once per recorded finding when a snapshot opens (hundreds of thousands on a large
        # cluster): dictionary lookups instead of the enum's constructor, no copy of plain data.
        status = _STATUS_BY_VALUE.get(data["status"]) or Status(data["status"])
        evidence = data.get("evidence")
        waiver = data.get("waiver")
        check_id = str(data["check_id"])
        if not CHECK_ID.match(check_id):
            raise ValueError(f"a finding's check id {check_id[:20]!r} is not an id like DNS-001")
        return cls(
            check_id,
            status,
            Subject.from_dict(data["subject"]),
            str(data.get("message", "")),
            evidence if type(evidence) is dict else dict(evidence or {}),
            waiver if isinstance(waiver, dict) else None,
        )


def judged(status: Status, subject: Subject, message: str, evidence: dict[str, Any]) -> Finding:
    """A finding whose evidence is already built as a dict, kept as it is (`passed(**evidence)`
    and kin copy it): for the common verdict of checks that judge every workload."""
    return Finding("", status, subject, message, evidence)


def passed(subject: Subject, message: str, **evidence: Any) -> Finding:
    return Finding("", Status.PASS, subject, message, evidence)


def failed(subject: Subject, message: str, **evidence: Any) -> Finding:
    return Finding("", Status.FAIL, subject, message, evidence)


def warned(subject: Subject, message: str, **evidence: Any) -> Finding:
    return Finding("", Status.WARN, subject, message, evidence)


def unknown(subject: Subject, message: str, **evidence: Any) -> Finding:
    return Finding("", Status.UNKNOWN, subject, message, evidence)


def not_applicable(subject: Subject, message: str, **evidence: Any) -> Finding:
    return Finding("", Status.NOT_APPLICABLE, subject, message, evidence)

"""Waivers: accepted risks, written down where a reviewer can see them.

A waiver says "check C may fail on these subjects until DATE, because REASON, says OWNER". Waivers
come from the policy file (`[[waiver]]` entries, read by `k8saudit.policy`) or from annotations on
the object itself (`k8saudit.io/waive: CHECK-ID[,CHECK-ID]` with `k8saudit.io/waive-reason`).

`apply_waivers` is the one place they take effect: `k8saudit.report.evaluate` calls it right after
the checks ran, so scan, report, diff, the TUI and the fleet view all see the same result.

- Only problems (fail, warn) are waived. A waived finding stays in the report, marked with the
  waiver that applies, and is left out of the score (see `k8saudit.scoring`).
- A waiver past its expiry date stops applying and is reported, with the findings it would waive.
- A waiver that waived nothing is reported as unused: its risk is gone (the subjects it matches
  now pass) or its pattern is wrong.
- File waivers are tried in file order, then annotation waivers; the first that matches applies.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from k8saudit.inventory import Inventory
from k8saudit.kinds import KINDS_BY_KEY
from k8saudit.model import CHECK_ID, Finding, Status, Subject
from k8saudit.readers import annotations_of, name_of, namespace_of

ANNOTATION_WAIVE = "k8saudit.io/waive"
ANNOTATION_REASON = "k8saudit.io/waive-reason"
ANNOTATION_OWNER = "k8saudit.io/waive-owner"
ANNOTATION_EXPIRES = "k8saudit.io/waive-expires"
ANNOTATION_TICKET = "k8saudit.io/waive-ticket"

FILE = "file"
ANNOTATION = "annotation"

# A check id (RBAC-001) or a glob over check ids (RBAC-*, *): upper case, digits, dashes, globs.
CHECK_PATTERN = re.compile(r"^[A-Z0-9*?\[\]!-]+$")
_GLOB_CHARS = re.compile(r"([*?\[])")

ACTIVE = "active"
EXPIRED = "expired"
UNUSED = "unused"


def escape_glob(text: str) -> str:
    """`text` as a glob that matches only itself (`*` -> `[*]`)."""
    return _GLOB_CHARS.sub(r"[\1]", text)


def is_glob(pattern: str) -> bool:
    return _GLOB_CHARS.search(pattern) is not None


@dataclass(frozen=True, slots=True)
class Waiver:
    """One accepted risk: which check, on which subjects, why, who says so, until when."""

    check: str  # check id or glob over check ids
    reason: str
    owner: str
    expires: date | None  # the last day it applies; None only for annotation waivers without one
    kind: str = "*"  # a Kind ("Deployment", "Cluster" for cluster-wide findings) or "*"
    namespace: str = "*"  # glob; cluster-scoped subjects have the namespace ""
    name: str = "*"  # glob
    ticket: str = ""
    origin: str = FILE  # FILE or ANNOTATION
    source: str = ""  # where it is written: "PATH waiver #3 (line 12)" or "annotation on Deployment a/b"

    def matches_check(self, check_id: str) -> bool:
        return fnmatchcase(check_id, self.check)

    def matches_subject(self, subject: Subject) -> bool:
        return (
            (self.kind == "*" or self.kind == subject.kind)
            and fnmatchcase(subject.namespace, self.namespace)
            and fnmatchcase(subject.name, self.name)
        )

    def matches(self, finding: Finding) -> bool:
        return self.matches_check(finding.check_id) and self.matches_subject(finding.subject)

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    @property
    def scope(self) -> str:
        """The subjects it covers, like a subject with globs: "Deployment shop/api-*", "* *"."""
        if self.kind == "*" and self.namespace == "*" and self.name == "*":
            return "any subject"
        where = self.name if self.namespace == "" else f"{self.namespace}/{self.name}"
        return f"{self.kind} {where}"

    def marker(self) -> dict[str, Any]:
        """What a waived finding carries in `Finding.waiver`."""
        return {
            "origin": self.origin,
            "source": self.source,
            "check": self.check,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat() if self.expires else None,
            "ticket": self.ticket or None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat() if self.expires else None,
            "ticket": self.ticket or None,
            "origin": self.origin,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Waiver:
        expires = data.get("expires")
        return cls(
            check=str(data["check"]),
            reason=str(data.get("reason", "")),
            owner=str(data.get("owner", "")),
            expires=date.fromisoformat(expires) if isinstance(expires, str) else None,
            kind=str(data.get("kind", "*")),
            namespace=str(data.get("namespace", "*")),
            name=str(data.get("name", "*")),
            ticket=str(data.get("ticket") or ""),
            origin=str(data.get("origin", FILE)),
            source=str(data.get("source", "")),
        )


# How much a waiver written from one finding covers (the TUI's waiver dialog offers these).
SCOPE_SUBJECT = "subject"  # this check on exactly this subject
SCOPE_NAMESPACE = "namespace"  # this check on every subject in the subject's namespace
SCOPE_CHECK = "check"  # this check on every subject
SCOPES = (SCOPE_SUBJECT, SCOPE_NAMESPACE, SCOPE_CHECK)


def waiver_for_finding(
    finding: Finding,
    *,
    reason: str,
    owner: str,
    expires: date,
    ticket: str = "",
    whole_check: bool = False,
    scope: str = SCOPE_SUBJECT,
) -> Waiver:
    """A waiver for this finding's check on exactly its subject, on every subject in its
    namespace (`scope=SCOPE_NAMESPACE`), or on every subject (`SCOPE_CHECK`, or `whole_check`).

    What the TUI's waiver dialog builds before `k8saudit.policy.append_waiver` writes it.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown waiver scope {scope!r}")
    subject = finding.subject
    if whole_check or scope == SCOPE_CHECK:
        return Waiver(finding.check_id, reason, owner, expires, ticket=ticket)
    namespace = escape_glob(subject.namespace) if subject.namespace else ""
    if scope == SCOPE_NAMESPACE:
        if not subject.namespace:
            raise ValueError(f"{subject} is not in a namespace")
        return Waiver(finding.check_id, reason, owner, expires, namespace=namespace, ticket=ticket)
    return Waiver(
        finding.check_id,
        reason,
        owner,
        expires,
        kind=subject.kind,
        namespace=namespace,
        name=escape_glob(subject.name),
        ticket=ticket,
    )


@dataclass(frozen=True, slots=True)
class WaiverPolicy:
    """The waivers `evaluate()` applies: the policy file's, and whether annotations count."""

    waivers: tuple[Waiver, ...] = ()
    annotations: bool = True
    source: str | None = None  # the policy file they came from, for display

    @classmethod
    def none(cls) -> WaiverPolicy:
        """No waivers at all (`--no-waivers`)."""
        return cls((), annotations=False)


@dataclass(slots=True)
class WaiverUse:
    """How one waiver fared in one evaluation."""

    waiver: Waiver
    expired: bool = False
    waived: int = 0  # problems it waived
    would_waive: int = 0  # expired: problems it would still waive
    passing: int = 0  # subjects it matches that pass now (a risk that is gone)
    shadowed: int = 0  # problems it matches that an earlier waiver waives (the first match applies)
    note: str = ""  # e.g. "matches no check of this k8saudit"

    @property
    def state(self) -> str:
        if self.expired:
            return EXPIRED
        return ACTIVE if self.waived else UNUSED

    @property
    def why_unused(self) -> str:
        """Why a waiver that waives nothing does, as every report says it."""
        if self.shadowed:
            return f"the {self.shadowed} problem(s) it matches are waived by an earlier waiver first"
        if self.passing:
            return f"the {self.passing} subject(s) it matches pass now; remove it"
        return "matches no failing finding"

    def to_dict(self) -> dict[str, Any]:
        return {
            "waiver": self.waiver.to_dict(),
            "state": self.state,
            "waived": self.waived,
            "would_waive": self.would_waive,
            "passing": self.passing,
            "shadowed": self.shadowed,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WaiverUse:
        return cls(
            waiver=Waiver.from_dict(data["waiver"]),
            expired=data.get("state") == EXPIRED,
            waived=int(data.get("waived", 0)),
            would_waive=int(data.get("would_waive", 0)),
            passing=int(data.get("passing", 0)),
            shadowed=int(data.get("shadowed", 0)),
            note=str(data.get("note", "")),
        )


@dataclass(slots=True)
class WaiverSummary:
    """Every waiver considered in an evaluation and what it did: what reports list."""

    source: str | None = None  # the policy file, if one was read
    annotations: bool = True  # annotation waivers were honoured
    as_of: date | None = None  # the day expiry was judged against
    uses: list[WaiverUse] = field(default_factory=list)  # file waivers in file order, then annotations
    invalid: list[str] = field(default_factory=list)  # annotation waivers that cannot apply, and why

    @property
    def waived(self) -> int:
        return sum(u.waived for u in self.uses)

    @property
    def active(self) -> list[WaiverUse]:
        return [u for u in self.uses if u.state == ACTIVE]

    @property
    def expired(self) -> list[WaiverUse]:
        return [u for u in self.uses if u.state == EXPIRED]

    @property
    def unused(self) -> list[WaiverUse]:
        return [u for u in self.uses if u.state == UNUSED]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "annotations": self.annotations,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "waived_findings": self.waived,
            "waivers": [u.to_dict() for u in self.uses],
            "invalid": list(self.invalid),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WaiverSummary:
        as_of = data.get("as_of")
        return cls(
            source=str(data["source"]) if data.get("source") else None,
            annotations=bool(data.get("annotations", True)),
            as_of=date.fromisoformat(as_of) if isinstance(as_of, str) else None,
            uses=[WaiverUse.from_dict(u) for u in data.get("waivers") or [] if isinstance(u, dict)],
            invalid=[str(i) for i in data.get("invalid") or []],
        )


# -- annotations --------------------------------------------------------------------------------


def annotation_waivers(inventory: Inventory) -> tuple[list[Waiver], list[str]]:
    """Waivers written as annotations on collected objects, and the ones that cannot apply.

    One pass over the inventory. An annotation waiver needs a reason and exact check ids; its
    owner, expiry and ticket are optional annotations.
    """
    waivers: list[Waiver] = []
    invalid: list[str] = []
    for key, items in inventory.objects.items():
        kind = KINDS_BY_KEY.get(key)
        if kind is None:
            continue
        for obj in items:
            annotations = annotations_of(obj)
            if ANNOTATION_WAIVE not in annotations:
                continue
            subject = Subject(kind.kind, namespace_of(obj), name_of(obj))
            found, problems = _object_waivers(subject, annotations)
            waivers.extend(found)
            invalid.extend(f"{subject}: {p}" for p in problems)
    return waivers, invalid


def _object_waivers(subject: Subject, annotations: dict[str, Any]) -> tuple[list[Waiver], list[str]]:
    ids = [part.strip() for part in str(annotations.get(ANNOTATION_WAIVE, "")).split(",") if part.strip()]
    reason = str(annotations.get(ANNOTATION_REASON, "")).strip()
    problems = []
    bad_ids = [i for i in ids if not CHECK_ID.match(i)]
    if bad_ids or not ids:
        problems.append(f"{ANNOTATION_WAIVE} must list check ids like RBAC-001, got {bad_ids or ids!r}")
    if not reason:
        problems.append(f"{ANNOTATION_WAIVE} needs a {ANNOTATION_REASON} annotation saying why")
    expires: date | None = None
    raw_expiry = str(annotations.get(ANNOTATION_EXPIRES, "")).strip()
    if raw_expiry:
        try:
            expires = date.fromisoformat(raw_expiry)
        except ValueError:
            problems.append(f"{ANNOTATION_EXPIRES} must be a date like 2026-06-30, got {raw_expiry[:40]!r}")
    if problems:
        return [], problems
    return [
        Waiver(
            check=check_id,
            reason=reason,
            owner=str(annotations.get(ANNOTATION_OWNER, "")).strip(),
            expires=expires,
            kind=subject.kind,
            namespace=escape_glob(subject.namespace) if subject.namespace else "",
            name=escape_glob(subject.name),
            ticket=str(annotations.get(ANNOTATION_TICKET, "")).strip(),
            origin=ANNOTATION,
            source=f"annotation on {subject}",
        )
        for check_id in ids
    ], []


# -- applying -----------------------------------------------------------------------------------


def apply_waivers(
    findings: Iterable[Finding],
    inventory: Inventory,
    policy: WaiverPolicy,
    today: date,
    known_checks: Iterable[str] = (),
) -> WaiverSummary:
    """Mark the problems a waiver covers (`Finding.waiver`) and say what every waiver did.

    Any waiver mark the findings had is replaced. The waivers of each check id are indexed once
    by exact namespace and name, so a finding costs a few dictionary lookups plus the waivers
    whose namespace and name are both globs.
    """
    uses = [WaiverUse(w, expired=w.expired(today)) for w in policy.waivers]
    invalid: list[str] = []
    if policy.annotations:
        from_annotations, invalid = annotation_waivers(inventory)
        uses.extend(WaiverUse(w, expired=w.expired(today)) for w in from_annotations)

    exact_check: dict[str, list[_Candidate]] = defaultdict(list)
    glob_check: list[_Candidate] = []
    for order, use in enumerate(uses):
        candidate = _Candidate(order, use)
        (glob_check if is_glob(use.waiver.check) else exact_check[use.waiver.check]).append(candidate)
    indexes: dict[str, _CheckIndex] = {}

    for finding in findings:
        finding.waiver = None
        if finding.status not in _CONSIDERED:
            continue
        index = indexes.get(finding.check_id)
        if index is None:
            matching = [c for c in glob_check if c.use.waiver.matches_check(finding.check_id)]
            index = indexes[finding.check_id] = _CheckIndex(exact_check.get(finding.check_id, []) + matching)
        if index:
            _apply_to(finding, index.candidates(finding.subject))

    known = set(known_checks)
    if known:
        for use in uses:
            if not any(use.waiver.matches_check(c) for c in known):
                use.note = f"no check matches {use.waiver.check!r} in this version of k8saudit"
    return WaiverSummary(policy.source, policy.annotations, today, uses, invalid)


_PROBLEMS = (Status.FAIL, Status.WARN)
_PASSING = (Status.PASS, Status.NOT_APPLICABLE)
_CONSIDERED = _PROBLEMS + _PASSING


class _Candidate:
    """A waiver with its subject globs compiled (None: a literal, compared as is; an escaped
    character like "[*]" is a glob, so a literal never needs unescaping)."""

    __slots__ = ("kind", "name", "name_re", "namespace", "namespace_re", "order", "use")

    def __init__(self, order: int, use: WaiverUse) -> None:
        w = use.waiver
        self.order = order
        self.use = use
        self.kind = w.kind
        self.namespace, self.name = w.namespace, w.name
        self.namespace_re = re.compile(fnmatch.translate(w.namespace)) if is_glob(w.namespace) else None
        self.name_re = re.compile(fnmatch.translate(w.name)) if is_glob(w.name) else None

    def matches(self, subject: Subject) -> bool:
        if self.kind != "*" and self.kind != subject.kind:
            return False
        if self.namespace_re is None:
            if self.namespace != subject.namespace:
                return False
        elif not self.namespace_re.match(subject.namespace):
            return False
        if self.name_re is None:
            return self.name == subject.name
        return self.name_re.match(subject.name) is not None


class _CheckIndex:
    """The candidate waivers of one check id, by exact namespace and exact name. Waivers with a
    namespace glob are filtered once per namespace (a cluster has far fewer namespaces than
    findings), so a finding costs a few lookups whatever the globs."""

    __slots__ = ("by_both", "by_name", "by_namespace", "namespace_globs", "per_namespace")

    def __init__(self, candidates: list[_Candidate]) -> None:
        self.by_both: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
        self.by_namespace: dict[str, list[_Candidate]] = defaultdict(list)
        self.by_name: dict[str, list[_Candidate]] = defaultdict(list)
        self.namespace_globs: list[_Candidate] = []
        self.per_namespace: dict[str, list[_Candidate]] = {}
        for c in sorted(candidates, key=lambda c: c.order):
            if c.namespace_re is None and c.name_re is None:
                self.by_both[(c.namespace, c.name)].append(c)
            elif c.namespace_re is None:
                self.by_namespace[c.namespace].append(c)
            elif c.name_re is None:
                self.by_name[c.name].append(c)
            else:
                self.namespace_globs.append(c)

    def __bool__(self) -> bool:
        return bool(self.by_both or self.by_namespace or self.by_name or self.namespace_globs)

    def candidates(self, subject: Subject) -> list[_Candidate]:
        """The waivers that may match `subject`, in file order."""
        globbed = self.per_namespace.get(subject.namespace)
        if globbed is None:
            globbed = self.per_namespace[subject.namespace] = [
                c for c in self.namespace_globs if c.namespace_re and c.namespace_re.match(subject.namespace)
            ]
        found = [
            *self.by_both.get((subject.namespace, subject.name), ()),
            *self.by_namespace.get(subject.namespace, ()),
            *self.by_name.get(subject.name, ()),
            *globbed,
        ]
        if len(found) > 1:
            found.sort(key=lambda c: c.order)
        return found


def _apply_to(finding: Finding, candidates: list[_Candidate]) -> None:
    problem = finding.status in _PROBLEMS
    for candidate in candidates:
        if not candidate.matches(finding.subject):
            continue
        use = candidate.use
        if not problem:
            use.passing += 1
        elif use.expired:
            use.would_waive += 1
        elif finding.waiver is None:
            finding.waiver = use.waiver.marker()
            use.waived += 1
        else:
            use.shadowed += 1

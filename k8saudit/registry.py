"""The check registry: `@check(...)` records a check function with its validated metadata.

Metadata is validated at import, so a check with a duplicate id, an unknown area or an empty
rationale stops the program during development instead of producing an unexplainable score.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from k8saudit.kinds import KINDS_BY_KEY
from k8saudit.model import Finding, Severity
from k8saudit.releases import ReleaseCalendar

if TYPE_CHECKING:
    from k8saudit.inventory import Inventory

AREAS: tuple[str, ...] = ("versions", "rbac", "ingress", "dns", "nodes", "etcd", "exposure", "resilience")
AREA_PREFIX: dict[str, str] = {
    "versions": "VER",
    "rbac": "RBAC",
    "ingress": "ING",
    "dns": "DNS",
    "nodes": "NODE",
    "etcd": "ETCD",
    "exposure": "EXP",
    "resilience": "RES",
}
_ID = re.compile(r"^([A-Z]+)-(\d{3})$")


@dataclass(frozen=True, slots=True)
class Config:
    """Tunable thresholds. Defaults are what an SRE would accept without thinking twice."""

    backup_max_age_hours: float = 24.0
    # Versions: a release calendar older than this (when the cluster was read) no longer shows
    # the newest minor, so VER-002 cannot pass a cluster on it.
    calendar_stale_days: int = 180
    # Versions: warn this many days before a Kubernetes minor, OS or runtime reaches end of life.
    eol_warning_days: int = 60
    # Versions: a calendar's "newest patch" older than this is not trusted for a pass (patches
    # ship about monthly, so after six weeks a newer one has most likely appeared).
    newest_patch_max_age_days: int = 45
    # DNS: expected replicas follow the kube-dns autoscaler's default linear ladder.
    dns_nodes_per_replica: int = 16
    dns_cores_per_replica: int = 256
    dns_autoscaler_min_nodes: int = 30  # from this size, a fixed DNS replica count is a finding
    coredns_warn_age_days: int = 365
    coredns_fail_age_days: int = 730
    # RBAC: namespaces whose service accounts run the control plane and add-ons, so a namespaced
    # right to read Secrets, exec or create pods there is as good as cluster-wide.
    sensitive_namespaces: tuple[str, ...] = ("kube-system",)
    # Exposure: namespaces where recognised node agents (kube-proxy, CNI, CSI, log shippers) may
    # hold host privileges; they are listed by an info check instead of failing the others.
    system_namespaces: tuple[str, ...] = (
        "kube-system",
        "calico-system",
        "tigera-operator",
        "kube-flannel",
        "cilium",
    )
    area_weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(AREAS, 1.0))


@dataclass(frozen=True, slots=True)
class Context:
    """What a check may know besides the inventory. `now` is the collection time, so a snapshot
    re-checked next year is judged as of the day it was taken."""

    now: datetime
    calendar: ReleaseCalendar
    config: Config = field(default_factory=Config)

    @classmethod
    def default(cls, now: datetime | None = None) -> Context:
        return cls(now or datetime.now(UTC), ReleaseCalendar.shipped())


CheckFunction = Callable[["Inventory", Context], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class CheckMeta:
    id: str
    title: str
    area: str
    severity: Severity
    rationale: str
    remediation: str
    references: tuple[str, ...]
    inputs: tuple[str, ...]  # inventory keys that must be readable, or the check is `unknown`
    function: CheckFunction = field(compare=False, repr=False)

    @property
    def number(self) -> int:
        return int(self.id.rsplit("-", 1)[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "area": self.area,
            "severity": self.severity.value,
            "rationale": self.rationale,
            "remediation": self.remediation,
            "references": list(self.references),
            "inputs": list(self.inputs),
        }


class CheckDefinitionError(Exception):
    """A check's metadata is invalid (a programming error, raised at import)."""


REGISTRY: dict[str, CheckMeta] = {}


def check(
    *,
    id: str,
    title: str,
    area: str,
    severity: str,
    rationale: str,
    remediation: str,
    references: Iterable[str],
    inputs: Iterable[str] = (),
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check. See DESIGN.md "Checks: how to write one"."""

    def register(function: CheckFunction) -> CheckFunction:
        meta = CheckMeta(
            id=id,
            title=title.strip(),
            area=area,
            severity=_severity(id, severity),
            rationale=" ".join(rationale.split()),
            remediation=remediation.strip("\n"),
            references=tuple(references),
            inputs=tuple(inputs),
            function=function,
        )
        validate(meta)
        REGISTRY[meta.id] = meta
        return function

    return register


def _severity(check_id: str, value: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise CheckDefinitionError(f"{check_id}: unknown severity {value!r}") from None


def validate(meta: CheckMeta) -> None:
    match = _ID.match(meta.id)
    if not match:
        raise CheckDefinitionError(f"{meta.id!r}: ids look like AREA-NNN")
    if meta.area not in AREAS:
        raise CheckDefinitionError(f"{meta.id}: unknown area {meta.area!r}")
    if match.group(1) != AREA_PREFIX[meta.area]:
        raise CheckDefinitionError(f"{meta.id}: ids in area {meta.area} start with {AREA_PREFIX[meta.area]}-")
    if meta.id in REGISTRY and REGISTRY[meta.id].function is not meta.function:
        raise CheckDefinitionError(f"{meta.id}: duplicate check id")
    for name in ("title", "rationale", "remediation"):
        if not getattr(meta, name).strip():
            raise CheckDefinitionError(f"{meta.id}: empty {name}")
    if not meta.references or not all(r.startswith("https://") for r in meta.references):
        raise CheckDefinitionError(f"{meta.id}: needs https references")
    for key in meta.inputs:
        if key not in KINDS_BY_KEY:
            raise CheckDefinitionError(f"{meta.id}: unknown input kind {key!r}")


def load_checks() -> dict[str, CheckMeta]:
    """Import the catalog (the `checks` package registers on import): by area, then by number."""
    import checks  # noqa: F401  (registers every check)

    ordered = sorted(REGISTRY.values(), key=lambda m: (AREAS.index(m.area), m.number))
    return {m.id: m for m in ordered}

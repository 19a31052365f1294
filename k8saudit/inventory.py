"""The collected, redacted cluster state: objects by kind, indexes, and coverage.

Checks read the cluster only through this class. Indexes are built lazily, once, on first use,
so a check that asks "which pods run on node X" costs a dictionary lookup, not a scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, TypeVar

from k8saudit import siblings
from k8saudit.kinds import KINDS, KINDS_BY_KEY, ResourceKind
from k8saudit.model import Subject
from k8saudit.provider import Provider, detect_provider
from k8saudit.readers import Obj, labels_of, meta, name_of, namespace_of
from k8saudit.redact import pod_spec_of
from k8saudit.schema import OBJECTS, STRING_MAP, fits, shape_problem

OK = "ok"
FORBIDDEN = "forbidden"
NOT_SERVED = "not-served"
ERROR = "error"
COVERAGE_STATES = (OK, FORBIDDEN, NOT_SERVED, ERROR)

_T = TypeVar("_T")

# Pod phases after which a pod no longer holds its node's resources.
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


def phase_of(pod: Obj) -> Any:
    """A pod's status.phase as found: None without one, and whatever a file holds there."""
    status = pod.get("status")
    return status.get("phase") if type(status) is dict else None


def finished(phase: object) -> bool:
    """Whether a pod in `phase` (`phase_of`) is done and holds nothing on its node any more."""
    return type(phase) is str and phase in FINISHED_PHASES


# (pod, the node it is bound to, its status.phase as found) of a pod bound to a node and not
# finished: see `Inventory.live_placements_of`.
Placement = tuple[Obj, str, Any]

KINDS_BY_KIND: dict[str, ResourceKind] = {k.kind: k for k in KINDS}


@dataclass(slots=True)
class Coverage:
    """How the collection of one kind went."""

    state: str
    count: int = 0
    pages: int = 0
    duration_s: float = 0.0
    message: str = ""
    api_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Coverage:
        state = str(data.get("state", ERROR))
        return cls(
            state=state if state in COVERAGE_STATES else ERROR,
            count=_count(data.get("count", 0)),
            pages=_count(data.get("pages", 0)),
            duration_s=float(data.get("duration_s", 0.0)),
            message=str(data.get("message", "")),
            api_version=str(data.get("api_version", "")),
        )


def _count(value: object) -> int:
    """A count read from a file: a whole number a JSON writer can write back (< 2**53)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
        raise ValueError(f"bad count {str(value)[:30]!r}")
    return int(value)


@dataclass(slots=True)
class ClusterIdentity:
    """Who the cluster is. Never holds a credential."""

    context: str = ""
    server: str = ""
    version: dict[str, Any] = field(default_factory=dict)  # the /version document
    insecure_skip_tls_verify: bool = False

    @property
    def git_version(self) -> str:
        return str(self.version.get("gitVersion", ""))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterIdentity:
        version = data.get("version")
        return cls(
            context=str(data.get("context", "")),
            server=str(data.get("server", "")),
            version=version if isinstance(version, dict) else {},
            insecure_skip_tls_verify=bool(data.get("insecure_skip_tls_verify", False)),
        )


def malformed(obj: object, key: str) -> str | None:
    """Why `obj`, an object of inventory kind `key`, breaks the shape the inventory's indexes and
    the checks rely on, or None.

    The API server guarantees this shape; a snapshot file or a broken proxy may not. Checked once
    per object where data enters (collector, snapshot loader), so the indexes and every check can
    use `metadata` without re-checking it, and read `spec`, `status`, `rules`... as the dicts and
    lists the Kubernetes types make them (`schema.shape_problem`)."""
    if not isinstance(obj, dict):
        return "is not an object"
    metadata = obj.get("metadata")
    problem = None if metadata is None else _metadata_problem(metadata)
    return problem or shape_problem(key, obj)


def _metadata_problem(metadata: object) -> str | None:
    if not isinstance(metadata, dict):
        return "metadata is not an object"
    for part in ("name", "namespace", "uid"):
        if not isinstance(metadata.get(part, ""), str | None):
            return f"metadata.{part} is not a string"
    for part, shape in _METADATA_SHAPES:
        if not fits(metadata.get(part), shape):
            return f"metadata.{part} is not {shape}"
    return None


_METADATA_SHAPES = (("labels", STRING_MAP), ("annotations", STRING_MAP), ("ownerReferences", OBJECTS))


def selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    # The items test runs in C and settles the usual case; the item-by-item one decides the rest
    # (a null value in the selector also matches a missing label there).
    return selector.items() <= labels.items() or all(labels.get(k) == v for k, v in selector.items())


def label_selector_matches(selector: object, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels and matchExpressions) against labels. An empty
    selector selects everything (policy/v1); a missing (None) or malformed one, nothing."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict) or not selector_matches(match_labels, labels):
        return False
    expressions = selector.get("matchExpressions") or ()
    return isinstance(expressions, list | tuple) and all(
        isinstance(expression, dict) and _expression_matches(expression, labels) for expression in expressions
    )


def _expression_matches(expression: Obj, labels: dict[str, str]) -> bool:
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values")
    if not isinstance(key, str):
        return False
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    listed = [value for value in values if isinstance(value, str)] if isinstance(values, list) else []
    if operator == "In":
        return key in labels and labels[key] in listed
    if operator == "NotIn":
        return key not in labels or labels[key] not in listed
    return False  # an operator this version does not know: select nothing rather than guess


class Inventory:
    """Objects by inventory key (see `k8saudit.kinds`), with coverage and cluster identity."""

    def __init__(
        self,
        objects: dict[str, list[Obj]] | None = None,
        coverage: dict[str, Coverage] | None = None,
        cluster: ClusterIdentity | None = None,
        served_api_versions: Iterable[str] = (),
        applied_api_versions: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.objects: dict[str, list[Obj]] = objects or {}
        self.coverage: dict[str, Coverage] = coverage or {}
        self.cluster = cluster or ClusterIdentity()
        # Group/versions the server serves ("batch/v1beta1"): the deprecated-API checks need them.
        self.served_api_versions: tuple[str, ...] = tuple(sorted(set(served_api_versions)))
        # key -> "namespace/name" -> apiVersion from the last-applied annotation (before redaction).
        self.applied_api_versions: dict[str, dict[str, str]] = applied_api_versions or {}
        # Facts worked out on first use (see `_index`, `derived`, `subject`, `top_owner`).
        self._indexes: dict[tuple[Callable[[list[Obj]], Any], str], Any] = {}
        self._derived: dict[Callable[[Inventory], Any], Any] = {}
        self._subjects: dict[int, tuple[Obj, str, Subject]] = {}
        self._top_owners: dict[int, tuple[Any, tuple[str, Obj] | None]] = {}
        self._pods_through: dict[tuple[str, str], list[Obj]] = {}
        self._live_placements_of: dict[int, tuple[Obj, str, list[Placement]]] = {}

    @classmethod
    def from_objects(
        cls,
        objects: dict[str, list[Obj]],
        *,
        version: str = "v1.29.0",
        server: str = "https://cluster.example:6443",
        context: str = "test",
        coverage: dict[str, str | Coverage] | None = None,
        served_api_versions: Iterable[str] = (),
        applied_api_versions: dict[str, dict[str, str]] | None = None,
    ) -> Inventory:
        """An inventory built in memory (tests, demo): every known kind is `ok` unless overridden.

        Custom resources default to `not-served` unless objects are given for them.
        """
        cov: dict[str, Coverage] = {}
        for kind in KINDS:
            items = objects.get(kind.key, [])
            state = NOT_SERVED if kind.custom and kind.key not in objects else OK
            cov[kind.key] = Coverage(state, count=len(items), pages=1 if items else 0)
        for key, override in (coverage or {}).items():
            cov[key] = override if isinstance(override, Coverage) else Coverage(override, message=override)
        major, _, rest = version.lstrip("v").partition(".")
        minor = rest.split(".", 1)[0]
        identity = ClusterIdentity(
            context=context,
            server=server,
            version={"gitVersion": version, "major": major, "minor": minor},
        )
        return cls(
            {k: list(v) for k, v in objects.items()},
            cov,
            identity,
            served_api_versions,
            applied_api_versions,
        )

    # -- access -------------------------------------------------------------------------------

    def items(self, key: str) -> list[Obj]:
        """Every collected object of kind `key` (empty when not collected)."""
        return self.objects.get(key, [])

    def coverage_of(self, key: str) -> Coverage:
        return self.coverage.get(key) or Coverage(ERROR, message="not collected")

    def readable(self, key: str) -> bool:
        """True when `items(key)` is the complete truth: listed fine, or a CRD not installed."""
        cov = self.coverage_of(key)
        return cov.state == OK or (cov.state == NOT_SERVED and KINDS_BY_KEY[key].custom)

    def unreadable_reason(self, key: str) -> str:
        return f"{KINDS_BY_KEY[key].kind} could not be read ({self._unread_why(key)})"

    def unreadable_reasons(self, keys: Iterable[str]) -> str:
        """Why each of `keys` could not be read, kinds with the same reason named together: a
        snapshot older than eight Gateway API kinds says "not collected" once, not eight times."""
        kinds_by_why: dict[str, list[str]] = {}
        for key in keys:
            kinds_by_why.setdefault(self._unread_why(key), []).append(KINDS_BY_KEY[key].kind)
        return "; ".join(
            f"{', '.join(kinds)} could not be read ({why})" for why, kinds in kinds_by_why.items()
        )

    def _unread_why(self, key: str) -> str:
        cov = self.coverage_of(key)
        detail = f": {cov.message}" if cov.message and cov.message != cov.state else ""
        return f"{cov.state}{detail}"

    def served(self, key: str) -> bool:
        """A CRD-backed kind is installed in the cluster."""
        return self.coverage_of(key).state != NOT_SERVED

    def kinds_read(self) -> int:
        """How many kinds the cluster serves were read completely: none means the audit saw
        nothing (every list forbidden), whatever checks that need no object say."""
        return sum(1 for key in self.coverage if self.readable(key) and self.served(key))

    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        return self._by_name(key).get((namespace, name))

    def in_namespace(self, key: str, namespace: str) -> list[Obj]:
        return self._by_namespace(key).get(namespace, [])

    def namespaces(self) -> list[str]:
        return sorted({namespace_of(o) for key in self.objects for o in self.objects[key]} - {""})

    def object_for(self, subject: Subject) -> Obj | None:
        """The collected object a finding's subject names (None for the cluster or unknown kinds)."""
        kind = KINDS_BY_KIND.get(subject.kind)
        return self.get(kind.key, subject.namespace, subject.name) if kind else None

    def subject(self, key: str, obj: Obj) -> Subject:
        """The Subject naming `obj`: one per object, shared by the findings of every check about it
        (building one costs more than the lookup, and 300k+ are asked for at 100k pods). Kept
        with the object itself, so that the id of a temporary dict is never reused."""
        known = self._subjects.get(id(obj))
        if known is not None and known[0] is obj and known[1] == key:
            return known[2]
        subject = Subject(KINDS_BY_KEY[key].kind, namespace_of(obj), name_of(obj))
        self._subjects[id(obj)] = (obj, key, subject)
        return subject

    def applied_api_version(self, key: str, obj: Obj) -> str | None:
        return self.applied_api_versions.get(key, {}).get(f"{namespace_of(obj)}/{name_of(obj)}")

    @cached_property
    def version(self) -> tuple[int, int, int] | None:
        """The API server's (major, minor, patch), or None if /version could not be read."""
        from k8saudit.releases import parse_version

        return parse_version(self.cluster.git_version)

    @cached_property
    def provider(self) -> Provider:
        return detect_provider(
            self.cluster.version,
            self.cluster.server,
            self.items("nodes"),
            self.in_namespace("pods", "kube-system"),
            self.in_namespace("configmaps", "kube-system"),
            self.items("namespaces"),
        )

    # -- relations ----------------------------------------------------------------------------

    def pods_on_node(self, node_name: str) -> list[Obj]:
        return self._pods_by_node.get(node_name, [])

    def live_placements_of(self, key: str, workload: Obj) -> list[Placement]:
        """(pod, node, phase) of each pod of a workload (or of a bare pod itself) that is bound to
        a node and not `finished`. Callers must not change the list.

        From the one pod walk, and kept per workload: the placement checks ask it of every
        workload, and reading two nested fields of each pod again cost each of them 0.1-0.2 s at
        100k pods."""
        known = self._live_placements_of.get(id(workload))
        if known is not None and known[0] is workload and known[1] == key:
            return known[2]
        placed = self._pod_indexes.placed
        found = []
        for pod in [workload] if key == "pods" else self.pods_of(key, workload):
            entry = placed.get(id(pod))
            if entry is not None and entry[0] is pod:
                found.append(entry)
        self._live_placements_of[id(workload)] = (workload, key, found)
        return found

    def live_placements(self) -> Iterable[Placement]:
        """(pod, node, phase) of every pod bound to a node and not finished, in the pods' order."""
        return self._pod_indexes.placed.values()

    def owned_by(self, key: str, owner: Obj) -> list[Obj]:
        """Objects of kind `key` whose ownerReferences name `owner` (by uid)."""
        uid = meta(owner).get("uid")
        return self._by_owner_uid(key).get(uid, []) if uid else []

    def pods_of(self, key: str, workload: Obj) -> list[Obj]:
        """The pods a workload (deployment, statefulset, daemonset, replicaset, job, cronjob) runs.
        Callers must not change the list."""
        if key == "deployments":
            return self._grandchildren("replicasets", workload)
        if key == "cronjobs":
            return self._grandchildren("jobs", workload)
        return self.owned_by("pods", workload)

    def _grandchildren(self, middle: str, workload: Obj) -> list[Obj]:
        # Kept: the resilience checks ask for the pods of every Deployment, some twice.
        uid = meta(workload).get("uid")
        if not uid:
            return []
        pods = self._pods_through.get((middle, uid))
        if pods is None:
            children = self._by_owner_uid(middle).get(uid, ())
            pods = self._pods_through[(middle, uid)] = [
                p for child in children for p in self.owned_by("pods", child)
            ]
        return pods

    def top_owner(self, pod: Obj) -> tuple[str, Obj] | None:
        """The workload that ultimately controls a pod, as (inventory key, object)."""
        references = meta(pod).get("ownerReferences")
        if not references:
            return None
        # A function of the pod's ownerReferences alone, which sibling pods share
        # (k8saudit.siblings): walked once per list. The list is kept with the answer, so that
        # the id of a dropped list is never taken for another.
        known = self._top_owners.get(id(references))
        if known is None or known[0] is not references:
            known = self._top_owners[id(references)] = (references, self._walk_owners(pod))
        return known[1]

    def _walk_owners(self, pod: Obj) -> tuple[str, Obj] | None:
        current: tuple[str, Obj] = ("pods", pod)
        for _ in range(4):  # pod -> replicaset -> deployment, pod -> job -> cronjob
            ref = _controller_ref(current[1])
            if ref is None:
                break
            key = KINDS_BY_KIND.get(str(ref.get("kind")))
            parent = self._by_uid(key.key).get(ref.get("uid")) if key else None
            if parent is None:
                break
            current = (key.key, parent)
        return None if current[0] == "pods" else current

    def pods_selected_by(self, service: Obj) -> list[Obj]:
        """Pods in the service's namespace matching its selector (none for selector-less services)."""
        selector = (service.get("spec") or {}).get("selector")
        if not isinstance(selector, dict) or not selector:
            return []
        namespace = namespace_of(service)
        index = self._pods_by_label
        try:
            candidates = min((index.get((namespace, k, v), []) for k, v in selector.items()), key=len)
        except TypeError:  # a value that is not a string (a list) selects nothing
            return []
        return [pod for labels, pods in candidates if selector_matches(selector, labels) for pod in pods]

    def pod_templates(self) -> Iterator[tuple[str, Obj, Obj]]:
        """(key, workload, pod spec) for every workload and bare pod: each pod spec once.

        Pods owned by a collected controller are skipped (their template is judged instead),
        so a finding names the Deployment to fix, not its 40 pods.
        """
        return iter(self._pod_templates)

    @cached_property
    def _pod_templates(self) -> list[tuple[str, Obj, Obj]]:
        # Built once: many checks walk the templates, and deciding which pods and replica sets
        # are owned costs a lookup for each of the cluster's pods.
        out = []
        # Sibling pods share one ownerReferences list (k8saudit.siblings): judged once per list.
        # Keyed by id: every list is held by the inventory, alive for the whole walk.
        owned: dict[int, bool] = {}
        for key in ("deployments", "daemonsets", "statefulsets", "cronjobs", "jobs", "replicasets", "pods"):
            may_be_owned = key in ("replicasets", "jobs", "pods")
            for obj in self.items(key):
                if may_be_owned:
                    refs = id(meta(obj).get("ownerReferences"))
                    is_owned = owned.get(refs)
                    if is_owned is None:
                        is_owned = owned[refs] = self._has_collected_controller(obj)
                    if is_owned:
                        continue
                spec = pod_spec_of(key, obj)
                if spec is not None:
                    out.append((key, obj, spec))
        return out

    def derived(self, build: Callable[[Inventory], _T]) -> _T:
        """`build(self)`, computed once per inventory and shared by every check that asks.

        For facts several checks derive from the whole cluster (its ingress controllers, its DNS
        servers): without it each check pays a walk over every workload. `build` must be a pure
        function of the inventory, and callers must not change what it returns.
        """
        if build not in self._derived:
            self._derived[build] = build(self)
        return self._derived[build]

    def _has_collected_controller(self, obj: Obj) -> bool:
        ref = _controller_ref(obj)
        if ref is None:
            return False
        kind = KINDS_BY_KIND.get(str(ref.get("kind")))
        return kind is not None and ref.get("uid") in self._by_uid(kind.key)

    # -- indexes (lazy, built once) -----------------------------------------------------------

    def _index(self, key: str, build: Callable[[list[Obj]], Any]) -> Any:
        index = self._indexes.get((build, key))
        if index is None:
            index = self._indexes[(build, key)] = build(self.items(key))
        return index

    def _by_name(self, key: str) -> dict[tuple[str, str], Obj]:
        return self._index(key, _index_by_name)

    def _by_uid(self, key: str) -> dict[str, Obj]:
        return self._index(key, _index_by_uid)

    def _by_namespace(self, key: str) -> dict[str, list[Obj]]:
        # Pods' too is its own, not the pod walk's: `k8saudit open` asks for kube-system's pods
        # (to name the provider) and would pay the whole walk for them (0.3 s at 100k pods).
        return self._index(key, _index_by_namespace)

    def _by_owner_uid(self, key: str) -> dict[str, list[Obj]]:
        if key == "pods":
            return self._pod_indexes.by_owner_uid
        return self._index(key, _index_by_owner_uid)

    @property
    def _pods_by_node(self) -> dict[str, list[Obj]]:
        return self._pod_indexes.by_node

    @cached_property
    def _pods_by_label(self) -> dict[tuple[str, str, str], list[tuple[dict[str, str], list[Obj]]]]:
        """(namespace, label, value) -> (labels, the pods carrying that very dict) groups.

        Sibling pods share one labels dict (k8saudit.siblings): each dict is indexed, and matched
        against a selector, once for all its pods."""
        out: dict[tuple[str, str, str], list[tuple[dict[str, str], list[Obj]]]] = defaultdict(list)
        for (namespace, _), group in self._pod_indexes.label_groups.items():
            for k, v in group[0].items():
                out[(namespace, k, v)].append(group)
        return out

    @cached_property
    def _pod_indexes(self) -> _PodIndexes:
        """The pods by owner uid, by node and by labels dict, and their placements, built in one
        walk: at 100k pods a walk costs mostly the reading of every pod's dicts from memory
        (about 0.2 s). This one takes about 0.3 s and spares the placement checks a second
        reading of each pod's spec and status."""
        by_owner_uid: dict[str, list[Obj]] = defaultdict(list)
        by_node: dict[str, list[Obj]] = defaultdict(list)
        # Keyed by (namespace, id(labels)): the inventory holds every labels dict.
        label_groups: dict[tuple[str, int], tuple[dict[str, str], list[Obj]]] = {}
        # Keyed by id(pod), the pod kept in the entry: the inventory holds every pod.
        placed: dict[int, Placement] = {}
        for pod in self.items("pods"):
            for ref in meta(pod).get("ownerReferences") or ():
                if isinstance(ref, dict) and ref.get("uid"):
                    by_owner_uid[ref["uid"]].append(pod)
            spec = pod.get("spec")
            node = spec.get("nodeName") if type(spec) is dict else None  # a file may hold any shape
            if node:
                node = node if type(node) is str else str(node)
                by_node[node].append(pod)
                phase = phase_of(pod)
                if not finished(phase):
                    placed[id(pod)] = (pod, node, phase)
            labels = labels_of(pod)
            place = (namespace_of(pod), id(labels))
            group = label_groups.get(place)
            if group is None:
                group = label_groups[place] = (labels, [])
            group[1].append(pod)
        return _PodIndexes(by_owner_uid, by_node, label_groups, placed)

    # -- serialization ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        objects, rest = self.stored()
        return {"objects": {key: list(items) for key, items in objects.items()}, **rest}

    def stored(self) -> tuple[dict[str, Iterable[Obj]], dict[str, Any]]:
        """What a snapshot writes: each kind's objects as `siblings.stored` gives them (lazily, so
        that a writer can stream them) and the rest of the inventory, sharing tables included.
        Kinds in the order of `KINDS`, as the snapshot loader gives them back."""
        objects: dict[str, Iterable[Obj]] = {}
        sharing: dict[str, Any] = {}
        for key, items in sorted(self.objects.items(), key=_kind_order):
            table = siblings.table(items) if key in siblings.SIBLING_KINDS else None
            objects[key] = siblings.stored(items, table) if table else items
            if table:
                sharing[key] = table.to_dict()
        return objects, {
            "same_as_previous": sharing,
            "served_api_versions": list(self.served_api_versions),
            "applied_api_versions": self.applied_api_versions,
        }


class _PodIndexes(NamedTuple):
    by_owner_uid: dict[str, list[Obj]]
    by_node: dict[str, list[Obj]]
    label_groups: dict[tuple[str, int], tuple[dict[str, str], list[Obj]]]
    placed: dict[int, Placement]


_KIND_RANK = {kind.key: rank for rank, kind in enumerate(KINDS)}


def _kind_order(entry: tuple[str, Any]) -> int:
    return _KIND_RANK.get(entry[0], len(_KIND_RANK))


def share_pod_templates(objects: dict[str, list[Obj]]) -> None:
    """Let each ReplicaSet whose pod spec equals its Deployment's use the Deployment's copy: the
    Deployment controller copied it there (older ReplicaSets keep their older specs, and their
    own copies). A pod spec is most of either object; the comparison runs in C. Invisible, like
    the sharing of `k8saudit.siblings`: the inventory is read-only."""
    specs: dict[str, Obj] = {}
    for deployment in objects.get("deployments", ()):
        uid, spec = meta(deployment).get("uid"), pod_spec_of("deployments", deployment)
        if isinstance(uid, str) and spec is not None:
            specs[uid] = spec
    for replicaset in objects.get("replicasets", ()) if specs else ():
        ref = _controller_ref(replicaset)
        uid = ref.get("uid") if ref else None
        theirs = specs.get(uid) if isinstance(uid, str) else None
        spec = pod_spec_of("replicasets", replicaset)
        if theirs is not None and spec is not None and spec is not theirs and spec == theirs:
            replicaset["spec"]["template"]["spec"] = theirs


def _controller_ref(obj: Obj) -> dict[str, Any] | None:
    for ref in meta(obj).get("ownerReferences") or ():
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


# How `Inventory._index` builds each index from a kind's objects.


def _index_by_name(items: list[Obj]) -> dict[tuple[str, str], Obj]:
    return {(namespace_of(o), name_of(o)): o for o in items}


def _index_by_uid(items: list[Obj]) -> dict[str, Obj]:
    return {meta(o).get("uid"): o for o in items}


def _index_by_namespace(items: list[Obj]) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = defaultdict(list)
    for o in items:
        out[namespace_of(o)].append(o)
    return out


def _index_by_owner_uid(items: list[Obj]) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = defaultdict(list)
    for o in items:
        for ref in meta(o).get("ownerReferences") or ():
            if isinstance(ref, dict) and ref.get("uid"):
                out[ref["uid"]].append(o)
    return out

"""RBAC resolved once per inventory: bindings → roles → effective rules → what a subject can do.

The RBAC checks (and the exposure checks that ask "what can this pod's token do?") all need the
same joins. `RbacIndex.of(inventory)` builds them once, in time linear in the number of roles,
bindings and subjects, and caches per-role answers (effective rules, cluster-admin equivalence,
escalation grants) so every check costs a dictionary lookup per binding.

Rule matching follows the API server's RBAC authorizer exactly: `*` matches any verb, group or
resource; `*/exec` matches the `exec` subresource of any resource; `pods` does NOT match
`pods/exec`, and `pods/*` is not a wildcard. Aggregated ClusterRoles (`aggregationRule`) get the
union of the rules of the ClusterRoles their selectors pick, recursively, so the answer is right
even when the aggregation controller has not (yet) written the rules into the aggregate; once it
has, the copies are attributed to the labelled ClusterRole they came from.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from k8saudit.inventory import Inventory, label_selector_matches
from k8saudit.provider import OPENSHIFT_DISTRIBUTIONS
from k8saudit.readers import annotations_of, dicts, labels_of, name_of, namespace_of

Obj = dict[str, Any]

RBAC_GROUP = "rbac.authorization.k8s.io"
CLUSTER_ADMIN = "cluster-admin"
BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")
ADDON_MANAGER_LABEL = "addonmanager.kubernetes.io/mode"
SA_USER_PREFIX = "system:serviceaccount:"
ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
AUTHENTICATED_GROUP = "system:authenticated"
ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
NAMESPACE_SERVICE_ACCOUNTS_PREFIX = "system:serviceaccounts:"
# Groups every kubelet, or whoever holds a bootstrap token (printed in each `kubeadm join`
# command), is in. The Node authorizer limits what nodes may do; a binding somebody made for
# these groups hands its rights to every node, or every joining machine, at once.
BOOTSTRAPPERS_GROUP = "system:bootstrappers"
MACHINE_GROUPS = ("system:nodes", BOOTSTRAPPERS_GROUP)
# The control plane's own identities (kubeadm's component certificates, the API server's loopback
# client, the konnectivity server): wherever they are bound, the rights go to the control plane.
# `system:masters` bypasses RBAC, so binding it adds nothing.
CONTROL_PLANE_IDENTITIES = frozenset(
    {
        ("User", "system:kube-controller-manager"),
        ("User", "system:kube-scheduler"),
        ("User", "system:apiserver"),
        ("User", "system:konnectivity-server"),
        ("Group", "system:masters"),
    }
)
# Identities whose credentials sit on every worker node: each kubelet (`system:node:<name>`) and
# kube-proxy. The Node authorizer and NodeRestriction exist so that a compromised node reaches
# only its own pods' Secrets; a binding somebody made for these hands a node's root the rights
# of the whole cluster, so they count as the platform's only on a platform-owned binding.
NODE_USER_PREFIX = "system:node:"
KUBE_PROXY_USER = "system:kube-proxy"
RESERVED_PREFIX = "system:"
# Control-plane identities some distributions use without the `system:` prefix: k3s, RKE2 and
# GKE (its add-on manager's `kube-apiserver-kubelet-api-admin`) bind the API server's kubelet
# client, `User kube-apiserver`, to system:kubelet-api-admin.
# Not here on purpose: k3s's and RKE2's `system:k3s-controller`. Their `system:k3s-controller`
# binding carries no platform label, but its role grants nothing these checks look for (read
# nodes, namespaces, pods, endpoints and network policies), and every agent node is issued that
# certificate (flannel and the network policy controller use it): like the kubelet's and
# kube-proxy's beside it, it counts as the platform's only on a binding the platform owns.
PROVIDER_IDENTITIES: dict[str, frozenset[tuple[str, str]]] = {
    "k3s": frozenset({("User", "kube-apiserver")}),
    "rke2": frozenset({("User", "kube-apiserver")}),
    "gke": frozenset({("User", "kube-apiserver")}),
}
# Node credentials some providers issue without the `system:` prefix: GKE's add-on manager binds
# `User kubelet` to system:node (`kubelet-cluster-admin`). Every node holds them, so, like the
# kubelets' `system:node:*`, they are the platform's only on a binding the platform owns.
PROVIDER_NODE_IDENTITIES: dict[str, frozenset[tuple[str, str]]] = {
    "gke": frozenset({("User", "kubelet")}),
}
# OpenShift reconciles its default bindings (`system:node-admins`, `cluster-readers`, …) and
# marks them with this annotation, not with upstream's bootstrap label.
AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate"


# -- subjects -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Principal:
    """A binding subject, normalised: `User system:serviceaccount:ci:jenkins` is the ServiceAccount."""

    kind: str  # User | Group | ServiceAccount
    name: str
    namespace: str = ""  # ServiceAccounts only

    @classmethod
    def from_subject(cls, subject: Obj, binding_namespace: str) -> Principal:
        kind = str(subject.get("kind", ""))
        name = str(subject.get("name", ""))
        if kind == "ServiceAccount":
            return cls(kind, name, str(subject.get("namespace") or binding_namespace))
        if kind == "User" and name.startswith(SA_USER_PREFIX):
            namespace, _, sa_name = name.removeprefix(SA_USER_PREFIX).partition(":")
            if namespace and sa_name:
                return cls("ServiceAccount", sa_name, namespace)
        return cls(kind, name)

    def __str__(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"

    @property
    def is_anonymous(self) -> bool:
        """Anyone who can reach the API server, with no credential at all."""
        return (self.kind, self.name) in (("User", ANONYMOUS_USER), ("Group", UNAUTHENTICATED_GROUP))

    @property
    def service_account_namespace(self) -> str | None:
        """For a subject that is service accounts (one, every one of a namespace through
        `system:serviceaccounts:<ns>`, or every one through `system:serviceaccounts`, "*"), the
        namespace whose pods carry its tokens; None for anyone else."""
        if self.kind == "ServiceAccount":
            return self.namespace
        if self.kind != "Group":
            return None
        if self.name == ALL_SERVICE_ACCOUNTS_GROUP:
            return "*"
        namespace = self.name.removeprefix(NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
        return namespace if namespace != self.name and namespace else None

    @property
    def is_machine_group(self) -> bool:
        """Every node, or every holder of a bootstrap token (`system:bootstrappers:<group>` too)."""
        return self.kind == "Group" and (
            self.name in MACHINE_GROUPS or self.name.startswith(f"{BOOTSTRAPPERS_GROUP}:")
        )

    @property
    def is_node_identity(self) -> bool:
        """A kubelet (`system:node:<name>`) or kube-proxy: a credential every worker node holds."""
        return self.kind == "User" and (
            self.name.startswith(NODE_USER_PREFIX) or self.name == KUBE_PROXY_USER
        )

    @property
    def is_control_plane(self) -> bool:
        """A control-plane component (never a node's kubelet or kube-proxy)."""
        return (self.kind, self.name) in CONTROL_PLANE_IDENTITIES

    @property
    def is_population(self) -> bool:
        """A group that is not an identity but everybody of a kind (anonymous, all users, all SAs)."""
        if self.is_anonymous:
            return True
        return self.kind == "Group" and (
            self.name in (AUTHENTICATED_GROUP, ALL_SERVICE_ACCOUNTS_GROUP)
            or self.name.startswith(NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
        )


# -- roles and bindings -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class RoleKey:
    kind: str  # ClusterRole | Role
    namespace: str  # "" for ClusterRoles
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def is_cluster_admin(self) -> bool:
        return self.kind == "ClusterRole" and self.name == CLUSTER_ADMIN


@dataclass(frozen=True, slots=True)
class Binding:
    key: str  # inventory key: clusterrolebindings | rolebindings
    obj: Obj
    role: RoleKey
    principals: tuple[Principal, ...]

    @property
    def name(self) -> str:
        return name_of(self.obj)

    @property
    def namespace(self) -> str:
        return namespace_of(self.obj)

    @property
    def cluster_wide(self) -> bool:
        return self.key == "clusterrolebindings"

    @property
    def kind(self) -> str:
        return "ClusterRoleBinding" if self.cluster_wide else "RoleBinding"

    @property
    def scope(self) -> str:
        return "cluster-wide" if self.cluster_wide else f"in namespace {self.namespace}"

    @property
    def is_bootstrap(self) -> bool:
        return is_bootstrap(self.obj)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


def is_bootstrap(obj: Obj) -> bool:
    """Created by the API server's RBAC bootstrap (the defaults every cluster has)."""
    return labels_of(obj).get(BOOTSTRAP_LABEL[0]) == BOOTSTRAP_LABEL[1]


def role_key_of(binding: Obj) -> RoleKey:
    ref = binding.get("roleRef") if isinstance(binding.get("roleRef"), dict) else {}
    kind = str(ref.get("kind", ""))
    name = str(ref.get("name", ""))
    if kind == "ClusterRole":
        return RoleKey(kind, "", name)
    return RoleKey(kind or "Role", namespace_of(binding), name)


# -- rules --------------------------------------------------------------------------------------


def strings(value: Any) -> list[str]:
    """A rule field as a list of strings (tolerates null and malformed fields)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


@dataclass(frozen=True, slots=True)
class SourcedRule:
    """A policy rule and the ClusterRole it came from when it was aggregated into another one."""

    rule: Obj
    source: str = ""  # name of the contributing ClusterRole, "" for the role's own rules

    @property
    def resource_names(self) -> list[str]:
        return strings(self.rule.get("resourceNames"))

    def describe(self) -> str:
        groups = ",".join(g or '""' for g in strings(self.rule.get("apiGroups")))
        resources = ",".join(strings(self.rule.get("resources")))
        verbs = ",".join(strings(self.rule.get("verbs")))
        text = f"{verbs} on {resources} in groups [{groups}]"
        if self.resource_names:
            text += f" named {','.join(self.resource_names)}"
        if self.source:
            text += f" (aggregated from ClusterRole {self.source})"
        return text


def group_matches(rule: Obj, group: str) -> bool:
    groups = strings(rule.get("apiGroups"))
    return "*" in groups or group in groups


def resource_matches(rule: Obj, resource: str) -> bool:
    """RBAC resource matching: `*`, the exact `resource[/sub]`, or `*/sub` for a subresource."""
    subresource = resource.partition("/")[2]
    for candidate in strings(rule.get("resources")):
        if candidate in ("*", resource):
            return True
        if subresource and candidate == f"*/{subresource}":
            return True
    return False


def allowed_verbs(rule: Obj, verbs: Iterable[str]) -> tuple[str, ...]:
    rule_verbs = strings(rule.get("verbs"))
    if "*" in rule_verbs:
        return tuple(verbs)
    return tuple(v for v in verbs if v in rule_verbs)


def rule_allows(rule: Obj, group: str, resource: str, verb: str) -> bool:
    return (
        group_matches(rule, group) and resource_matches(rule, resource) and bool(allowed_verbs(rule, [verb]))
    )


def rule_identity(rule: Obj) -> Hashable:
    """A rule's content as a comparable key: the aggregation controller copies rules, not objects.

    Structural and cheap (it runs for every rule of every aggregate): the set of the rule's fields,
    a list of strings as a tuple. Any other shape a malformed object may hold is keyed by its
    repr, which never equals a tuple: at worst two odd copies are not recognised as one.
    """
    if not isinstance(rule, dict):
        return repr(rule)
    fields: list[tuple[Any, Hashable]] = []
    for name, value in rule.items():
        if type(value) is list:
            strs = tuple(value)
            if all(map(str.__instancecheck__, strs)):
                fields.append((name, strs))
                continue
        fields.append((name, repr(value)))
    return frozenset(fields)


def is_wildcard_rule(rule: Obj) -> bool:
    """`*` verbs on `*` resources in `*` groups, for every object: cluster-admin's rule."""
    return (
        "*" in strings(rule.get("verbs"))
        and "*" in strings(rule.get("resources"))
        and "*" in strings(rule.get("apiGroups"))
        and not strings(rule.get("resourceNames"))
    )


# -- escalation primitives ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One API request shape that exercises a primitive."""

    group: str
    resource: str
    verbs: tuple[str, ...]
    namespaced: bool  # False: authorised cluster-wide only, so a RoleBinding can never grant it

    def describe(self) -> str:
        group = f"{self.group}/" if self.group else ""
        return f"{'/'.join(self.verbs)} {group}{self.resource}"


@dataclass(frozen=True, slots=True)
class Primitive:
    """A permission that turns into more permissions (or into the permissions of someone else)."""

    id: str
    summary: str  # completes "lets X ..."
    requests: tuple[Request, ...]
    # True: dangerous even when granted inside one namespace (escalate, bind). False: dangerous
    # cluster-wide, or inside a namespace whose own identities are powerful (kube-system, …).
    anywhere: bool
    # A rule limited to resourceNames does not grant the primitive (secrets named X is not "all").
    narrowed_by_names: bool


WRITE = ("create", "update", "patch")
_CORE, _APPS, _BATCH, _EXT = "", "apps", "batch", "extensions"
_ADMISSION = "admissionregistration.k8s.io"

PRIMITIVES: dict[str, Primitive] = {
    p.id: p
    for p in (
        Primitive(
            "escalate-bind",
            "escalate or bind roles (grant permissions they do not hold)",
            (
                Request(RBAC_GROUP, "roles", ("escalate", "bind"), True),
                # Binding a ClusterRole in a RoleBinding is authorised as `bind` on clusterroles
                # in that binding's namespace, so a Role can grant it (the RBAC docs' delegation
                # example); `escalate` on clusterroles only matters cluster-wide.
                Request(RBAC_GROUP, "clusterroles", ("bind",), True),
                Request(RBAC_GROUP, "clusterroles", ("escalate",), False),
            ),
            anywhere=True,
            narrowed_by_names=True,  # bind limited to named roles is delegation; see grants()
        ),
        Primitive(
            "impersonate",
            "impersonate other identities",
            (
                Request(_CORE, "users", ("impersonate",), False),
                Request(_CORE, "groups", ("impersonate",), False),
                Request(_CORE, "serviceaccounts", ("impersonate",), True),
                Request("authentication.k8s.io", "uids", ("impersonate",), False),
                Request("authentication.k8s.io", "userextras/scopes", ("impersonate",), False),
            ),
            anywhere=False,
            narrowed_by_names=False,  # impersonating one named admin is still becoming that admin
        ),
        Primitive(
            "secrets",
            "read Secrets",
            (Request(_CORE, "secrets", ("get", "list", "watch"), True),),
            anywhere=False,
            narrowed_by_names=True,
        ),
        Primitive(
            "exec",
            "run commands in other pods (exec, attach, ephemeral containers)",
            (
                # exec and attach over WebSockets are authorised as `get`, over SPDY as `create`.
                Request(_CORE, "pods/exec", ("create", "get"), True),
                Request(_CORE, "pods/attach", ("create", "get"), True),
                Request(_CORE, "pods/ephemeralcontainers", ("update", "patch"), True),
            ),
            anywhere=False,
            narrowed_by_names=True,
        ),
        Primitive(
            "nodes-proxy",
            "reach the kubelet API through nodes/proxy (exec into any pod on the node, unaudited)",
            (Request(_CORE, "nodes/proxy", ("get", "create"), False),),
            anywhere=False,
            narrowed_by_names=False,  # one node's kubelet is every pod on that node
        ),
        Primitive(
            "workloads",
            "create pods or workload controllers (run anything as any service account)",
            (
                Request(_CORE, "pods", ("create",), True),
                Request(_CORE, "replicationcontrollers", WRITE, True),
                *(Request(_APPS, r, WRITE, True) for r in ("deployments", "daemonsets", "statefulsets")),
                Request(_APPS, "replicasets", WRITE, True),
                *(Request(_EXT, r, WRITE, True) for r in ("deployments", "daemonsets", "replicasets")),
                Request(_BATCH, "jobs", WRITE, True),
                Request(_BATCH, "cronjobs", WRITE, True),
            ),
            anywhere=False,
            narrowed_by_names=True,
        ),
        Primitive(
            "webhooks",
            "write admission webhook or policy configurations (intercept or disable admission)",
            tuple(
                Request(_ADMISSION, r, (*WRITE, "delete", "deletecollection"), False)
                for r in (
                    "validatingwebhookconfigurations",
                    "mutatingwebhookconfigurations",
                    "validatingadmissionpolicies",
                    "validatingadmissionpolicybindings",
                )
            ),
            anywhere=False,
            narrowed_by_names=True,
        ),
        Primitive(
            "tokens",
            "mint service account tokens (serviceaccounts/token, or token Secrets)",
            (
                Request(_CORE, "serviceaccounts/token", ("create",), True),
                # A Secret of type kubernetes.io/service-account-token is filled in by the token
                # controller: creating Secrets is minting tokens for any SA of the namespace.
                Request(_CORE, "secrets", ("create",), True),
            ),
            anywhere=False,
            narrowed_by_names=True,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Grant:
    """A rule of a role that exercises one request shape of a primitive."""

    request: Request
    verbs: tuple[str, ...]
    rule: SourcedRule

    def describe(self) -> str:
        group = f"{self.request.group}/" if self.request.group else ""
        return f"{'/'.join(self.verbs)} {group}{self.request.resource} (rule: {self.rule.describe()})"


# -- the index ----------------------------------------------------------------------------------

_CACHE: weakref.WeakKeyDictionary[Inventory, RbacIndex] = weakref.WeakKeyDictionary()


class RbacIndex:
    """Roles, bindings and their joins for one inventory. Build with `RbacIndex.of(inv)`."""

    def __init__(self, inv: Inventory) -> None:
        self.provider = inv.provider.name
        self.cluster_roles: dict[str, Obj] = {name_of(o): o for o in inv.items("clusterroles")}
        self.roles: dict[tuple[str, str], Obj] = {
            (namespace_of(o), name_of(o)): o for o in inv.items("roles")
        }
        self.bindings: list[Binding] = []
        self._by_role: dict[RoleKey, list[Binding]] = defaultdict(list)
        self._by_principal: dict[Principal, list[Binding]] = defaultdict(list)
        for key in ("clusterrolebindings", "rolebindings"):
            for obj in inv.items(key):
                principals = tuple(
                    Principal.from_subject(s, namespace_of(obj))
                    for s in obj.get("subjects") or ()
                    if isinstance(s, dict)
                )
                binding = Binding(key, obj, role_key_of(obj), principals)
                self.bindings.append(binding)
                self._by_role[binding.role].append(binding)
                for principal in set(principals):
                    self._by_principal[principal].append(binding)
        self._cluster_roles_by_label: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, obj in self.cluster_roles.items():
            for k, v in labels_of(obj).items():
                self._cluster_roles_by_label[(k, v)].append(name)
        self._effective: dict[RoleKey, tuple[SourcedRule, ...]] = {}
        # Resolutions that hold whatever the aggregation path to them: see `_resolve`.
        self._resolved: dict[RoleKey, tuple[SourcedRule, ...]] = {}
        self._grants: dict[tuple[RoleKey, str], tuple[Grant, ...]] = {}
        self._powerful_namespaces: dict[str, str] | None = None

    @classmethod
    def of(cls, inv: Inventory) -> RbacIndex:
        index = _CACHE.get(inv)
        if index is None:
            index = _CACHE[inv] = cls(inv)
        return index

    # -- lookups --------------------------------------------------------------------------------

    def role(self, key: RoleKey) -> Obj | None:
        if key.kind == "ClusterRole":
            return self.cluster_roles.get(key.name)
        if key.kind == "Role":
            return self.roles.get((key.namespace, key.name))
        return None

    def bindings_to(self, key: RoleKey) -> list[Binding]:
        return self._by_role.get(key, [])

    def bindings_of(self, principal: Principal) -> list[Binding]:
        return self._by_principal.get(principal, [])

    def bindings_reaching_service_account(self, namespace: str, name: str) -> list[tuple[Binding, Principal]]:
        """Every binding that applies to the SA: by name, or through the groups every SA is in."""
        reached: list[tuple[Binding, Principal]] = []
        for principal in (
            Principal("ServiceAccount", name, namespace),
            Principal("Group", f"{NAMESPACE_SERVICE_ACCOUNTS_PREFIX}{namespace}"),
            Principal("Group", ALL_SERVICE_ACCOUNTS_GROUP),
            Principal("Group", AUTHENTICATED_GROUP),
        ):
            reached.extend((b, principal) for b in self.bindings_of(principal))
        return reached

    # -- effective rules ------------------------------------------------------------------------

    def effective_rules(self, key: RoleKey) -> tuple[SourcedRule, ...]:
        """The role's rules, plus for an aggregated ClusterRole those of every role it selects."""
        cached = self._effective.get(key)
        if cached is None:
            cached = self._effective[key] = self._resolve(key, frozenset())[0]
        return cached

    def _resolve(
        self, key: RoleKey, visiting: frozenset[str]
    ) -> tuple[tuple[SourcedRule, ...], frozenset[str]]:
        """The role's rules with `visiting` (the aggregates on the path here) left out, and the
        cut: the names of `visiting` the resolution stopped at.

        Where the walk from a role stops at no name of `visiting`, and not at the role itself,
        the role is on no aggregation cycle: no aggregate on any path to it is reachable from it,
        so its rules are the same whatever the path. Those are kept in `_resolved` and shared
        (admin, edit and view each resolved once). A role on a cycle is resolved anew on every
        path, as the union to a fixpoint depends on where the walk entered the cycle.
        """
        cached = self._resolved.get(key)
        if cached is not None:
            return cached, frozenset()
        obj = self.role(key)
        if obj is None:
            return (), frozenset()
        own = tuple(SourcedRule(r) for r in obj.get("rules") or () if isinstance(r, dict))
        aggregation = obj.get("aggregationRule")
        if key.kind != "ClusterRole" or not isinstance(aggregation, dict):
            rules, cut = own, frozenset[str]()
        else:
            aggregated, cut = self._aggregated_rules(key.name, aggregation, visiting)
            # On a live cluster the aggregation controller has copied every selected rule into the
            # aggregate: those copies are the sources' rules, and the source is where a fix goes.
            copied = {rule_identity(r.rule) for r in aggregated}
            rules = tuple(r for r in own if rule_identity(r.rule) not in copied) + aggregated
        if not cut:
            self._resolved[key] = rules
        return rules, cut - {key.name}

    def _aggregated_rules(
        self, name: str, aggregation: Obj, visiting: frozenset[str]
    ) -> tuple[tuple[SourcedRule, ...], frozenset[str]]:
        """The rules of every ClusterRole the selectors pick, each named after the role that holds
        it, and the names of `visiting` or `name` the walk stopped at (see `_resolve`)."""
        seen: set[int] = set()
        rules: list[SourcedRule] = []
        cut: set[str] = set()
        for source in self._aggregated_sources(name, aggregation):
            if source in visiting:
                cut.add(source)
                continue  # aggregation cycles are legal; the controller just unions to a fixpoint
            resolved, below = self._resolve(RoleKey("ClusterRole", "", source), visiting | {name})
            cut |= below
            for sourced in resolved:
                if id(sourced.rule) in seen:
                    continue  # the same role reached through two selectors or two aggregates
                seen.add(id(sourced.rule))
                rules.append(SourcedRule(sourced.rule, sourced.source or source))
        return tuple(rules), frozenset(cut)

    def _aggregated_sources(self, name: str, aggregation: Obj) -> list[str]:
        sources: list[str] = []
        for selector in dicts(aggregation.get("clusterRoleSelectors")):
            match_labels = selector.get("matchLabels")
            if isinstance(match_labels, dict) and match_labels:
                # Candidates from the rarest label, then the full selector: no scan of all roles.
                candidates = min(
                    (self._cluster_roles_by_label.get((k, str(v)), []) for k, v in match_labels.items()),
                    key=len,
                )
            else:
                candidates = list(self.cluster_roles)
            sources.extend(
                c
                for c in candidates
                if c != name and label_selector_matches(selector, labels_of(self.cluster_roles[c]))
            )
        return sorted(set(sources))

    # -- what a role amounts to -----------------------------------------------------------------

    def admin_rules(self, key: RoleKey) -> tuple[SourcedRule, ...]:
        """The `*`/`*`/`*` rules that make a role equivalent to cluster-admin, with their sources."""
        return tuple(r for r in self.effective_rules(key) if is_wildcard_rule(r.rule))

    def admin_rule(self, key: RoleKey) -> SourcedRule | None:
        """The first `*`/`*`/`*` rule that makes a role equivalent to cluster-admin, if it has one."""
        return next(iter(self.admin_rules(key)), None)

    def is_admin_equivalent(self, key: RoleKey) -> bool:
        """cluster-admin itself (even when ClusterRoles could not be read) or a `*`/`*`/`*` role."""
        return key.is_cluster_admin or self.admin_rule(key) is not None

    def grants(self, key: RoleKey, primitive_id: str) -> tuple[Grant, ...]:
        cache_key = (key, primitive_id)
        cached = self._grants.get(cache_key)
        if cached is None:
            cached = self._grants[cache_key] = tuple(self._find_grants(key, PRIMITIVES[primitive_id]))
        return cached

    def _find_grants(self, key: RoleKey, primitive: Primitive) -> Iterable[Grant]:
        for sourced in self.effective_rules(key):
            rule = sourced.rule
            if self._narrowed(primitive, sourced):
                continue
            for request in primitive.requests:
                if not (group_matches(rule, request.group) and resource_matches(rule, request.resource)):
                    continue
                verbs = allowed_verbs(rule, request.verbs)
                if verbs:
                    yield Grant(request, verbs, sourced)

    def _narrowed(self, primitive: Primitive, sourced: SourcedRule) -> bool:
        """Whether the rule's resourceNames keep it from granting the primitive."""
        if not primitive.narrowed_by_names or not sourced.resource_names:
            return False
        if primitive.id != "escalate-bind":
            return True
        verbs = strings(sourced.rule.get("verbs"))
        if "escalate" in verbs or "*" in verbs:
            return False  # escalate on a role you are bound to: rewrite it into anything
        # `bind` limited to named roles is delegation, unless one of them is an admin role.
        return not any(
            self.is_admin_equivalent(RoleKey("ClusterRole", "", n)) for n in sourced.resource_names
        )

    # -- who counts ----------------------------------------------------------------------------

    def is_platform_owned(self, binding: Binding) -> bool:
        """A binding the API server or the provider's add-on manager creates and reconciles."""
        if binding.is_bootstrap:
            return True
        if labels_of(binding.obj).get(ADDON_MANAGER_LABEL) in ("Reconcile", "EnsureExists"):
            return True
        if self.provider in OPENSHIFT_DISTRIBUTIONS:
            return annotations_of(binding.obj).get(AUTOUPDATE_ANNOTATION) == "true"
        return self.provider == "eks" and binding.name.startswith("eks:")

    def is_platform_subject(self, principal: Principal, binding: Binding) -> bool:
        """An identity the control plane itself runs as: its rights are the platform's, not yours.

        The control plane's users (the controller manager, the scheduler, the API server, …),
        and, on a binding the platform owns (`is_platform_owned`), other `system:` users and
        groups, the identities every worker node holds (each kubelet, kube-proxy, the groups of
        every node and every join token) and service accounts in kube-system. Never a population
        such as `system:authenticated`, never a subject someone added to a default binding, and
        never a `system:` name on a binding somebody made, whatever that binding is called: a
        backdoor's client certificate named `system:backup` hides behind the prefix, and its
        binding can be named `system:backup` too.
        """
        if principal.is_population:
            return False
        if principal.kind in ("User", "Group"):
            if (
                principal.is_machine_group
                or principal.is_node_identity
                or (principal.kind, principal.name) in PROVIDER_NODE_IDENTITIES.get(self.provider, ())
            ):
                return self.is_platform_owned(binding)
            if principal.is_control_plane:
                return True
            if principal.name.startswith(RESERVED_PREFIX):
                return self.is_platform_owned(binding)
            if (principal.kind, principal.name) in PROVIDER_IDENTITIES.get(self.provider, ()):
                return True
            return self.provider == "eks" and principal.name.startswith("eks:")
        if principal.kind == "ServiceAccount":
            return principal.namespace == "kube-system" and self.is_platform_owned(binding)
        return False

    def outsiders(self, binding: Binding) -> list[Principal]:
        return [p for p in binding.principals if not self.is_platform_subject(p, binding)]

    def powerful_namespaces(self) -> dict[str, str]:
        """Namespaces holding a service account with cluster-wide power, and which one.

        Whoever can create pods, read Secrets, exec, mint tokens or impersonate in such a
        namespace can act as that service account, so those namespaced rights are cluster-wide
        rights in disguise (the CI namespace whose runner SA is cluster-admin).
        """
        if self._powerful_namespaces is None:
            found: dict[str, str] = {}
            for binding in self.bindings:
                if not binding.cluster_wide:
                    continue
                power = self._cluster_power(binding.role)
                if not power:
                    continue
                for principal in binding.principals:
                    # Every namespace's service accounts ("*") are RBAC-013's: no namespace stands out.
                    namespace = principal.service_account_namespace
                    if namespace not in (None, "*") and namespace not in found:
                        found[namespace] = f"{principal} holds {power} cluster-wide ({binding})"
            self._powerful_namespaces = found
        return self._powerful_namespaces

    def _cluster_power(self, key: RoleKey) -> str:
        if self.is_admin_equivalent(key):
            return "cluster-admin" if key.is_cluster_admin else f"{key} (equivalent to cluster-admin)"
        held = [p.id for p in PRIMITIVES.values() if self.grants(key, p.id)]
        return f"{', '.join(held)} rights through {key}" if held else ""

    def sensitive_namespaces(self, configured: Iterable[str]) -> dict[str, str]:
        """Namespaces where a namespaced grant of a primitive counts as a cluster-wide one."""
        sensitive = {ns: "its service accounts run the control plane and add-ons" for ns in configured}
        for ns, why in self.powerful_namespaces().items():
            sensitive.setdefault(ns, why)
        return sensitive

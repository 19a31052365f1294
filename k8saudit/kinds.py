"""The resource kinds the collector reads: one table, used by the collector, the inventory,
the least-privilege ClusterRole (`k8saudit rbac`) and the checks' declared inputs.

Each kind lists the API group/versions it may be served under, newest first; the collector lists
it under the first one the server serves, so older and newer servers both work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GroupVersion:
    group: str  # "" for the core group
    version: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


@dataclass(frozen=True, slots=True)
class ResourceKind:
    key: str  # stable inventory key, e.g. "pods", "velero.schedules"
    kind: str  # the object's Kind, e.g. "Pod"
    resource: str  # the plural resource name in the URL, e.g. "pods"
    versions: tuple[GroupVersion, ...]  # candidates, preferred first
    namespaced: bool = True
    metadata_only: bool = False  # listed as PartialObjectMetadataList (Secrets: never the values)
    custom: bool = False  # a CRD: "not served" is a normal answer, meaning "not installed"

    @property
    def group(self) -> str:
        return self.versions[0].group


def _gv(*pairs: str) -> tuple[GroupVersion, ...]:
    """`_gv("apps/v1", "v1")` -> GroupVersions; a bare version is the core group."""
    out = []
    for pair in pairs:
        group, _, version = pair.rpartition("/")
        out.append(GroupVersion(group, version))
    return tuple(out)


KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("nodes", "Node", "nodes", _gv("v1"), namespaced=False),
    ResourceKind("namespaces", "Namespace", "namespaces", _gv("v1"), namespaced=False),
    ResourceKind("pods", "Pod", "pods", _gv("v1")),
    ResourceKind("services", "Service", "services", _gv("v1")),
    ResourceKind("endpoints", "Endpoints", "endpoints", _gv("v1")),
    ResourceKind("configmaps", "ConfigMap", "configmaps", _gv("v1")),
    ResourceKind("serviceaccounts", "ServiceAccount", "serviceaccounts", _gv("v1")),
    ResourceKind("secrets", "Secret", "secrets", _gv("v1"), metadata_only=True),
    ResourceKind("resourcequotas", "ResourceQuota", "resourcequotas", _gv("v1")),
    ResourceKind("limitranges", "LimitRange", "limitranges", _gv("v1")),
    ResourceKind("deployments", "Deployment", "deployments", _gv("apps/v1")),
    ResourceKind("daemonsets", "DaemonSet", "daemonsets", _gv("apps/v1")),
    ResourceKind("statefulsets", "StatefulSet", "statefulsets", _gv("apps/v1")),
    ResourceKind("replicasets", "ReplicaSet", "replicasets", _gv("apps/v1")),
    ResourceKind("jobs", "Job", "jobs", _gv("batch/v1")),
    ResourceKind("cronjobs", "CronJob", "cronjobs", _gv("batch/v1", "batch/v1beta1")),
    ResourceKind(
        "ingresses",
        "Ingress",
        "ingresses",
        _gv("networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"),
    ),
    ResourceKind(
        "ingressclasses",
        "IngressClass",
        "ingressclasses",
        _gv("networking.k8s.io/v1", "networking.k8s.io/v1beta1"),
        namespaced=False,
    ),
    ResourceKind("networkpolicies", "NetworkPolicy", "networkpolicies", _gv("networking.k8s.io/v1")),
    ResourceKind(
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        _gv("policy/v1", "policy/v1beta1"),
    ),
    ResourceKind(
        "priorityclasses",
        "PriorityClass",
        "priorityclasses",
        _gv("scheduling.k8s.io/v1"),
        namespaced=False,
    ),
    ResourceKind(
        "clusterroles",
        "ClusterRole",
        "clusterroles",
        _gv("rbac.authorization.k8s.io/v1"),
        namespaced=False,
    ),
    ResourceKind(
        "clusterrolebindings",
        "ClusterRoleBinding",
        "clusterrolebindings",
        _gv("rbac.authorization.k8s.io/v1"),
        namespaced=False,
    ),
    ResourceKind("roles", "Role", "roles", _gv("rbac.authorization.k8s.io/v1")),
    ResourceKind("rolebindings", "RoleBinding", "rolebindings", _gv("rbac.authorization.k8s.io/v1")),
    ResourceKind(
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        _gv("admissionregistration.k8s.io/v1"),
        namespaced=False,
    ),
    ResourceKind(
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        _gv("admissionregistration.k8s.io/v1"),
        namespaced=False,
    ),
    ResourceKind(
        "customresourcedefinitions",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        _gv("apiextensions.k8s.io/v1"),
        namespaced=False,
    ),
    # Gateway API: routes through a Gateway reach workloads as an Ingress does (installed as CRDs).
    ResourceKind(
        "gateway.gateways",
        "Gateway",
        "gateways",
        _gv("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"),
        custom=True,
    ),
    ResourceKind(
        "gateway.httproutes",
        "HTTPRoute",
        "httproutes",
        _gv("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"),
        custom=True,
    ),
    ResourceKind(
        "gateway.grpcroutes",
        "GRPCRoute",
        "grpcroutes",
        _gv("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"),
        custom=True,
    ),
    ResourceKind(
        "gateway.tlsroutes",
        "TLSRoute",
        "tlsroutes",
        _gv(
            "gateway.networking.k8s.io/v1",
            "gateway.networking.k8s.io/v1alpha3",
            "gateway.networking.k8s.io/v1alpha2",
        ),
        custom=True,
    ),
    ResourceKind(
        "gateway.tcproutes", "TCPRoute", "tcproutes", _gv("gateway.networking.k8s.io/v1alpha2"), custom=True
    ),
    ResourceKind(
        "gateway.udproutes", "UDPRoute", "udproutes", _gv("gateway.networking.k8s.io/v1alpha2"), custom=True
    ),
    # Listeners added to a Gateway from other namespaces (standard from Gateway API 1.5; before,
    # the experimental XListenerSet): routes attach to them as to the Gateway's own.
    ResourceKind(
        "gateway.listenersets",
        "ListenerSet",
        "listenersets",
        _gv("gateway.networking.k8s.io/v1"),
        custom=True,
    ),
    ResourceKind(
        "gateway.xlistenersets",
        "XListenerSet",
        "xlistenersets",
        _gv("gateway.networking.x-k8s.io/v1alpha1"),
        custom=True,
    ),
    ResourceKind("velero.schedules", "Schedule", "schedules", _gv("velero.io/v1"), custom=True),
    ResourceKind("velero.backups", "Backup", "backups", _gv("velero.io/v1"), custom=True),
    ResourceKind(
        "k3s.etcdsnapshotfiles",
        "ETCDSnapshotFile",
        "etcdsnapshotfiles",
        _gv("k3s.cattle.io/v1"),
        namespaced=False,
        custom=True,
    ),
)

KINDS_BY_KEY: dict[str, ResourceKind] = {k.key: k for k in KINDS}


def kind(key: str) -> ResourceKind:
    """The kind registered under `key`; a KeyError names the typo at import time of a check."""
    return KINDS_BY_KEY[key]

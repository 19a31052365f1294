"""Which kind of cluster this is, from the evidence the API gives away.

Several checks depend on it: etcd backups are the provider's job on EKS/GKE/AKS (so those checks
are not applicable there), while on kubeadm, kops, k3s or RKE2 they are the operator's job.

Evidence, strongest first: the server version string (`-eks-`, `-gke.`, `+k3s`, `+rke2`), the API
server address (`*.eks.amazonaws.com`, `*.azmk8s.io`, …), node labels and provider IDs, and what
runs in kube-system (kops' etcd-manager and kops-controller, kubeadm's static pods and its
`kubeadm-config` ConfigMap). OpenShift's platform namespaces tell who runs it: the ARO operator's
namespace, Red Hat SRE's operators on ROSA and OpenShift Dedicated, or neither (self-managed);
they are the evidence left when nodes cannot be read.

A "managed" verdict is overruled when the control plane is visible (control-plane nodes or API
server/etcd pods): EKS Anywhere and EKS-D carry `-eks-` versions but their etcd is the operator's
to back up. ROSA classic and ARO are the exception: their control-plane nodes are visible and
still run by Red Hat and Microsoft. `Provider.is_openshift` groups OpenShift with ROSA and ARO,
which share its platform namespaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from k8saudit.readers import as_object, labels_of, meta

MANAGED_CONTROL_PLANES = frozenset({"eks", "gke", "aks", "doks", "oke", "lke", "rosa", "aro"})
# OpenShift, self-managed or run by Red Hat (ROSA, OpenShift Dedicated) or Microsoft (ARO): the
# same platform, with its control plane and add-ons in the `openshift-*` namespaces.
OPENSHIFT_DISTRIBUTIONS = frozenset({"openshift", "rosa", "aro"})
OPENSHIFT_PLATFORM_PREFIX = "openshift-"
# Where OLM installs cluster-wide operators by default, from Red Hat's catalogs and community ones.
OPENSHIFT_OPERATOR_NAMESPACES = frozenset({"openshift-operators"})
# ROSA classic and ARO run their control-plane nodes in the customer's cloud account, visible in
# the cluster, but Red Hat and Microsoft SREs operate them (etcd backups included).
_MANAGED_WITH_VISIBLE_CONTROL_PLANE = frozenset({"rosa", "aro"})


@dataclass(frozen=True, slots=True)
class Provider:
    # eks, gke, aks, doks, oke, lke, rosa, aro, k3s, rke2, kops, openshift, kubeadm, unknown
    name: str
    evidence: tuple[str, ...] = field(default=())

    @property
    def managed_control_plane(self) -> bool:
        return self.name in MANAGED_CONTROL_PLANES

    @property
    def is_openshift(self) -> bool:
        return self.name in OPENSHIFT_DISTRIBUTIONS

    def owns_namespace(self, namespace: str) -> bool:
        """Whether the distribution's own operators run what is in `namespace`: OpenShift's
        `openshift-*` namespaces (a prefix it reserves: users cannot request a project named so),
        less the one OLM installs operators from any catalog into. Elsewhere the prefix means
        nothing, and a namespace so named is judged like any other."""
        return (
            self.is_openshift
            and namespace.startswith(OPENSHIFT_PLATFORM_PREFIX)
            and namespace not in OPENSHIFT_OPERATOR_NAMESPACES
        )


_VERSION_MARKERS = (("-eks-", "eks"), ("-gke.", "gke"), ("+k3s", "k3s"), ("+rke2", "rke2"))
_SERVER_MARKERS = (
    (".eks.amazonaws.com", "eks"),
    (".gke.goog", "gke"),
    (".azmk8s.io", "aks"),
    (".aroapp.io", "aro"),
    (".openshiftapps.com", "rosa"),
    (".k8s.ondigitalocean.com", "doks"),
    (".oraclecloud.com", "oke"),
    (".linodelke.net", "lke"),
)
_LABEL_MARKERS = (
    ("eks.amazonaws.com/nodegroup", "eks"),
    ("eks.amazonaws.com/compute-type", "eks"),
    ("alpha.eksctl.io/cluster-name", "eks"),
    ("alpha.eksctl.io/nodegroup-name", "eks"),
    ("cloud.google.com/gke-nodepool", "gke"),
    ("cloud.google.com/gke-os-distribution", "gke"),
    ("kubernetes.azure.com/cluster", "aks"),
    ("kubernetes.azure.com/agentpool", "aks"),
    ("doks.digitalocean.com/node-id", "doks"),
    ("lke.linode.com/pool-id", "lke"),
    ("kops.k8s.io/instancegroup", "kops"),
    ("node.openshift.io/os_id", "openshift"),
    ("hypershift.openshift.io/nodePool", "openshift"),  # hosted control planes (ROSA HCP, ARO HCP)
    ("node.k3s.io/hostname", "k3s"),
    ("rke2.io/hostname", "rke2"),
)
# Substrings of spec.providerID that only the managed offering produces.
_PROVIDER_ID_MARKERS = (("/virtualMachineScaleSets/aks-", "aks"), ("/gke-", "gke"))
# On an OpenShift node, the Azure resource group ARO creates for the cluster (`aro-<id>`, or
# `aro-hcp-<name>-<uuid>` for ARO with hosted control planes) when its API has a custom domain.
_ARO_RESOURCE_GROUP = re.compile(r"^azure:///subscriptions/[^/]+/resourcegroups/aro-", re.IGNORECASE)
# Namespaces of the operators that run a managed OpenShift, most specific first: ARO's own
# operator (ARO may also run Red Hat's upgrade operator), then those Red Hat SRE installs on ROSA
# and OpenShift Dedicated, then the namespace every OpenShift 4 cluster has.
_OPENSHIFT_NAMESPACES = (
    ("openshift-azure-operator", "aro", "the ARO operator's namespace"),
    ("openshift-ocm-agent-operator", "rosa", "Red Hat SRE's operators (ROSA or OpenShift Dedicated)"),
    ("openshift-managed-upgrade-operator", "rosa", "Red Hat SRE's operators (ROSA or OpenShift Dedicated)"),
    ("openshift-config", "openshift", "OpenShift's configuration namespace"),
)
_CONTROL_PLANE_COMPONENTS = frozenset({"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler"})
_CONTROL_PLANE_ROLES = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def detect_provider(
    version: dict[str, Any],
    server: str,
    nodes: Iterable[dict[str, Any]],
    pods: Iterable[dict[str, Any]],
    configmaps: Iterable[dict[str, Any]] = (),
    namespaces: Iterable[dict[str, Any]] = (),
) -> Provider:
    """`pods` and `configmaps` are those of kube-system (others are ignored)."""
    nodes = list(nodes)
    kube_system_pods = [p for p in pods if meta(p).get("namespace") == "kube-system"]
    openshift = _from_namespaces(namespaces)
    found = _from_version_or_server(version, server) or _from_nodes(nodes)
    if found is None:
        found = openshift
    elif found.name == "openshift" and openshift and openshift.name != "openshift":
        # A node label tells OpenShift, not who runs it.
        found = Provider(openshift.name, (*found.evidence, *openshift.evidence))
    visible = _visible_control_plane(nodes, kube_system_pods)
    if (
        found
        and found.managed_control_plane
        and visible
        and found.name not in _MANAGED_WITH_VISIBLE_CONTROL_PLANE
    ):
        underlying = _from_kube_system(kube_system_pods, configmaps)
        why = f"{found.evidence[0]}, but {visible}: the control plane is self-managed (like EKS Anywhere)"
        return Provider(underlying.name if underlying else "unknown", (why,))
    if found:
        return found
    # An unrecognised distribution whose control plane is visible is still known to be self-managed.
    return _from_kube_system(kube_system_pods, configmaps) or Provider(
        "unknown", (visible,) if visible else ()
    )


def _from_version_or_server(version: dict[str, Any], server: str) -> Provider | None:
    git_version = str(version.get("gitVersion", ""))
    for marker, name in _VERSION_MARKERS:
        if marker in git_version:
            return Provider(name, (f"server version {git_version}",))
    host = server.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    for marker, name in _SERVER_MARKERS:
        if host.endswith(marker) or f"{marker}." in host:
            return Provider(name, (f"API server address ends in {marker}",))
    return None


def _from_nodes(nodes: list[dict[str, Any]]) -> Provider | None:
    for node in nodes:
        metadata = meta(node)
        name = metadata.get("name", "?")
        labels = as_object(metadata.get("labels"))
        for label, provider in _LABEL_MARKERS:
            if label in labels:
                return _refine_openshift(Provider(provider, (f"node {name} has label {label}",)), node)
        kubelet = str(as_object(as_object(node.get("status")).get("nodeInfo")).get("kubeletVersion", ""))
        for marker, provider in _VERSION_MARKERS:
            if marker in kubelet:
                return Provider(provider, (f"kubelet version {kubelet}",))
        provider_id = str(as_object(node.get("spec")).get("providerID", ""))
        for marker, provider in _PROVIDER_ID_MARKERS:
            if marker in provider_id:
                return Provider(provider, (f"node {name} has providerID {provider_id}",))
    return None


def _refine_openshift(found: Provider, node: dict[str, Any]) -> Provider:
    """OpenShift told by a node label is ARO when the node is in an ARO-made resource group."""
    provider_id = str(as_object(node.get("spec")).get("providerID", ""))
    if found.name != "openshift" or not _ARO_RESOURCE_GROUP.match(provider_id):
        return found
    return Provider("aro", (*found.evidence, f"in an ARO resource group (providerID {provider_id})"))


def _from_namespaces(namespaces: Iterable[dict[str, Any]]) -> Provider | None:
    names = {name for namespace in namespaces if isinstance(name := meta(namespace).get("name"), str)}
    for name, provider, what in _OPENSHIFT_NAMESPACES:
        if name in names:
            return Provider(provider, (f"namespace {name} exists ({what})",))
    return None


def _component(pod: dict[str, Any]) -> str:
    labels = labels_of(pod)
    return str(labels.get("component") or labels.get("k8s-app") or "")


def _visible_control_plane(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> str:
    """Why the control plane is evidently not hidden by a provider ("" when it is)."""
    for pod in pods:
        component = _component(pod)
        if component in _CONTROL_PLANE_COMPONENTS or component.startswith("etcd-manager"):
            return f"control-plane pod kube-system/{meta(pod).get('name', '?')} is visible"
    for node in nodes:
        labels = labels_of(node)
        for role in _CONTROL_PLANE_ROLES:
            if role in labels:
                return f"node {meta(node).get('name', '?')} is a control-plane node"
    return ""


def _from_kube_system(pods: list[dict[str, Any]], configmaps: Iterable[dict[str, Any]]) -> Provider | None:
    for pod in pods:
        component = _component(pod)
        if component.startswith("etcd-manager") or component == "kops-controller":
            return Provider("kops", (f"pod kube-system/{meta(pod).get('name', '?')} ({component})",))
    for pod in pods:
        if labels_of(pod).get("component") == "kube-apiserver":
            return Provider("kubeadm", (f"static pod kube-system/{meta(pod).get('name', '?')}",))
    for configmap in configmaps:
        metadata = meta(configmap)
        if metadata.get("namespace") == "kube-system" and metadata.get("name") == "kubeadm-config":
            return Provider("kubeadm", ("ConfigMap kube-system/kubeadm-config",))
    return None

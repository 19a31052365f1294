"""Which kind of cluster this is, from the evidence the API gives away.

Several checks depend on it: etcd backups are the provider's job on EKS/GKE/AKS (so those checks
are not applicable there), while on kubeadm, kops, k3s or RKE2 they are the operator's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MANAGED_CONTROL_PLANES = frozenset({"eks", "gke", "aks", "doks", "oke", "lke"})


@dataclass(frozen=True, slots=True)
class Provider:
    name: str  # eks, gke, aks, doks, oke, lke, k3s, rke2, kops, openshift, kubeadm, unknown
    evidence: tuple[str, ...] = field(default=())

    @property
    def managed_control_plane(self) -> bool:
        return self.name in MANAGED_CONTROL_PLANES


_VERSION_MARKERS = (("-eks-", "eks"), ("-gke.", "gke"), ("+k3s", "k3s"), ("+rke2", "rke2"))
_SERVER_MARKERS = (
    (".eks.amazonaws.com", "eks"),
    (".azmk8s.io", "aks"),
    (".k8s.ondigitalocean.com", "doks"),
    (".oraclecloud.com", "oke"),
    (".linodelke.net", "lke"),
)
_LABEL_MARKERS = (
    ("eks.amazonaws.com/nodegroup", "eks"),
    ("alpha.eksctl.io/cluster-name", "eks"),
    ("cloud.google.com/gke-nodepool", "gke"),
    ("kubernetes.azure.com/cluster", "aks"),
    ("doks.digitalocean.com/node-id", "doks"),
    ("lke.linode.com/pool-id", "lke"),
    ("kops.k8s.io/instancegroup", "kops"),
    ("node.openshift.io/os_id", "openshift"),
    ("node.k3s.io/hostname", "k3s"),
    ("rke2.io/hostname", "rke2"),
)


def detect_provider(
    version: dict[str, Any], server: str, nodes: Iterable[dict[str, Any]], pods: Iterable[dict[str, Any]]
) -> Provider:
    git_version = str(version.get("gitVersion", ""))
    for marker, name in _VERSION_MARKERS:
        if marker in git_version:
            return Provider(name, (f"server version {git_version}",))
    for marker, name in _SERVER_MARKERS:
        if marker in server:
            return Provider(name, (f"API server address ends in {marker}",))
    for node in nodes:
        metadata = _dict(node.get("metadata"))
        labels = _dict(metadata.get("labels"))
        for label, name in _LABEL_MARKERS:
            if label in labels:
                return Provider(name, (f"node {metadata.get('name', '?')} has label {label}",))
        kubelet = str(_dict(_dict(node.get("status")).get("nodeInfo")).get("kubeletVersion", ""))
        for marker, name in _VERSION_MARKERS:
            if marker in kubelet:
                return Provider(name, (f"kubelet version {kubelet}",))
    for pod in pods:
        metadata = _dict(pod.get("metadata"))
        if (
            metadata.get("namespace") == "kube-system"
            and _dict(metadata.get("labels")).get("component") == "kube-apiserver"
        ):
            return Provider("kubeadm", (f"static pod kube-system/{metadata.get('name', '?')}",))
    return Provider("unknown", ())


def _dict(value: object) -> dict[str, Any]:
    """Cluster data where a mapping belongs, or an empty one: evidence is read, never trusted."""
    return value if isinstance(value, dict) else {}

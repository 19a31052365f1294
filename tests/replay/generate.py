"""Generate large, realistic clusters from the recorded objects.

Every generated object is a recorded item used as a template — ``managedFields`` included — with
names, uids, labels, owner references and node assignment changed:

- nodes from the two recorded nodes (the first node is the control-plane one);
- per namespace (recorded ``shop``): a ServiceAccount ``deployer``, a Secret ``db`` (full, with
  data), a Role and a RoleBinding; every tenth namespace also binds its deployer to
  ``cluster-admin`` with a ClusterRoleBinding (recorded ``shop-deployer-admin``);
- Deployments (recorded ``web`` and ``coredns``) -> ReplicaSets (built as kube-controller-manager
  writes them) -> Pods (recorded pod defaults on the Deployment's pod template), each with a
  Service selecting it and a ConfigMap. Each pod also gets what a real server adds and the
  recorded pod lacks: its own service-account token volume (mounted in every container) and,
  once scheduled, its own IPs, start time, condition times and container IDs.

Output is deterministic for a seed. Sub-structures that are identical for many objects (container
fields, tolerations, labels, managedFields of one ReplicaSet's pods) are shared between the
generated dicts, which keeps 100k pods cheap: treat the result as read-only (``ReplayServer``
serializes it on load; use ``copy.deepcopy`` before editing one object).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .recorded import Recordings, load_recordings
from .store import Collection, gc_paused

NODES: Collection = ("", "v1", "nodes")
NAMESPACES: Collection = ("", "v1", "namespaces")
PODS: Collection = ("", "v1", "pods")
SERVICES: Collection = ("", "v1", "services")
CONFIGMAPS: Collection = ("", "v1", "configmaps")
SECRETS: Collection = ("", "v1", "secrets")
SERVICEACCOUNTS: Collection = ("", "v1", "serviceaccounts")
DEPLOYMENTS: Collection = ("apps", "v1", "deployments")
REPLICASETS: Collection = ("apps", "v1", "replicasets")
ROLES: Collection = ("rbac.authorization.k8s.io", "v1", "roles")
ROLEBINDINGS: Collection = ("rbac.authorization.k8s.io", "v1", "rolebindings")
CLUSTERROLEBINDINGS: Collection = ("rbac.authorization.k8s.io", "v1", "clusterrolebindings")

# The alphabet Kubernetes uses for generated name suffixes and pod-template-hash values.
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_ZONES = ("eu-central-1a", "eu-central-1b", "eu-central-1c")
_RBAC = "rbac.authorization.k8s.io"


def _items(rec: Recordings, file: str) -> list[dict[str, Any]]:
    return rec[file].body_copy()["items"]


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["metadata"]["name"] == name)


@dataclass
class _Templates:
    control_plane_node: dict[str, Any]
    worker_node: dict[str, Any]
    namespace: dict[str, Any]
    pod: dict[str, Any]
    deployments: list[tuple[dict[str, Any], str, str]]  # (deployment, label key, container)
    service_cluster_ip: dict[str, Any]
    service_lb: dict[str, Any]
    configmap: dict[str, Any]
    secret_meta: dict[str, Any]
    serviceaccount: dict[str, Any]
    role: dict[str, Any]
    rolebinding: dict[str, Any]
    clusterrolebinding: dict[str, Any]
    # managedFields of generated pods by container name, shared by all pods of that container.
    pod_managed_base: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _templates(rec: Recordings) -> _Templates:
    nodes = _items(rec, "list_nodes.json")
    deployments = _items(rec, "list_deployments.json")
    services = _items(rec, "list_services.json")
    return _Templates(
        control_plane_node=next(
            n for n in nodes if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]
        ),
        worker_node=next(
            n for n in nodes if "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"]
        ),
        namespace=_by_name(_items(rec, "list_namespaces.json"), "shop"),
        pod=_items(rec, "list_pods.json")[0],
        deployments=[
            (_by_name(deployments, "web"), "app", "web"),
            (_by_name(deployments, "coredns"), "k8s-app", "coredns"),
        ],
        service_cluster_ip=_by_name(services, "kube-dns"),
        service_lb=_by_name(services, "web"),
        configmap=_by_name(_items(rec, "list_configmaps.json"), "coredns"),
        secret_meta=_items(rec, "list_secrets_metadata_only.json")[0]["metadata"],
        serviceaccount=_items(rec, "list_serviceaccounts.json")[0],
        role=_items(rec, "list_roles.json")[-1],
        rolebinding=_items(rec, "list_rolebindings.json")[-1],
        clusterrolebinding=_by_name(_items(rec, "list_clusterrolebindings.json"), "shop-deployer-admin"),
    )


class _Ids:
    """Deterministic uids, resourceVersions and name suffixes."""

    def __init__(self, seed: int, first_resource_version: int) -> None:
        self._rng = random.Random(seed)
        self._rv = first_resource_version

    def uid(self) -> str:
        # A random (version 4, RFC 4122 variant) UUID, formatted without uuid.UUID (faster).
        h = f"{self._rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"

    def rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def suffix(self, length: int) -> str:
        n = self._rng.getrandbits(5 * length)
        chars = []
        for _ in range(length):
            chars.append(_SAFE_ALPHABET[(n & 31) % len(_SAFE_ALPHABET)])
            n >>= 5
        return "".join(chars)

    def hex(self, digits: int) -> str:
        return f"{self._rng.getrandbits(4 * digits):0{digits}x}"

    def choice(self, seq):
        return self._rng.choice(seq)


def _meta(
    template: dict[str, Any], ids: _Ids, name: str, namespace: str | None, **changes: Any
) -> dict[str, Any]:
    meta = dict(template["metadata"])
    meta.update(name=name, uid=ids.uid(), resourceVersion=ids.rv())
    if namespace is None:
        meta.pop("namespace", None)
    else:
        meta["namespace"] = namespace
    meta.update(changes)
    return meta


def _strip_bootstrap(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the RBAC bootstrap annotation/label (kube-apiserver defaults only) and their
    managedFields entries, as if the object had been created by a client."""
    meta = copy.deepcopy(meta)
    meta.pop("annotations", None)
    meta.pop("labels", None)
    for mf in meta.get("managedFields", ()):
        mf["fieldsV1"].pop("f:metadata", None)
        mf["manager"] = "python-httpx"
    return meta


def _node(t: _Templates, ids: _Ids, i: int) -> dict[str, Any]:
    template = t.control_plane_node if i == 0 else t.worker_node
    zone = _ZONES[i % len(_ZONES)]
    octets = (1 + i % 3, (i // 3) // 250 % 250, (i // 3) % 250 + 4)
    hostname = f"ip-10-{octets[0]}-{octets[1]}-{octets[2]}"
    labels = dict(template["metadata"]["labels"])
    labels.update({"kubernetes.io/hostname": hostname, "topology.kubernetes.io/zone": zone})
    spec = dict(template["spec"], providerID=f"aws:///{zone}/i-{0x0A1B2C3D4E5F60000 + i:017x}")
    node_info = dict(template["status"]["nodeInfo"], bootID=f"b{i}", machineID=f"m{i}", systemUUID=f"s{i}")
    status = dict(template["status"], nodeInfo=node_info)
    return {
        "metadata": _meta(template, ids, f"{hostname}.{zone[:-1]}.compute.internal", None, labels=labels),
        "spec": spec,
        "status": status,
    }


@dataclass
class GeneratedCluster:
    """Generated objects by collection; pass ``collections`` to ``ReplayServer.load``."""

    collections: dict[Collection, list[dict[str, Any]]]

    def __getitem__(self, collection: Collection) -> list[dict[str, Any]]:
        return self.collections.get(collection, [])

    def counts(self) -> dict[str, int]:
        return {c[2]: len(items) for c, items in self.collections.items()}


def generate_cluster(
    *,
    nodes: int = 3,
    pods: int = 30,
    namespaces: int | None = None,
    pods_per_deployment: int = 3,
    seed: int = 0,
    rec: Recordings | None = None,
) -> GeneratedCluster:
    """``nodes`` nodes and exactly ``pods`` pods owned by Deployments (via ReplicaSets) spread over
    ``namespaces`` namespaces (default: one per 200 pods), with Services, ConfigMaps, Secrets,
    ServiceAccounts and RBAC objects."""
    if pods < 0 or nodes < 0 or pods_per_deployment < 1:
        raise ValueError("counts must be >= 0 and pods_per_deployment >= 1")
    with gc_paused():
        return _generate_cluster(nodes, pods, namespaces, pods_per_deployment, seed, rec)


def _generate_cluster(
    nodes: int,
    pods: int,
    namespaces: int | None,
    pods_per_deployment: int,
    seed: int,
    rec: Recordings | None,
) -> GeneratedCluster:
    rec = rec or load_recordings()
    t = _templates(rec)
    ids = _Ids(seed, 10_000)
    if namespaces is None:
        namespaces = max(1, math.ceil(pods / 200))
    namespaces = max(1, namespaces)

    out: dict[Collection, list[dict[str, Any]]] = {
        c: []
        for c in (
            NODES, NAMESPACES, SERVICEACCOUNTS, SECRETS, ROLES, ROLEBINDINGS, CLUSTERROLEBINDINGS,
            DEPLOYMENTS, REPLICASETS, PODS, SERVICES, CONFIGMAPS,
        )
    }  # fmt: skip
    out[NODES] = [_node(t, ids, i) for i in range(nodes)]
    node_names = [n["metadata"]["name"] for n in out[NODES]]

    ns_names = [f"team-{i:04d}" for i in range(namespaces)]
    for i, ns in enumerate(ns_names):
        _namespace_objects(t, ids, out, ns, i)

    deployments = math.ceil(pods / pods_per_deployment) if pods else 0
    remaining = pods
    pick_node: Callable[[int], str | None] = (
        (lambda k: node_names[k % len(node_names)]) if node_names else (lambda k: None)
    )
    pod_counter = 0
    for d in range(deployments):
        replicas = min(pods_per_deployment, remaining)
        remaining -= replicas
        ns = ns_names[d % namespaces]
        variant = d % 4
        _workload(t, ids, out, ns, f"app-{d:05d}", variant, replicas, pick_node, pod_counter)
        pod_counter += replicas
    return GeneratedCluster(out)


def _namespace_objects(
    t: _Templates, ids: _Ids, out: dict[Collection, list[dict[str, Any]]], ns: str, i: int
) -> None:
    labels = {"kubernetes.io/metadata.name": ns, "team": f"team-{i % 50:02d}"}
    out[NAMESPACES].append(
        {
            "metadata": _meta(t.namespace, ids, ns, None, labels=labels),
            "spec": t.namespace["spec"],
            "status": t.namespace["status"],
        }
    )
    out[SERVICEACCOUNTS].append({"metadata": _meta(t.serviceaccount, ids, "deployer", ns)})
    out[SECRETS].append(
        {
            "data": {"password": "cmVwbGF5LWdlbmVyYXRlZC1zZWNyZXQ="},
            "metadata": _meta({"metadata": t.secret_meta}, ids, "db", ns),
            "type": "Opaque",
        }
    )
    role_meta = _strip_bootstrap(t.role["metadata"])
    out[ROLES].append(
        {
            "metadata": _meta({"metadata": role_meta}, ids, "app-reader", ns),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps", "pods"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        }
    )
    rb_meta = _strip_bootstrap(t.rolebinding["metadata"])
    out[ROLEBINDINGS].append(
        {
            "metadata": _meta({"metadata": rb_meta}, ids, "deployer-app-reader", ns),
            "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": "app-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}],
        }
    )
    if i % 10 == 0:
        out[CLUSTERROLEBINDINGS].append(
            {
                "metadata": _meta(t.clusterrolebinding, ids, f"{ns}-deployer-admin", None),
                "roleRef": t.clusterrolebinding["roleRef"],
                "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}],
            }
        )


def _owner(kind: str, obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": kind,
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
    }


def _workload(
    t: _Templates,
    ids: _Ids,
    out: dict[Collection, list[dict[str, Any]]],
    ns: str,
    name: str,
    variant: int,
    replicas: int,
    pick_node: Callable[[int], str | None],
    first_pod: int,
) -> None:
    # Variants: 0, 2 -> recorded "web" deployment; 1 -> recorded "coredns"; 3 -> "web" with the
    # recorded pod's hardened container (securityContext set).
    template, label_key, container_name = t.deployments[1 if variant == 1 else 0]
    pod_template_spec = dict(template["spec"]["template"]["spec"])
    if variant == 3:
        pod_template_spec["containers"] = t.pod["spec"]["containers"]
    selector = {label_key: name}
    dep_spec = dict(template["spec"])
    dep_spec.update(
        replicas=replicas,
        selector={"matchLabels": selector},
        template={
            "metadata": {"creationTimestamp": None, "labels": selector},
            "spec": pod_template_spec,
        },
    )
    dep_meta = _meta(template, ids, name, ns)
    if "labels" in dep_meta:
        dep_meta["labels"] = dict(selector)
    deployment = {"metadata": dep_meta, "spec": dep_spec, "status": template["status"]}
    out[DEPLOYMENTS].append(deployment)

    pod_hash = ids.suffix(10)
    rs_labels = {label_key: name, "pod-template-hash": pod_hash}
    rs_name = f"{name}-{pod_hash}"
    rs_meta = {
        "annotations": {
            "deployment.kubernetes.io/desired-replicas": str(replicas),
            "deployment.kubernetes.io/max-replicas": str(replicas + math.ceil(replicas / 4)),
            "deployment.kubernetes.io/revision": "1",
        },
        "creationTimestamp": dep_meta["creationTimestamp"],
        "generation": 1,
        "labels": rs_labels,
        "managedFields": _rs_managed_fields(dep_meta, label_key, deployment),
        "name": rs_name,
        "namespace": ns,
        "ownerReferences": [_owner("Deployment", deployment, "apps/v1")],
        "resourceVersion": ids.rv(),
        "uid": ids.uid(),
    }
    replicaset = {
        "metadata": rs_meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": rs_labels},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": rs_labels},
                "spec": pod_template_spec,
            },
        },
        "status": {
            "availableReplicas": replicas,
            "fullyLabeledReplicas": replicas,
            "observedGeneration": 1,
            "readyReplicas": replicas,
            "replicas": replicas,
        },
    }
    out[REPLICASETS].append(replicaset)

    # Pods: the recorded pod's defaulted fields on top of the Deployment's pod template.
    pod_spec_base = dict(t.pod["spec"])
    pod_spec_base.update(pod_template_spec)
    pod_status = dict(t.pod["status"])
    pod_status["containerStatuses"] = [
        dict(t.pod["status"]["containerStatuses"][0], name=c["name"], image=c["image"])
        for c in pod_template_spec["containers"]
    ]
    owner = [_owner("ReplicaSet", replicaset, "apps/v1")]
    pod_managed = _pod_managed_fields(t, label_key, container_name, replicaset)
    for k in range(replicas):
        meta = {
            "creationTimestamp": t.pod["metadata"]["creationTimestamp"],
            "generateName": f"{rs_name}-",
            "labels": rs_labels,
            "managedFields": pod_managed,
            "name": f"{rs_name}-{ids.suffix(5)}",
            "namespace": ns,
            "ownerReferences": owner,
            "resourceVersion": ids.rv(),
            "uid": ids.uid(),
        }
        spec = _with_token_volume(pod_spec_base, f"kube-api-access-{ids.suffix(5)}")
        node = pick_node(first_pod + k)
        if node is None:
            spec.pop("nodeName", None)
            status = pod_status
        else:
            spec["nodeName"] = node
            status = _running_status(pod_status, ids, node, first_pod + k)
        out[PODS].append({"metadata": meta, "spec": spec, "status": status})

    svc_template = t.service_lb if variant == 2 else t.service_cluster_ip
    index = len(out[SERVICES])
    cluster_ip = f"10.96.{1 + index // 250 % 250}.{index % 250 + 2}"
    svc_spec = dict(svc_template["spec"], selector=selector, clusterIP=cluster_ip, clusterIPs=[cluster_ip])
    if variant == 2:
        svc_spec["ports"] = [dict(svc_template["spec"]["ports"][0], nodePort=30000 + index % 2768)]
    svc_meta = _meta(svc_template, ids, name, ns)
    if "labels" in svc_meta:
        svc_meta["labels"] = dict(selector)
    out[SERVICES].append({"metadata": svc_meta, "spec": svc_spec, "status": svc_template["status"]})

    cm_meta = _meta(t.configmap, ids, f"{name}-config", ns)
    out[CONFIGMAPS].append({"data": {"Corefile": t.configmap["data"]["Corefile"]}, "metadata": cm_meta})


# What the ServiceAccount admission plugin adds to every pod (Kubernetes >= 1.22): a projected
# token volume with a random name, mounted in each container. The recorded pod lacks it, but
# real pods carry it, and it makes sibling pods' containers differ.
_TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_TOKEN_PROJECTION = {
    "defaultMode": 420,
    "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
        {
            "downwardAPI": {
                "items": [
                    {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}
                ]
            }
        },
    ],
}
_POD_CONDITIONS = ("Initialized", "Ready", "ContainersReady", "PodScheduled")
_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


def _with_token_volume(spec: dict[str, Any], volume: str) -> dict[str, Any]:
    mount = {"mountPath": _TOKEN_MOUNT_PATH, "name": volume, "readOnly": True}
    return dict(
        spec,
        containers=[dict(c, volumeMounts=[*c.get("volumeMounts", ()), mount]) for c in spec["containers"]],
        volumes=[*spec.get("volumes", ()), {"name": volume, "projected": _TOKEN_PROJECTION}],
    )


def _running_status(base: dict[str, Any], ids: _Ids, node: str, n: int) -> dict[str, Any]:
    """A running pod's status as the kubelet reports it: its own addresses, start time,
    condition times and container IDs (what makes sibling pods' statuses differ)."""
    started = (_EPOCH + timedelta(seconds=37 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pod_ip = f"10.{128 + n // 65536 % 128}.{n // 256 % 256}.{n % 256}"
    return dict(
        base,
        conditions=[
            {"lastProbeTime": None, "lastTransitionTime": started, "status": "True", "type": kind}
            for kind in _POD_CONDITIONS
        ],
        containerStatuses=[
            dict(
                status,
                containerID=f"containerd://{ids.hex(64)}",
                started=True,
                state={"running": {"startedAt": started}},
            )
            for status in base["containerStatuses"]
        ],
        hostIP=_node_ip(node),
        podIP=pod_ip,
        podIPs=[{"ip": pod_ip}],
        startTime=started,
    )


def _node_ip(node: str) -> str:
    """ip-10-1-0-4.eu-central-1.compute.internal -> 10.1.0.4"""
    return node.split(".", 1)[0].removeprefix("ip-").replace("-", ".")


def _rs_managed_fields(dep_meta: dict[str, Any], label_key: str, deployment: dict[str, Any]):
    uid = deployment["metadata"]["uid"]
    time = dep_meta["creationTimestamp"]
    labels = {".": {}, f"f:{label_key}": {}, "f:pod-template-hash": {}}
    return [
        {
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": {
                        ".": {},
                        "f:deployment.kubernetes.io/desired-replicas": {},
                        "f:deployment.kubernetes.io/max-replicas": {},
                        "f:deployment.kubernetes.io/revision": {},
                    },
                    "f:labels": labels,
                    "f:ownerReferences": {".": {}, f'k:{{"uid":"{uid}"}}': {}},
                },
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {"f:metadata": {"f:labels": labels}, "f:spec": {}},
                },
            },
            "manager": "kube-controller-manager",
            "operation": "Update",
            "time": time,
        },
        {
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:status": {
                    "f:availableReplicas": {},
                    "f:fullyLabeledReplicas": {},
                    "f:observedGeneration": {},
                    "f:readyReplicas": {},
                    "f:replicas": {},
                }
            },
            "manager": "kube-controller-manager",
            "operation": "Update",
            "subresource": "status",
            "time": time,
        },
    ]


def _pod_managed_fields(
    t: _Templates, label_key: str, container: str, replicaset: dict[str, Any]
) -> list[dict[str, Any]]:
    """The recorded pod's managedFields, rewritten for a pod created by a ReplicaSet."""
    pod = t.pod
    base = t.pod_managed_base.get(container)
    if base is None:
        base = copy.deepcopy(pod["metadata"]["managedFields"])
        containers = base[0]["fieldsV1"]["f:spec"]["f:containers"]
        (old_key,) = containers
        containers[f'k:{{"name":"{container}"}}'] = containers.pop(old_key)
        for entry in base:
            entry["manager"] = "kube-controller-manager" if "subresource" not in entry else "kubelet"
        t.pod_managed_base[container] = base
    first = dict(base[0])
    first["fieldsV1"] = dict(
        first["fieldsV1"],
        **{
            "f:metadata": {
                "f:generateName": {},
                "f:labels": {".": {}, f"f:{label_key}": {}, "f:pod-template-hash": {}},
                "f:ownerReferences": {
                    ".": {},
                    f'k:{{"uid":"{replicaset["metadata"]["uid"]}"}}': {},
                },
            }
        },
    )
    return [first, *base[1:]]

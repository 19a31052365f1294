"""Small builders for Kubernetes objects in the shapes a real API server lists them.

Items of a real list carry no `kind`/`apiVersion` (the list does), so neither do these.
Every builder takes `**extra` merged into the top level (or `spec=`/`metadata` overrides) so a
fixture states only what matters to its check.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from k8saudit.inventory import Inventory

Obj = dict[str, Any]

CREATED = "2026-01-10T08:00:00Z"


def uid_for(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def metadata(
    name: str,
    namespace: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: Obj | None = None,
    owner_kind: str | None = None,
    kind: str = "",
) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": uid_for(kind, namespace or "", name),
        "resourceVersion": "1",
        "creationTimestamp": CREATED,
    }
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner_kind or "ReplicaSet",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return meta


def _merge(obj: Obj, extra: Obj) -> Obj:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(obj.get(key), dict):
            _merge(obj[key], value)
        else:
            obj[key] = value
    return obj


# -- core ---------------------------------------------------------------------------------------


def node(
    name: str,
    *,
    kubelet: str = "v1.29.3",
    kube_proxy: str | None = None,
    instance_type: str | None = "m5.large",
    labels: dict[str, str] | None = None,
    control_plane: bool = False,
    ready: bool = True,
    conditions: dict[str, str] | None = None,
    kernel: str = "6.1.0-18-cloud-amd64",
    os_image: str = "Debian GNU/Linux 12 (bookworm)",
    runtime: str = "containerd://1.7.13",
    taints: list[Obj] | None = None,
    provider_id: str | None = None,
    **extra: Any,
) -> Obj:
    node_labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if instance_type:
        node_labels["node.kubernetes.io/instance-type"] = instance_type
    if control_plane:
        node_labels["node-role.kubernetes.io/control-plane"] = ""
    node_labels.update(labels or {})
    condition_status = {
        "Ready": "True" if ready else "False",
        "MemoryPressure": "False",
        "DiskPressure": "False",
        "PIDPressure": "False",
    }
    condition_status.update(conditions or {})
    spec: Obj = {}
    if control_plane and taints is None:
        spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    if taints is not None:
        spec["taints"] = taints
    if provider_id:
        spec["providerID"] = provider_id
    obj: Obj = {
        "metadata": metadata(name, labels=node_labels, kind="Node"),
        "spec": spec,
        "status": {
            "conditions": [
                {"type": t, "status": s, "reason": "", "message": ""} for t, s in condition_status.items()
            ],
            "nodeInfo": {
                "kubeletVersion": kubelet,
                "kubeProxyVersion": kube_proxy if kube_proxy is not None else kubelet,
                "kernelVersion": kernel,
                "osImage": os_image,
                "containerRuntimeVersion": runtime,
                "architecture": "amd64",
                "operatingSystem": "linux",
            },
        },
    }
    return _merge(obj, extra)


def namespace(name: str, *, labels: dict[str, str] | None = None, **extra: Any) -> Obj:
    ns_labels = {"kubernetes.io/metadata.name": name, **(labels or {})}
    return _merge(
        {
            "metadata": metadata(name, labels=ns_labels, kind="Namespace"),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        },
        extra,
    )


def container(
    name: str = "app",
    image: str = "registry.example.com/app:1.0.0",
    *,
    cpu_limit: str | None = None,
    memory_limit: str | None = "256Mi",
    cpu_request: str | None = "100m",
    memory_request: str | None = "128Mi",
    ports: list[int] | None = None,
    readiness: bool = True,
    liveness: bool = False,
    security_context: Obj | None = None,
    args: list[str] | None = None,
    command: list[str] | None = None,
    env: list[Obj] | None = None,
    **extra: Any,
) -> Obj:
    limits = {k: v for k, v in (("cpu", cpu_limit), ("memory", memory_limit)) if v}
    requests = {k: v for k, v in (("cpu", cpu_request), ("memory", memory_request)) if v}
    c: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            **({"limits": limits} if limits else {}),
            **({"requests": requests} if requests else {}),
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if ports:
        c["ports"] = [{"containerPort": p, "protocol": "TCP"} for p in ports]
    if readiness:
        c["readinessProbe"] = {
            "httpGet": {"path": "/ready", "port": (ports or [8080])[0]},
            "periodSeconds": 10,
        }
    if liveness:
        c["livenessProbe"] = {
            "httpGet": {"path": "/healthz", "port": (ports or [8080])[0]},
            "periodSeconds": 10,
        }
    if security_context is not None:
        c["securityContext"] = security_context
    if args is not None:
        c["args"] = args
    if command is not None:
        c["command"] = command
    if env is not None:
        c["env"] = env
    return _merge(c, extra)


def pod_spec(containers: list[Obj] | None = None, **extra: Any) -> Obj:
    spec: Obj = {
        "containers": containers if containers is not None else [container()],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
    }
    return _merge(spec, extra)


def pod(
    name: str,
    namespace: str = "default",
    *,
    node_name: str | None = "node-1",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    owner: Obj | None = None,
    owner_kind: str = "ReplicaSet",
    ready: bool = True,
    phase: str = "Running",
    spec: Obj | None = None,
    **extra: Any,
) -> Obj:
    podspec = pod_spec(containers, **(spec or {}))
    if node_name:
        podspec["nodeName"] = node_name
    obj: Obj = {
        "metadata": metadata(
            name,
            namespace,
            labels=labels,
            annotations=annotations,
            owner=owner,
            owner_kind=owner_kind,
            kind="Pod",
        ),
        "spec": podspec,
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {"name": c["name"], "image": c["image"], "ready": ready, "restartCount": 0}
                for c in podspec["containers"]
            ],
        },
    }
    return _merge(obj, extra)


def _workload(
    kind: str,
    name: str,
    namespace: str,
    *,
    replicas: int | None,
    labels: dict[str, str] | None,
    annotations: dict[str, str] | None,
    containers: list[Obj] | None,
    spec: Obj | None,
    template_spec: Obj | None,
    status: Obj | None,
) -> Obj:
    match_labels = dict(labels or {"app": name})
    body: Obj = {
        "selector": {"matchLabels": match_labels},
        "template": {
            "metadata": {"labels": match_labels},
            "spec": pod_spec(containers, **(template_spec or {})),
        },
    }
    if replicas is not None:
        body["replicas"] = replicas
    return {
        "metadata": metadata(name, namespace, labels=match_labels, annotations=annotations, kind=kind),
        "spec": _merge(body, spec or {}),
        "status": status or {},
    }


def deployment(
    name: str,
    namespace: str = "default",
    *,
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    spec: Obj | None = None,
    template_spec: Obj | None = None,
    ready: int | None = None,
    **extra: Any,
) -> Obj:
    ready = replicas if ready is None else ready
    status = {
        "replicas": replicas,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "updatedReplicas": replicas,
    }
    obj = _workload(
        "Deployment",
        name,
        namespace,
        replicas=replicas,
        labels=labels,
        annotations=annotations,
        containers=containers,
        spec=spec,
        template_spec=template_spec,
        status=status,
    )
    obj["spec"].setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    )
    return _merge(obj, extra)


def statefulset(
    name: str,
    namespace: str = "default",
    *,
    replicas: int = 3,
    labels: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    spec: Obj | None = None,
    template_spec: Obj | None = None,
    ready: int | None = None,
    **extra: Any,
) -> Obj:
    ready = replicas if ready is None else ready
    status = {"replicas": replicas, "readyReplicas": ready, "currentReplicas": replicas}
    obj = _workload(
        "StatefulSet",
        name,
        namespace,
        replicas=replicas,
        labels=labels,
        annotations=None,
        containers=containers,
        spec=spec,
        template_spec=template_spec,
        status=status,
    )
    obj["spec"].setdefault("serviceName", name)
    return _merge(obj, extra)


def daemonset(
    name: str,
    namespace: str = "kube-system",
    *,
    labels: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    spec: Obj | None = None,
    template_spec: Obj | None = None,
    desired: int = 3,
    ready: int | None = None,
    **extra: Any,
) -> Obj:
    ready = desired if ready is None else ready
    status = {
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": desired,
        "numberReady": ready,
        "numberAvailable": ready,
    }
    obj = _workload(
        "DaemonSet",
        name,
        namespace,
        replicas=None,
        labels=labels,
        annotations=None,
        containers=containers,
        spec=spec,
        template_spec=template_spec,
        status=status,
    )
    return _merge(obj, extra)


def replicaset(
    name: str,
    namespace: str = "default",
    *,
    owner: Obj | None = None,
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    **extra: Any,
) -> Obj:
    obj = _workload(
        "ReplicaSet",
        name,
        namespace,
        replicas=replicas,
        labels=labels,
        annotations=None,
        containers=containers,
        spec=None,
        template_spec=None,
        status={"replicas": replicas, "readyReplicas": replicas},
    )
    if owner is not None:
        obj["metadata"]["ownerReferences"] = metadata(name, namespace, owner=owner, owner_kind="Deployment")[
            "ownerReferences"
        ]
    return _merge(obj, extra)


def job(
    name: str,
    namespace: str = "default",
    *,
    owner: Obj | None = None,
    containers: list[Obj] | None = None,
    succeeded: int = 1,
    completion_time: str | None = "2026-11-20T07:00:00Z",
    template_spec: Obj | None = None,
    spec: Obj | None = None,
    status: Obj | None = None,
    **extra: Any,
) -> Obj:
    tspec = {"restartPolicy": "Never", **(template_spec or {})}
    obj: Obj = {
        "metadata": metadata(name, namespace, kind="Job"),
        "spec": _merge(
            {"backoffLimit": 6, "template": {"metadata": {}, "spec": pod_spec(containers, **tspec)}},
            spec or {},
        ),
        "status": status
        if status is not None
        else {"succeeded": succeeded, **({"completionTime": completion_time} if completion_time else {})},
    }
    if owner is not None:
        ref = metadata(name, namespace, owner=owner, owner_kind="CronJob")["ownerReferences"][0]
        ref["apiVersion"] = "batch/v1"
        obj["metadata"]["ownerReferences"] = [ref]
    return _merge(obj, extra)


def cronjob(
    name: str,
    namespace: str = "default",
    *,
    schedule: str = "0 3 * * *",
    containers: list[Obj] | None = None,
    concurrency_policy: str = "Forbid",
    starting_deadline: int | None = 300,
    active_deadline: int | None = 600,
    suspend: bool = False,
    last_successful: str | None = "2026-11-20T03:00:00Z",
    template_spec: Obj | None = None,
    **extra: Any,
) -> Obj:
    job_spec: Obj = {
        "template": {
            "metadata": {},
            "spec": pod_spec(containers, restartPolicy="OnFailure", **(template_spec or {})),
        }
    }
    if active_deadline is not None:
        job_spec["activeDeadlineSeconds"] = active_deadline
    spec: Obj = {
        "schedule": schedule,
        "concurrencyPolicy": concurrency_policy,
        "suspend": suspend,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {"metadata": {}, "spec": job_spec},
    }
    if starting_deadline is not None:
        spec["startingDeadlineSeconds"] = starting_deadline
    status: Obj = {}
    if last_successful:
        status = {"lastScheduleTime": last_successful, "lastSuccessfulTime": last_successful}
    return _merge(
        {"metadata": metadata(name, namespace, kind="CronJob"), "spec": spec, "status": status}, extra
    )


def service(
    name: str,
    namespace: str = "default",
    *,
    type: str = "ClusterIP",
    selector: dict[str, str] | None = None,
    ports: list[int] | None = None,
    node_ports: list[int] | None = None,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    source_ranges: list[str] | None = None,
    ingress_hostname: str | None = None,
    **extra: Any,
) -> Obj:
    port_list = ports or [80]
    spec_ports = []
    for i, port in enumerate(port_list):
        entry: Obj = {"name": f"p{port}", "port": port, "protocol": "TCP", "targetPort": port}
        if type in ("NodePort", "LoadBalancer"):
            entry["nodePort"] = (
                (node_ports or [])[i] if node_ports and i < len(node_ports) else 30000 + port % 2768
            )
        spec_ports.append(entry)
    spec: Obj = {"type": type, "ports": spec_ports, "clusterIP": "10.96.0.10", "sessionAffinity": "None"}
    if selector is not None:
        spec["selector"] = selector
    else:
        spec["selector"] = {"app": name}
    if source_ranges is not None:
        spec["loadBalancerSourceRanges"] = source_ranges
    status: Obj = {"loadBalancer": {}}
    if type == "LoadBalancer":
        status["loadBalancer"] = {"ingress": [{"hostname": ingress_hostname or f"{name}.elb.example.com"}]}
    return _merge(
        {
            "metadata": metadata(name, namespace, labels=labels, annotations=annotations, kind="Service"),
            "spec": spec,
            "status": status,
        },
        extra,
    )


def endpoints(
    name: str,
    namespace: str = "default",
    *,
    ready_ips: list[str] | None = None,
    not_ready_ips: list[str] | None = None,
    port: int = 443,
    **extra: Any,
) -> Obj:
    subset: Obj = {"ports": [{"port": port, "protocol": "TCP"}]}
    if ready_ips:
        subset["addresses"] = [{"ip": ip} for ip in ready_ips]
    if not_ready_ips:
        subset["notReadyAddresses"] = [{"ip": ip} for ip in not_ready_ips]
    subsets = [subset] if ready_ips or not_ready_ips else []
    return _merge({"metadata": metadata(name, namespace, kind="Endpoints"), "subsets": subsets}, extra)


def configmap(name: str, namespace: str = "default", data: dict[str, str] | None = None, **extra: Any) -> Obj:
    return _merge({"metadata": metadata(name, namespace, kind="ConfigMap"), "data": dict(data or {})}, extra)


def serviceaccount(
    name: str, namespace: str = "default", *, automount: bool | None = None, **extra: Any
) -> Obj:
    obj: Obj = {"metadata": metadata(name, namespace, kind="ServiceAccount")}
    if automount is not None:
        obj["automountServiceAccountToken"] = automount
    return _merge(obj, extra)


def resourcequota(name: str, namespace: str, hard: dict[str, str] | None = None, **extra: Any) -> Obj:
    hard = hard or {"pods": "100"}
    return _merge(
        {
            "metadata": metadata(name, namespace, kind="ResourceQuota"),
            "spec": {"hard": hard},
            "status": {"hard": hard, "used": {}},
        },
        extra,
    )


# -- RBAC ---------------------------------------------------------------------------------------

BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}


def rule(verbs: list[str], resources: list[str], api_groups: list[str] | None = None, **extra: Any) -> Obj:
    return _merge(
        {"apiGroups": api_groups if api_groups is not None else [""], "resources": resources, "verbs": verbs},
        extra,
    )


def clusterrole(
    name: str,
    rules: list[Obj] | None = None,
    *,
    bootstrap: bool = False,
    labels: dict[str, str] | None = None,
    **extra: Any,
) -> Obj:
    all_labels = {**(BOOTSTRAP_LABELS if bootstrap else {}), **(labels or {})}
    return _merge(
        {
            "metadata": metadata(name, labels=all_labels or None, kind="ClusterRole"),
            "rules": list(rules or []),
        },
        extra,
    )


def role(name: str, namespace: str, rules: list[Obj] | None = None, **extra: Any) -> Obj:
    return _merge({"metadata": metadata(name, namespace, kind="Role"), "rules": list(rules or [])}, extra)


def subject(kind: str, name: str, namespace: str | None = None) -> Obj:
    s: Obj = {"kind": kind, "name": name}
    if kind == "ServiceAccount":
        s["namespace"] = namespace or "default"
    else:
        s["apiGroup"] = "rbac.authorization.k8s.io"
    return s


def clusterrolebinding(
    name: str,
    role_name: str,
    subjects: list[Obj],
    *,
    role_kind: str = "ClusterRole",
    bootstrap: bool = False,
    **extra: Any,
) -> Obj:
    return _merge(
        {
            "metadata": metadata(
                name, labels=BOOTSTRAP_LABELS if bootstrap else None, kind="ClusterRoleBinding"
            ),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": subjects,
        },
        extra,
    )


def rolebinding(
    name: str, namespace: str, role_name: str, subjects: list[Obj], *, role_kind: str = "Role", **extra: Any
) -> Obj:
    return _merge(
        {
            "metadata": metadata(name, namespace, kind="RoleBinding"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": subjects,
        },
        extra,
    )


def default_cluster_admin_binding() -> Obj:
    """The binding every cluster has: cluster-admin to system:masters."""
    return clusterrolebinding(
        "cluster-admin", "cluster-admin", [subject("Group", "system:masters")], bootstrap=True
    )


# -- networking, policy, scheduling, admission ---------------------------------------------------


def ingress(
    name: str,
    namespace: str = "default",
    *,
    class_name: str | None = "nginx",
    annotations: dict[str, str] | None = None,
    hosts: list[str] | None = None,
    tls: bool = True,
    backend_service: str = "web",
    **extra: Any,
) -> Obj:
    hosts = hosts or [f"{name}.example.com"]
    spec: Obj = {
        "rules": [
            {
                "host": h,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": backend_service, "port": {"number": 80}}},
                        }
                    ]
                },
            }
            for h in hosts
        ]
    }
    if class_name is not None:
        spec["ingressClassName"] = class_name
    if tls:
        spec["tls"] = [{"hosts": hosts, "secretName": f"{name}-tls"}]
    return _merge(
        {
            "metadata": metadata(name, namespace, annotations=annotations, kind="Ingress"),
            "spec": spec,
            "status": {"loadBalancer": {}},
        },
        extra,
    )


def ingressclass(
    name: str, controller: str = "k8s.io/ingress-nginx", *, default: bool = False, **extra: Any
) -> Obj:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return _merge(
        {
            "metadata": metadata(name, annotations=annotations, kind="IngressClass"),
            "spec": {"controller": controller},
        },
        extra,
    )


def pdb(
    name: str,
    namespace: str,
    selector: dict[str, str],
    *,
    min_available: int | str | None = 1,
    max_unavailable: int | str | None = None,
    **extra: Any,
) -> Obj:
    spec: Obj = {"selector": {"matchLabels": selector}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return _merge(
        {"metadata": metadata(name, namespace, kind="PodDisruptionBudget"), "spec": spec, "status": {}}, extra
    )


def priorityclass(name: str, value: int = 1000, **extra: Any) -> Obj:
    return _merge(
        {
            "metadata": metadata(name, kind="PriorityClass"),
            "value": value,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        extra,
    )


def webhook_configuration(
    name: str,
    *,
    kind: str = "ValidatingWebhookConfiguration",
    service: tuple[str, str] | None = ("policy", "policy-webhook"),
    failure_policy: str = "Fail",
    namespace_selector: Obj | None = None,
    **extra: Any,
) -> Obj:
    client_config: Obj = {"caBundle": "LS0t"}
    if service is not None:
        client_config["service"] = {
            "namespace": service[0],
            "name": service[1],
            "port": 443,
            "path": "/validate",
        }
    else:
        client_config["url"] = "https://webhook.example.com/validate"
    hook: Obj = {
        "name": f"{name}.example.com",
        "clientConfig": client_config,
        "failurePolicy": failure_policy,
        "rules": [
            {
                "apiGroups": ["*"],
                "apiVersions": ["*"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["pods"],
                "scope": "*",
            }
        ],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 10,
        "namespaceSelector": namespace_selector if namespace_selector is not None else {},
    }
    return _merge({"metadata": metadata(name, kind=kind), "webhooks": [hook]}, extra)


def custom_resource(
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    spec: Obj | None = None,
    status: Obj | None = None,
    labels: dict[str, str] | None = None,
    **extra: Any,
) -> Obj:
    return _merge(
        {
            "metadata": metadata(name, namespace, labels=labels, kind=kind),
            "spec": spec or {},
            "status": status or {},
        },
        extra,
    )


# -- inventories ---------------------------------------------------------------------------------


def make_inventory(
    *,
    version: str = "v1.29.3",
    server: str = "https://cluster.example:6443",
    coverage: dict[str, str] | None = None,
    served_api_versions: list[str] | None = None,
    applied_api_versions: dict[str, dict[str, str]] | None = None,
    **objects: list[Obj],
) -> Inventory:
    """An Inventory from objects by inventory key; keys with dots use `__` (velero__schedules)."""
    by_key = {key.replace("__", "."): copy.deepcopy(items) for key, items in objects.items()}
    return Inventory.from_objects(
        by_key,
        version=version,
        server=server,
        coverage=coverage,
        served_api_versions=served_api_versions or (),
        applied_api_versions=applied_api_versions,
    )


# -- workloads with their running pods (ingress and DNS areas) -----------------------------------


def with_pods(deployment: Obj, nodes: list[str], *, suffix: str = "6b7c9d8f5") -> tuple[Obj, list[Obj]]:
    """A Deployment's ReplicaSet and one running pod per entry of `nodes` (repeat a node name to
    stack pods on it), linked by owner references as a real cluster links them."""
    meta = deployment["metadata"]
    namespace = meta.get("namespace", "default")
    labels = dict(deployment["spec"]["template"]["metadata"]["labels"])
    rs = replicaset(
        f"{meta['name']}-{suffix}", namespace, owner=deployment, replicas=len(nodes), labels=labels
    )
    containers = deployment["spec"]["template"]["spec"]["containers"]
    pods = [
        pod(
            f"{rs['metadata']['name']}-{i:05d}",
            namespace,
            node_name=node_name,
            labels=labels,
            owner=rs,
            containers=copy.deepcopy(containers),
        )
        for i, node_name in enumerate(nodes)
    ]
    return rs, pods


# -- bootstrap RBAC: the defaults the API server creates (rules as a v1.24 server lists them) -----

AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-{}"
_EVENTS = rule(["create", "patch", "update"], ["events"], ["", "events.k8s.io"])
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def aggregated_clusterrole(name: str, aggregates: str, *, labels: dict[str, str] | None = None) -> Obj:
    """A ClusterRole whose rules the aggregation controller fills from the roles it selects.

    Listed here with no rules, as a server shows it before the controller has run: the checks
    must resolve the aggregation themselves."""
    return clusterrole(
        name,
        [],
        bootstrap=True,
        labels=labels,
        aggregationRule={
            "clusterRoleSelectors": [{"matchLabels": {AGGREGATE_LABEL.format(aggregates): "true"}}]
        },
    )


def bootstrap_cluster_roles() -> list[Obj]:
    core_ro = ["get", "list", "watch"]
    return [
        clusterrole(
            "cluster-admin",
            [rule(["*"], ["*"], ["*"]), rule(["*"], [], None, nonResourceURLs=["*"])],
            bootstrap=True,
        ),
        aggregated_clusterrole("admin", "admin"),
        aggregated_clusterrole("edit", "edit", labels={AGGREGATE_LABEL.format("admin"): "true"}),
        aggregated_clusterrole("view", "view", labels={AGGREGATE_LABEL.format("edit"): "true"}),
        clusterrole(
            "system:aggregate-to-admin",
            [
                rule(["create"], ["localsubjectaccessreviews"], ["authorization.k8s.io"]),
                rule(
                    [*_WRITE, "get", "list", "watch"],
                    ["rolebindings", "roles"],
                    ["rbac.authorization.k8s.io"],
                ),
            ],
            bootstrap=True,
            labels={AGGREGATE_LABEL.format("admin"): "true"},
        ),
        clusterrole(
            "system:aggregate-to-edit",
            [
                rule(core_ro, ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets"]),
                rule(["impersonate"], ["serviceaccounts"]),
                rule(_WRITE, ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
                rule(
                    _WRITE, ["configmaps", "persistentvolumeclaims", "secrets", "serviceaccounts", "services"]
                ),
                rule(["create"], ["serviceaccounts/token"]),
                rule(_WRITE, ["daemonsets", "deployments", "replicasets", "statefulsets"], ["apps"]),
                rule(_WRITE, ["cronjobs", "jobs"], ["batch"]),
            ],
            bootstrap=True,
            labels={AGGREGATE_LABEL.format("edit"): "true"},
        ),
        clusterrole(
            "system:aggregate-to-view",
            [
                rule(core_ro, ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "services"]),
                rule(core_ro, ["daemonsets", "deployments", "replicasets", "statefulsets"], ["apps"]),
            ],
            bootstrap=True,
            labels={AGGREGATE_LABEL.format("view"): "true"},
        ),
        clusterrole(
            "system:basic-user",
            [
                rule(
                    ["create"],
                    ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    ["authorization.k8s.io"],
                )
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:discovery",
            [
                rule(
                    ["get"],
                    [],
                    None,
                    nonResourceURLs=[
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                        "/healthz",
                        "/livez",
                        "/openapi",
                        "/openapi/*",
                        "/readyz",
                        "/version",
                        "/version/",
                    ],
                )
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:public-info-viewer",
            [
                rule(
                    ["get"],
                    [],
                    None,
                    nonResourceURLs=["/healthz", "/livez", "/readyz", "/version", "/version/"],
                )
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:service-account-issuer-discovery",
            [
                rule(
                    ["get"],
                    [],
                    None,
                    nonResourceURLs=["/.well-known/openid-configuration", "/openid/v1/jwks"],
                )
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:kube-controller-manager",
            [
                _EVENTS,
                rule(["create"], ["secrets", "serviceaccounts"]),
                rule(["get"], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
                rule(["list", "watch"], ["*"], ["*"]),
                rule(["create"], ["serviceaccounts/token"]),
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:kube-scheduler",
            [
                _EVENTS,
                rule(["create"], ["bindings", "pods/binding"]),
                rule(["delete", "get", "list", "watch"], ["pods"]),
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:node",
            [
                rule(["get", "list", "watch"], ["configmaps", "secrets"]),
                rule(["create", "delete"], ["pods"]),
                rule(["create"], ["serviceaccounts/token"]),
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:node-proxier",
            [rule(["list", "watch"], ["endpoints", "services"]), _EVENTS],
            bootstrap=True,
        ),
        clusterrole(
            "system:kubelet-api-admin",
            [rule(["*"], ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/spec", "nodes/stats"])],
            bootstrap=True,
        ),
        clusterrole(
            "system:controller:clusterrole-aggregation-controller",
            [
                rule(
                    ["escalate", "get", "list", "patch", "update", "watch"],
                    ["clusterroles"],
                    ["rbac.authorization.k8s.io"],
                )
            ],
            bootstrap=True,
        ),
        clusterrole(
            "system:controller:daemon-set-controller",
            [rule(["create", "delete", "list", "patch", "watch"], ["pods"]), _EVENTS],
            bootstrap=True,
        ),
        clusterrole(
            "system:controller:namespace-controller",
            [rule(["delete", "deletecollection", "get", "list"], ["*"], ["*"])],
            bootstrap=True,
        ),
        clusterrole(
            "system:controller:generic-garbage-collector",
            [rule(["delete", "get", "list", "patch", "update", "watch"], ["*"], ["*"]), _EVENTS],
            bootstrap=True,
        ),
    ]


def bootstrap_bindings() -> list[Obj]:
    def controller(name: str) -> Obj:
        return clusterrolebinding(
            f"system:controller:{name}",
            f"system:controller:{name}",
            [subject("ServiceAccount", name, "kube-system")],
            bootstrap=True,
        )

    return [
        default_cluster_admin_binding(),
        clusterrolebinding(
            "system:basic-user",
            "system:basic-user",
            [subject("Group", "system:authenticated")],
            bootstrap=True,
        ),
        clusterrolebinding(
            "system:discovery", "system:discovery", [subject("Group", "system:authenticated")], bootstrap=True
        ),
        clusterrolebinding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            [subject("Group", "system:authenticated"), subject("Group", "system:unauthenticated")],
            bootstrap=True,
        ),
        clusterrolebinding(
            "system:service-account-issuer-discovery",
            "system:service-account-issuer-discovery",
            [subject("Group", "system:serviceaccounts")],
            bootstrap=True,
        ),
        clusterrolebinding(
            "system:kube-controller-manager",
            "system:kube-controller-manager",
            [subject("User", "system:kube-controller-manager")],
            bootstrap=True,
        ),
        clusterrolebinding(
            "system:kube-scheduler",
            "system:kube-scheduler",
            [subject("User", "system:kube-scheduler")],
            bootstrap=True,
        ),
        clusterrolebinding("system:node", "system:node", [], bootstrap=True),
        clusterrolebinding(
            "system:node-proxier",
            "system:node-proxier",
            [subject("User", "system:kube-proxy")],
            bootstrap=True,
        ),
        controller("clusterrole-aggregation-controller"),
        controller("daemon-set-controller"),
        controller("namespace-controller"),
        controller("generic-garbage-collector"),
    ]


def bootstrap_rbac() -> dict[str, list[Obj]]:
    """The default RBAC of a fresh cluster, by inventory key (pass to make_inventory with **)."""
    return {
        "clusterroles": bootstrap_cluster_roles(),
        "clusterrolebindings": bootstrap_bindings(),
        "roles": [],
        "rolebindings": [],
    }

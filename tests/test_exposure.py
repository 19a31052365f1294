"""Exposure logic that is easy to get wrong: security-context inheritance, host path matching,
which workloads a Service or Ingress really reaches, how load balancers are guarded, how admin
interfaces and their authentication are recognised, and node agents."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from checks.exposure_index import TEMPLATE_KEYS, ExposureIndex, load_balancer_guard
from checks.podspec import (
    bool_flag,
    flag_values,
    host_mounts,
    parse_image,
    privileged_reasons,
    root_reason,
    sensitive_host_path,
)
from k8saudit.engine import run_check
from k8saudit.inventory import FORBIDDEN, Inventory
from k8saudit.model import NO_ITEMS, Status
from k8saudit.redact import redact_pod_spec
from k8saudit.registry import Context, load_checks
from tests import factories as f
from tests.check_fixtures.exposure import dashboard, hardened, kube_proxy, workload

CHECKS = load_checks()
CONTEXT = Context.default(datetime(2026, 11, 20, tzinfo=UTC))


# The AWS load balancer annotations (the in-tree provider's and the Load Balancer Controller's).
LBC_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
LBC_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
AWS_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"


def results(check_id: str, inv: Inventory) -> dict[str, tuple[Status, str]]:
    return {str(x.subject): (x.status, x.message) for x in run_check(CHECKS[check_id], inv, CONTEXT)}


def status(check_id: str, inv: Inventory, subject: str) -> Status:
    return results(check_id, inv)[subject][0]


# -- security context inheritance ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_sc", "container_sc", "root"),
    [
        ({}, {}, True),  # nothing set: the image's USER decides
        ({"runAsNonRoot": True}, {}, False),  # inherited from the pod
        ({"runAsUser": 1000}, {}, False),
        ({"runAsUser": 1000}, {"runAsUser": 0}, True),  # the container's value wins
        ({"runAsUser": 0}, {"runAsUser": 1000}, False),
        ({"runAsNonRoot": True}, {"runAsNonRoot": False}, True),
        ({"runAsNonRoot": True, "runAsUser": 0}, {}, True),  # explicit 0 is root whatever else says
        ({}, {"runAsNonRoot": True}, False),
    ],
)
def test_root_follows_pod_to_container_inheritance(pod_sc, container_sc, root) -> None:
    spec = {"securityContext": pod_sc}
    container = {"name": "app", "securityContext": container_sc}
    assert (root_reason(spec, container) is not None) is root


def test_privilege_escalation_defaults_to_allowed() -> None:
    inv = f.make_inventory(
        deployments=[
            workload("default-ape", "shop", f.container("app", security_context={})),
            workload("no-ape", "shop", hardened("app", "registry.example.com/app:1")),
        ]
    )
    found = results("EXP-007", inv)
    assert found["Deployment shop/default-ape"][0] is Status.WARN  # non-root, but may escalate
    assert found["Deployment shop/no-ape"][0] is Status.PASS


def test_clean_workloads_share_one_empty_list_no_check_can_change() -> None:
    """A clean template's EXP-004..007 findings hold `NO_ITEMS` for their empty lists (one per
    finding cost 20 MiB at 100k pods): equal to [], saved as [], and it refuses changes."""
    inv = f.make_inventory(
        deployments=[workload("clean", "shop", hardened("app", "registry.example.com/app:1"))]
    )
    findings = [
        x
        for check_id in ("EXP-004", "EXP-005", "EXP-006", "EXP-007")
        for x in run_check(CHECKS[check_id], inv, CONTEXT)
    ]
    assert [x.status for x in findings] == [Status.PASS] * 4
    empties = [
        value for x in findings for value in x.evidence.values() if isinstance(value, list) and not value
    ]
    assert len(empties) == 9 and all(value is NO_ITEMS for value in empties)  # EXP-007 has three
    assert NO_ITEMS == [] and orjson.loads(orjson.dumps(findings[0].to_dict()))["evidence"]["findings"] == []
    for change in (
        lambda x: x.append(1),
        lambda x: x.extend([1]),
        lambda x: x.__iadd__([1]),
        lambda x: x.insert(0, 1),
    ):
        with pytest.raises(TypeError, match="shared by every finding"):
            change(NO_ITEMS)
    assert NO_ITEMS == []


def test_clean_unexposed_workloads_share_one_evidence_dict_no_code_can_change() -> None:
    """Two clean, unexposed templates' EXP-004..007 findings hold one evidence dict per check
    (one each cost about 14 MiB at 100k pods); an exposed one gets its own, naming what exposes it. The
    shared dict is equal to the plain one, saved as it, refuses changes, and copies as itself."""
    clean = [workload(name, "shop", hardened("app", "registry.example.com/app:1")) for name in ("a", "b")]
    exposed = workload("c", "shop", hardened("app", "registry.example.com/app:1"))
    service = f.service("c", "shop", selector={"app": "c"}, type="LoadBalancer")
    inv = f.make_inventory(deployments=[*clean, exposed], services=[service])
    for check_id in ("EXP-004", "EXP-005", "EXP-006", "EXP-007"):
        found = {str(x.subject): x for x in run_check(CHECKS[check_id], inv, CONTEXT)}
        a, b, c = (found[f"Deployment shop/{name}"] for name in "abc")
        assert a.evidence is b.evidence and a.evidence is not c.evidence, check_id
        assert "exposed_by" in c.evidence and "exposed_by" not in a.evidence
        assert a.evidence == {key: [] for key in a.evidence}
    shared = a.evidence
    assert orjson.loads(orjson.dumps(a.to_dict()))["evidence"] == dict(shared)
    assert copy.copy(shared) is shared and copy.deepcopy(shared) is shared
    assert pickle.loads(pickle.dumps(shared)) == shared
    for change in (
        lambda x: x.__setitem__("root", 1),
        lambda x: x.update(root=1),
        lambda x: x.pop("root"),
        lambda x: x.setdefault("new", 1),
        lambda x: x.__ior__({"new": 1}),
        lambda x: x.clear(),
    ):
        with pytest.raises(TypeError, match="shared by many findings"):
            change(shared)
    assert dict(shared) == {"root": [], "privilege_escalation": [], "node_agent_findings": []}


def test_init_containers_count_and_windows_pods_do_not() -> None:
    chown = f.container("chown", "busybox:1.36", security_context={"runAsUser": 0})
    app = workload("app", "shop", hardened("app", "registry.example.com/app:1"), initContainers=[chown])
    windows = workload(
        "iis", "shop", f.container("iis", "mcr.microsoft.com/windows/servercore/iis"), os={"name": "windows"}
    )
    found = results("EXP-007", f.make_inventory(deployments=[app, windows]))
    assert found["Deployment shop/app"][0] is Status.FAIL
    assert "init container chown: runAsUser: 0" in found["Deployment shop/app"][1]
    assert found["Deployment shop/iis"][0] is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("security_context", "privileged"),
    [
        ({"privileged": True}, True),
        ({"capabilities": {"add": ["SYS_ADMIN"]}}, True),
        ({"capabilities": {"add": ["CAP_SYS_PTRACE"]}}, True),
        ({"capabilities": {"add": ["all"]}}, True),
        ({"capabilities": {"add": ["NET_BIND_SERVICE", "NET_ADMIN"]}}, False),
        ({"windowsOptions": {"hostProcess": True}}, True),
        ({"privileged": False}, False),
    ],
)
def test_privileged_and_near_privileged(security_context, privileged) -> None:
    assert bool(privileged_reasons({}, {"securityContext": security_context})) is privileged


def test_pod_level_windows_host_process_is_inherited() -> None:
    spec = {"securityContext": {"windowsOptions": {"hostProcess": True}}}
    assert privileged_reasons(spec, {"name": "c"}) == ["Windows hostProcess container"]


# -- host paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "sensitive"),
    [
        ("/", True),
        ("/var/run/docker.sock", True),
        ("/run/containerd/containerd.sock", True),
        ("/var/run/crio/crio.sock/", True),
        ("/var", True),  # contains the runtime sockets and kubelet data
        ("/var/lib/kubelet/pods", True),
        ("/etc", True),
        ("/etc/kubernetes/pki", True),
        ("/proc/1/root", True),
        ("/etc/ssl/certs", False),
        ("/var/log", False),
        ("/lib/modules", False),
        ("/run/xtables.lock", False),
        ("/sys/fs/cgroup", False),
        # /var/run is a symlink to /run: either spelling of a socket, and of its directory
        ("/run/cri-dockerd.sock", True),
        ("/var/run/cri-dockerd.sock", True),
        ("/var/run/k3s/containerd/containerd.sock", True),
        ("/run/k3s/containerd/containerd.sock", True),
        ("/var/run/docker.sock", True),
        ("/var/run", True),
        ("/var/runner", False),
        # doubled and trailing slashes
        ("//var//run//docker.sock/", True),
        ("//etc/kubernetes/", True),
        # k3s and RKE2: cluster-admin kubeconfig, CA keys and join token
        ("/etc/rancher/k3s", True),
        ("/etc/rancher/rke2/rke2.yaml", True),
        ("/etc/rancher", True),
        ("/var/lib/rancher/k3s/server/tls", True),
        ("/var/lib/rancher/rke2/server/token", True),
        ("/var/lib/rancher/k3s/storage", False),  # the local-path provisioner's volumes
        # Windows nodes: the runtimes' named pipes and the system drive
        ("\\\\.\\pipe\\containerd-containerd", True),
        ("\\\\.\\pipe\\docker_engine", True),
        ("C:\\", True),
        ("c:/", True),
        ("C:", True),
        ("C:\\var\\log", False),
        ("D:\\data", False),
    ],
)
def test_sensitive_host_paths(path, sensitive) -> None:
    assert (sensitive_host_path(path) is not None) is sensitive


def test_host_mounts_follow_volume_mounts_and_sub_paths() -> None:
    spec = {
        "volumes": [
            {"name": "host", "hostPath": {"path": "/var"}},
            {"name": "unused", "hostPath": {"path": "/"}},
        ],
        "containers": [
            {
                "name": "a",
                "volumeMounts": [{"name": "host", "mountPath": "/h", "subPath": "log", "readOnly": True}],
            },
            {
                "name": "b",
                "volumeMounts": [{"name": "host", "mountPath": "/sock", "subPath": "run/docker.sock"}],
            },
        ],
    }
    mounts = {m.container: m for m in host_mounts(spec)}
    assert set(mounts) == {"a", "b"}  # the unmounted "/" volume reaches nothing
    assert mounts["a"].host_path == "/var/log" and mounts["a"].why is None and mounts["a"].read_only
    assert mounts["b"].host_path == "/var/run/docker.sock" and mounts["b"].why


def test_host_path_findings_name_the_k3s_kubeconfig_and_the_windows_pipe() -> None:
    def mounting(name: str, path: str, sub_path: str = "") -> dict[str, Any]:
        mount = {"name": "host", "mountPath": "/host", **({"subPath": sub_path} if sub_path else {})}
        return workload(
            name,
            "tools",
            hardened("c", "registry.example.com/tool:1", volumeMounts=[mount]),
            volumes=[{"name": "host", "hostPath": {"path": path}}],
        )

    inv = f.make_inventory(
        deployments=[
            mounting("k3s", "/etc/rancher/", "k3s"),
            mounting("pipe", "\\\\.\\pipe\\docker_engine"),
            mounting("logs", "/var/log"),
        ]
    )
    found = results("EXP-006", inv)
    status_, message = found["Deployment tools/k3s"]
    assert status_ is Status.FAIL and "/etc/rancher/k3s at /host" in message
    assert "cluster-admin kubeconfig" in message
    status_, message = found["Deployment tools/pipe"]
    assert status_ is Status.FAIL and "Docker named pipe" in message
    assert found["Deployment tools/logs"][0] is Status.PASS


# -- node agents ----------------------------------------------------------------------------------------


def test_node_agents_are_recognised_only_in_system_namespaces() -> None:
    impostor = kube_proxy()
    impostor["metadata"]["namespace"] = "default"
    impostor["metadata"]["name"] = "kube-proxy-copy"
    inv = f.make_inventory(daemonsets=[kube_proxy(), impostor])
    found = results("EXP-004", inv)
    assert found["DaemonSet kube-system/kube-proxy"][0] is Status.NOT_APPLICABLE
    assert found["DaemonSet default/kube-proxy-copy"][0] is Status.FAIL
    agents = results("EXP-009", inv)
    assert agents["DaemonSet kube-system/kube-proxy"][0] is Status.WARN
    assert "DaemonSet default/kube-proxy-copy" not in agents


def _privileged_agent(name: str, namespace: str, image: str) -> dict[str, Any]:
    container = f.container(name, image, security_context={"privileged": True})
    return f.daemonset(name, namespace, containers=[container], template_spec={"hostNetwork": True})


def test_openshift_runs_its_node_agents_in_its_own_namespaces() -> None:
    """OpenShift's agents carry release-payload digests no image pattern names: its reserved
    `openshift-*` namespaces make them the platform's, except where OLM installs any catalog's
    operators, and only on OpenShift."""
    payload = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + "a" * 64
    daemonsets = [
        _privileged_agent("ovnkube-node", "openshift-ovn-kubernetes", payload),
        _privileged_agent("node-tuner", "openshift-cluster-node-tuning-operator", payload),
        _privileged_agent("community-agent", "openshift-operators", "quay.io/example/agent:1.0"),
    ]
    openshift = f.make_inventory(namespaces=[f.namespace("openshift-config")], daemonsets=daemonsets)
    assert openshift.provider.is_openshift
    found = results("EXP-004", openshift)
    assert found["DaemonSet openshift-ovn-kubernetes/ovnkube-node"][0] is Status.NOT_APPLICABLE
    assert found["DaemonSet openshift-cluster-node-tuning-operator/node-tuner"][0] is Status.NOT_APPLICABLE
    assert found["DaemonSet openshift-operators/community-agent"][0] is Status.FAIL
    agents = results("EXP-009", openshift)
    assert (
        "OpenShift platform component with host access"
        in agents["DaemonSet openshift-ovn-kubernetes/ovnkube-node"][1]
    )
    elsewhere = results("EXP-004", f.make_inventory(daemonsets=daemonsets))
    assert elsewhere["DaemonSet openshift-ovn-kubernetes/ovnkube-node"][0] is Status.FAIL


def test_openshift_components_without_host_access_are_not_listed_as_agents() -> None:
    quiet = workload("console", "openshift-console", hardened("console", "quay.io/openshift/console:4.16"))
    inv = f.make_inventory(namespaces=[f.namespace("openshift-config")], deployments=[quiet])
    assert "Deployment openshift-console/console" not in results("EXP-009", inv)


@pytest.mark.parametrize(
    ("image", "agent"),
    [
        ("gke.gcr.io/kube-proxy-amd64:v1.29.1-gke.1589017", "kube-proxy"),
        ("mcr.microsoft.com/oss/kubernetes/azure-cloud-node-manager:v1.29.4", "cloud node manager"),
    ],
)
def test_managed_providers_node_agents_are_recognised(image, agent) -> None:
    inv = f.make_inventory(daemonsets=[_privileged_agent("agent", "kube-system", image)])
    found_status, message = results("EXP-004", inv)["DaemonSet kube-system/agent"]
    assert found_status is Status.NOT_APPLICABLE and f"[{agent}]" in message


def test_unknown_privileged_image_in_kube_system_fails() -> None:
    stranger = workload(
        "crypto", "kube-system", f.container("x", "xmrig/xmrig:6", security_context={"privileged": True})
    )
    assert (
        status("EXP-004", f.make_inventory(deployments=[stranger]), "Deployment kube-system/crypto")
        is Status.FAIL
    )


def test_system_namespaces_are_configurable() -> None:
    proxy = kube_proxy()
    inv = f.make_inventory(daemonsets=[proxy])
    narrow = Context(CONTEXT.now, CONTEXT.calendar, type(CONTEXT.config)(system_namespaces=()))
    found = {str(x.subject): x.status for x in run_check(CHECKS["EXP-004"], inv, narrow)}
    assert found["DaemonSet kube-system/kube-proxy"] is Status.FAIL


# -- which workloads a Service or an Ingress reaches -----------------------------------------------


def deployment_with_pods(
    name: str, namespace: str, container: dict[str, Any], replicas: int = 2
) -> dict[str, list]:
    dep = workload(name, namespace, container)
    rs = f.replicaset(f"{name}-5d4f", namespace, owner=dep, labels={"app": name}, containers=[container])
    pods = [
        f.pod(f"{name}-5d4f-{i}", namespace, labels={"app": name}, owner=rs, containers=[container])
        for i in range(replicas)
    ]
    return {"deployments": [dep], "replicasets": [rs], "pods": pods}


def test_a_service_reaches_the_deployment_through_its_pods_and_names_the_deployment() -> None:
    parts = deployment_with_pods("scope", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))
    inv = f.make_inventory(**parts, services=[f.service("scope", "weave", type="NodePort", ports=[4040])])
    idx = ExposureIndex.of(inv)
    [entry] = idx.entry_points
    assert [t.ident for t in entry.backends] == [("deployments", "weave", "scope")]  # not 2 pods, not the RS
    assert status("EXP-001", inv, "Service weave/scope") is Status.FAIL


def test_a_scaled_to_zero_workload_is_still_reached_through_its_template_labels() -> None:
    inv = f.make_inventory(
        deployments=[workload("scope", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))],
        services=[f.service("scope", "weave", type="LoadBalancer")],
    )
    assert status("EXP-001", inv, "Service weave/scope") is Status.FAIL


def test_a_cronjob_is_reached_through_its_job_templates_labels() -> None:
    cron = f.cronjob(
        "scope-report", "weave", containers=[hardened("app", "weaveworks/scope:1.13.2", ports=[4040])]
    )
    cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] = {"app": "scope"}
    service = f.service("scope", "weave", type="LoadBalancer", selector={"app": "scope"})
    [entry] = ExposureIndex.of(f.make_inventory(cronjobs=[cron], services=[service])).entry_points
    assert [t.ident for t in entry.backends] == [("cronjobs", "weave", "scope-report")]


@pytest.mark.parametrize(
    ("service_namespace", "selector", "reached"),
    [
        ("weave", {"app": "scope"}, True),
        ("other", {"app": "scope"}, False),  # selectors never cross namespaces
        ("weave", {"app": "scope", "tier": "ui"}, False),  # every label must match
        ("weave", {}, False),  # a selector-less Service selects nothing
    ],
)
def test_selector_matching(service_namespace, selector, reached) -> None:
    parts = deployment_with_pods("scope", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))
    service = f.service("scope", service_namespace, type="LoadBalancer", selector=selector)
    inv = f.make_inventory(**parts, services=[service])
    [entry] = ExposureIndex.of(inv).entry_points
    assert bool(entry.backends) is reached


def jupyter(*args: str) -> dict[str, Any]:
    notebook = hardened(
        "notebook",
        "quay.io/jupyter/scipy-notebook:2024-04-22",
        ports=[8888],
        args=["start-notebook.py", *args],
    )
    return workload("notebook", "data", notebook)


def test_ingress_to_a_cluster_ip_service_exposes_jupyter() -> None:
    def inventory(*args: str, annotations: dict[str, str] | None = None) -> Inventory:
        return f.make_inventory(
            deployments=[jupyter(*args)],
            services=[f.service("notebook", "data", ports=[8888])],  # ClusterIP: only the Ingress exposes it
            ingresses=[f.ingress("notebook", "data", backend_service="notebook", annotations=annotations)],
        )

    open_notebook = results("EXP-001", inventory("--NotebookApp.token=", "--NotebookApp.password="))
    assert list(open_notebook) == ["Ingress data/notebook"]  # the ClusterIP Service is no entry point
    assert open_notebook["Ingress data/notebook"][0] is Status.FAIL
    assert "token and password disabled" in open_notebook["Ingress data/notebook"][1]
    assert status("EXP-001", inventory(), "Ingress data/notebook") is Status.WARN  # token login, still public
    sso = inventory(
        "--ServerApp.token=",
        annotations={"nginx.ingress.kubernetes.io/auth-url": "https://sso.example.com/auth"},
    )
    assert status("EXP-001", sso, "Ingress data/notebook") is Status.WARN  # open, but behind SSO


# -- Gateway API routes -----------------------------------------------------------------------------

PUBLIC_GATEWAY_ADDRESS = "34.120.7.9"


def gateway(
    name: str = "public", namespace: str = "gateways", *, addresses=(PUBLIC_GATEWAY_ADDRESS,), **spec: Any
):
    admit_all = {"namespaces": {"from": "All"}}  # a shared Gateway: routes from any namespace attach
    listeners = [
        {"name": "https", "protocol": "HTTPS", "port": 443, "allowedRoutes": admit_all},
        {"name": "tcp", "protocol": "TCP", "port": 5432, "allowedRoutes": admit_all},
    ]
    return f.custom_resource(
        "Gateway",
        name,
        namespace,
        spec={"gatewayClassName": "envoy", "listeners": listeners, **spec},
        status={"addresses": [{"type": "IPAddress", "value": a} for a in addresses]},
    )


def notebook_route(
    *, parent: dict[str, Any] | None = None, status: dict[str, Any] | None = None, kind="HTTPRoute"
):
    """An HTTPRoute from the shared Gateway gateways/public to the notebook Service."""
    parent = parent or {"name": "public", "namespace": "gateways"}
    spec = {
        "parentRefs": [parent],
        "hostnames": ["notebook.example.com", "*.example.com"],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/lab"}}],
                "backendRefs": [{"name": "notebook", "port": 8888}],
            }
        ],
    }
    return f.custom_resource(kind, "notebook", "data", spec=spec, status=status or {})


def notebook_behind_a_route(*gateways: dict[str, Any], route=None, **kinds: Any) -> Inventory:
    return f.make_inventory(
        deployments=[jupyter("--NotebookApp.token=", "--NotebookApp.password=")],
        services=[f.service("notebook", "data", ports=[8888])],  # ClusterIP: only the route exposes it
        gateway__gateways=list(gateways),
        gateway__httproutes=[route or notebook_route()],
        **kinds,
    )


def test_a_route_through_a_public_gateway_exposes_an_open_admin_interface() -> None:
    [finding] = [x for x in run_check(CHECKS["EXP-001"], notebook_behind_a_route(gateway()), CONTEXT)]
    assert str(finding.subject) == "HTTPRoute data/notebook" and finding.status is Status.FAIL
    assert "to anyone who can reach it: token and password disabled" in finding.message
    # The route's own host name, on the Gateway's HTTP(S) listeners only, at its path prefix.
    assert finding.evidence["probe_targets"] == [
        {
            "scheme": "https",
            "host": "notebook.example.com",
            "port": 443,
            "path": "/lab",
            "interface": "Jupyter",
        }
    ]
    # Other exposure checks see the workload as exposed by the route too.
    assert (
        "exposed by HTTPRoute data/notebook"
        in results("EXP-008", notebook_behind_a_route(gateway()))["Deployment data/notebook"][1]
    )


@pytest.mark.parametrize(
    ("the_gateway", "guard"),
    [
        (gateway(gatewayClassName="gke-l7-rilb"), "gateway class gke-l7-rilb"),
        (
            gateway(infrastructure={"annotations": {AWS_INTERNAL: "true"}}),
            f"internal load balancer ({AWS_INTERNAL}: true)",
        ),
        (gateway(addresses=("10.0.8.4",)), "private address 10.0.8.4"),
    ],
)
def test_a_route_through_an_internal_gateway_only_warns(the_gateway: dict[str, Any], guard: str) -> None:
    [finding] = run_check(CHECKS["EXP-001"], notebook_behind_a_route(the_gateway), CONTEXT)
    assert finding.status is Status.WARN and f"behind {guard}" in finding.message


def test_a_route_is_as_open_as_its_most_open_gateway() -> None:
    route = notebook_route()
    route["spec"]["parentRefs"].append({"name": "internal", "namespace": "gateways"})
    inv = notebook_behind_a_route(gateway(), gateway("internal", gatewayClassName="gke-l7-rilb"), route=route)
    assert status("EXP-001", inv, "HTTPRoute data/notebook") is Status.FAIL


def test_a_gateway_without_an_address_leaves_the_route_unknown() -> None:
    [finding] = run_check(CHECKS["EXP-001"], notebook_behind_a_route(gateway(addresses=())), CONTEXT)
    assert finding.status is Status.UNKNOWN
    assert "Gateway gateways/public reports no address yet" in finding.message


@pytest.mark.parametrize(
    "route",
    [
        # The listener's allowedRoutes refused the route's namespace: it carries no traffic.
        notebook_route(
            status={
                "parents": [
                    {
                        "parentRef": {"name": "public", "namespace": "gateways"},
                        "conditions": [
                            {"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners"}
                        ],
                    }
                ]
            }
        ),
        notebook_route(parent={"name": "gone", "namespace": "gateways"}),  # no such Gateway
        notebook_route(parent={"group": "", "kind": "Service", "name": "notebook"}),  # mesh (GAMMA) route
    ],
)
def test_a_route_attached_to_no_gateway_is_no_way_in(route: dict[str, Any]) -> None:
    [finding] = run_check(CHECKS["EXP-001"], notebook_behind_a_route(gateway(), route=route), CONTEXT)
    assert finding.status is Status.PASS and str(finding.subject) == "cluster"
    assert "no Gateway route" in finding.message


def test_every_route_kind_is_a_way_in() -> None:
    """Each through a listener of a protocol that takes it by default."""
    the_gateway = gateway()
    for protocol, port in (("TLS", 8443), ("UDP", 5353)):
        listener = {"name": protocol.lower(), "protocol": protocol, "port": port}
        the_gateway["spec"]["listeners"].append(
            {**listener, "allowedRoutes": {"namespaces": {"from": "All"}}}
        )
    for key, kind in (
        ("gateway__grpcroutes", "GRPCRoute"),
        ("gateway__tlsroutes", "TLSRoute"),
        ("gateway__tcproutes", "TCPRoute"),
        ("gateway__udproutes", "UDPRoute"),
    ):
        inv = f.make_inventory(
            deployments=[jupyter("--NotebookApp.token=", "--NotebookApp.password=")],
            services=[f.service("notebook", "data", ports=[8888])],
            gateway__gateways=[the_gateway],
            **{key: [notebook_route(kind=kind)]},
        )
        assert status("EXP-001", inv, f"{kind} data/notebook") is Status.FAIL


def test_routes_or_gateways_that_cannot_be_read_are_never_passed() -> None:
    unread_gateways = notebook_behind_a_route(coverage={"gateway.gateways": FORBIDDEN})
    findings = results("EXP-001", unread_gateways)
    assert findings["HTTPRoute data/notebook"][0] is Status.UNKNOWN
    assert "Gateway could not be read" in findings["HTTPRoute data/notebook"][1]
    unread_routes = f.make_inventory(deployments=[jupyter()], coverage={"gateway.httproutes": FORBIDDEN})
    [gap] = run_check(CHECKS["EXP-001"], unread_routes, CONTEXT)
    assert gap.status is Status.UNKNOWN and "HTTPRoute could not be read" in gap.message
    [token_gap] = [
        x for x in run_check(CHECKS["EXP-008"], unread_routes, CONTEXT) if x.status is Status.UNKNOWN
    ]
    assert "HTTPRoute could not be read" in token_gap.message


def accepted_by(*parent_refs: dict[str, Any], accepted: str = "True", **condition: str) -> dict[str, Any]:
    """A route's status: each parent reporting Accepted (and any other condition given)."""
    conditions = [{"type": "Accepted", "status": accepted}]
    if condition:
        conditions.append(condition)
    return {"parents": [{"parentRef": ref, "conditions": conditions} for ref in parent_refs]}


def exp001(inv: Inventory) -> tuple[Status, str]:
    [finding] = [x for x in run_check(CHECKS["EXP-001"], inv, CONTEXT) if x.subject.kind != "Service"]
    return finding.status, finding.message


def test_a_route_refused_by_one_listener_still_enters_through_the_other() -> None:
    """Route status is per parentRef, section included: one listener refusing it is not both."""
    plain = {"name": "public", "namespace": "gateways", "sectionName": "tcp"}
    tls = {"name": "public", "namespace": "gateways", "sectionName": "https"}
    route = notebook_route(parent=plain, status=accepted_by(plain, accepted="False"))
    route["spec"]["parentRefs"].append(tls)
    assert exp001(notebook_behind_a_route(gateway(), route=route))[0] is Status.FAIL


def test_without_a_status_the_listeners_allowed_routes_decide() -> None:
    same_only = gateway()
    for listener in same_only["spec"]["listeners"]:
        del listener["allowedRoutes"]  # the default: routes of the Gateway's own namespace only
    assert exp001(notebook_behind_a_route(same_only))[0] is Status.PASS  # not attached
    labelled = gateway()
    selector = {"matchLabels": {"shared-gateway": "yes"}}
    labelled["spec"]["listeners"][0]["allowedRoutes"] = {
        "namespaces": {"from": "Selector", "selector": selector}
    }
    data = f.namespace("data", labels={"shared-gateway": "yes"})
    assert exp001(notebook_behind_a_route(labelled, namespaces=[data]))[0] is Status.FAIL
    assert exp001(notebook_behind_a_route(labelled, namespaces=[f.namespace("data")]))[0] is Status.PASS
    grpc_only = gateway()
    grpc_only["spec"]["listeners"][0]["allowedRoutes"]["kinds"] = [{"kind": "GRPCRoute"}]
    assert exp001(notebook_behind_a_route(grpc_only))[0] is Status.PASS


def test_a_route_attached_through_a_listener_set_enters_through_its_gateway() -> None:
    team_listeners = f.custom_resource(
        "ListenerSet",
        "team-data",
        "data",
        spec={
            "parentRef": {"name": "public", "namespace": "gateways"},
            "listeners": [
                {"name": "notebook", "protocol": "HTTPS", "port": 443, "hostname": "notebook.example.com"}
            ],
        },
    )
    parent = {"group": "gateway.networking.k8s.io", "kind": "ListenerSet", "name": "team-data"}
    route = notebook_route(parent=parent)
    open_to_sets = gateway(allowedListeners={"namespaces": {"from": "All"}})
    inv = notebook_behind_a_route(open_to_sets, route=route, gateway__listenersets=[team_listeners])
    assert exp001(inv)[0] is Status.FAIL
    # A Gateway takes no ListenerSet unless `allowedListeners` says from where.
    assert exp001(notebook_behind_a_route(gateway(), route=route, gateway__listenersets=[team_listeners]))[
        0
    ] is (Status.PASS)


def test_a_service_import_backend_is_this_clusters_service_of_that_name() -> None:
    route = notebook_route()
    route["spec"]["rules"][0]["backendRefs"] = [
        {"group": "net.gke.io", "kind": "ServiceImport", "name": "notebook", "port": 8888}
    ]
    assert exp001(notebook_behind_a_route(gateway(), route=route))[0] is Status.FAIL


def test_a_backend_in_another_namespace_without_a_reference_grant_gets_nothing() -> None:
    parent = {"name": "public", "namespace": "gateways"}
    route = notebook_route(
        status=accepted_by(parent, type="ResolvedRefs", status="False", reason="RefNotPermitted")
    )
    route["metadata"]["namespace"] = "web"
    route["spec"]["rules"][0]["backendRefs"][0]["namespace"] = "data"
    assert exp001(notebook_behind_a_route(gateway(), route=route))[:1] == (Status.PASS,)


@pytest.mark.parametrize(
    ("service", "status", "words"),
    [
        (
            f.service(
                "envoy-gateways-public-7c1d",
                "envoy-gateway-system",
                type="LoadBalancer",
                annotations={AWS_INTERNAL: "true"},
                labels={
                    "gateway.envoyproxy.io/owning-gateway-name": "public",
                    "gateway.envoyproxy.io/owning-gateway-namespace": "gateways",
                },
            ),
            Status.WARN,
            f"behind internal load balancer ({AWS_INTERNAL}: true)",
        ),
        (
            f.service(
                "public-istio", "gateways", labels={"gateway.networking.k8s.io/gateway-name": "public"}
            ),
            Status.WARN,
            "behind Service gateways/public-istio is ClusterIP, in-cluster only",
        ),
        (
            f.service(
                "public-istio",
                "gateways",
                type="LoadBalancer",
                labels={"gateway.networking.k8s.io/gateway-name": "public"},
            ),
            Status.FAIL,
            "to anyone who can reach it",
        ),
    ],
)
def test_a_gateway_is_as_open_as_the_service_its_implementation_made(
    service, status: Status, words: str
) -> None:
    """The Service Envoy Gateway or Istio make for a Gateway is where its traffic comes in."""
    inv = notebook_behind_a_route(gateway(addresses=("a1b2.elb.eu-west-1.amazonaws.com",)))
    inv_with_service = f.make_inventory(
        deployments=[jupyter("--NotebookApp.token=", "--NotebookApp.password=")],
        services=[f.service("notebook", "data", ports=[8888]), service],
        gateway__gateways=[gateway(addresses=("a1b2.elb.eu-west-1.amazonaws.com",))],
        gateway__httproutes=[notebook_route()],
    )
    assert exp001(inv)[0] is Status.FAIL  # a public load balancer's name, as far as can be told
    found, message = exp001(inv_with_service)
    assert found is status and words in message


@pytest.mark.parametrize(
    "address",
    [
        "public-istio.gateways.svc.cluster.local",
        "internal-k8s-gateways-public-5e8a0c1b2d-1234.eu-west-1.elb.amazonaws.com",
    ],
)
def test_in_cluster_and_internal_load_balancer_names_are_not_public(address: str) -> None:
    found, message = exp001(notebook_behind_a_route(gateway(addresses=(address,))))
    assert found is Status.WARN and f"behind private address {address}" in message


def test_probes_go_to_the_listener_the_route_is_attached_to() -> None:
    admin = {"name": "admin", "protocol": "HTTPS", "port": 8443, "hostname": "admin.example.com"}
    admin["allowedRoutes"] = {"namespaces": {"from": "All"}}
    the_gateway = gateway()
    the_gateway["spec"]["listeners"].append(admin)
    route = notebook_route(parent={"name": "public", "namespace": "gateways", "sectionName": "admin"})
    del route["spec"]["hostnames"]
    [finding] = run_check(CHECKS["EXP-001"], notebook_behind_a_route(the_gateway, route=route), CONTEXT)
    assert [(p["host"], p["port"]) for p in finding.evidence["probe_targets"]] == [
        ("admin.example.com", 8443)
    ]
    tcp = notebook_route(
        kind="TCPRoute", parent={"name": "public", "namespace": "gateways", "sectionName": "tcp"}
    )
    inv = f.make_inventory(
        deployments=[jupyter("--NotebookApp.token=", "--NotebookApp.password=")],
        services=[f.service("notebook", "data", ports=[8888])],
        gateway__gateways=[gateway()],
        gateway__tcproutes=[tcp],
    )
    [finding] = run_check(CHECKS["EXP-001"], inv, CONTEXT)
    assert finding.status is Status.FAIL and finding.evidence["probe_targets"] == []  # no HTTP to send


def test_a_snapshot_from_before_gateway_routes_were_read_is_never_passed_on_them() -> None:
    """Re-checked today, a snapshot saved before these kinds were collected has no coverage for
    them: "no Gateway route" would be a claim nobody checked."""
    inv = f.make_inventory(deployments=[jupyter()])
    for key in ("gateway.gateways", "gateway.httproutes", "gateway.udproutes", "gateway.listenersets"):
        del inv.coverage[key]
    [gap] = run_check(CHECKS["EXP-001"], inv, CONTEXT)
    assert gap.status is Status.UNKNOWN
    assert "Gateway, ListenerSet, HTTPRoute, UDPRoute could not be read (error: not collected)" in gap.message


def test_findings_carry_evidence_for_the_probe() -> None:
    inv = f.make_inventory(
        deployments=[workload("scope", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))],
        services=[
            f.service(
                "scope", "weave", type="LoadBalancer", ports=[80], ingress_hostname="scope.elb.example.com"
            )
        ],
    )
    [finding] = [x for x in run_check(CHECKS["EXP-001"], inv, CONTEXT) if x.subject.name == "scope"]
    assert finding.evidence["probe_targets"] == [
        {
            "scheme": "http",
            "host": "scope.elb.example.com",
            "port": 80,
            "path": "/",
            "interface": "Weave Scope",
        }
    ]
    [interface] = finding.evidence["interfaces"]
    assert interface["image"] == "weaveworks/scope:1.13.2" and interface["ports"] == [4040]
    assert interface["authentication"] == "none" and interface["workload"] == "Deployment weave/scope"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["server", "--auth-mode=server"], Status.FAIL),
        (["server", "--auth-mode", "client", "--auth-mode", "server"], Status.FAIL),
        (["server", "--auth-mode=sso"], Status.WARN),
        (["server"], Status.WARN),  # v3 defaults to client mode
        (["version"], Status.PASS),  # the CLI image running something else is no server
    ],
)
def test_argo_server_auth_mode(args, expected) -> None:
    argo = workload(
        "argo-server",
        "argo",
        hardened("argo-server", "quay.io/argoproj/argocli:v3.5.5", ports=[2746], args=args),
    )
    inv = f.make_inventory(
        deployments=[argo], services=[f.service("argo-server", "argo", type="LoadBalancer", ports=[2746])]
    )
    assert status("EXP-001", inv, "Service argo/argo-server") is expected


def test_signature_ports_identify_etcd_and_docker_without_a_known_image() -> None:
    etcd = workload("kv", "infra", hardened("kv", "registry.example.com/kv:3.5", ports=[2379]))
    dind = workload("builder", "ci", f.container("dockerd", "registry.example.com/dind:24", ports=[2375]))
    inv = f.make_inventory(
        deployments=[etcd, dind],
        services=[
            f.service("kv", "infra", type="NodePort", ports=[2379]),
            f.service("builder", "ci", type="NodePort", ports=[2375]),
        ],
    )
    found = results("EXP-001", inv)
    assert found["Service infra/kv"][0] is Status.FAIL and "etcd" in found["Service infra/kv"][1]
    assert found["Service ci/builder"][0] is Status.FAIL and "Docker API" in found["Service ci/builder"][1]


@pytest.mark.parametrize(
    ("setting", "expected", "phrase"),
    [
        ({"env": [{"name": "ETCD_CLIENT_CERT_AUTH", "value": "false"}]}, Status.FAIL, "not required"),
        ({"env": [{"name": "ETCD_CLIENT_CERT_AUTH", "value": "True"}]}, Status.WARN, "required"),
        ({"args": ["--client-cert-auth=false", "--trusted-ca-file=/tls/ca.crt"]}, Status.WARN, "required"),
        (
            {"args": ["--client-cert-auth", "--listen-client-urls=http://0.0.0.0:2379"]},
            Status.FAIL,
            "plain HTTP",
        ),
        (
            {"env": [{"name": "ETCD_CLIENT_CERT_AUTH", "valueFrom": {"configMapKeyRef": {"name": "etcd"}}}]},
            Status.WARN,
            "not known",
        ),
    ],
    ids=["env-false", "env-true", "ca-file", "plain-http", "env-from-reference"],
)
def test_an_exposed_etcd_is_judged_by_its_own_rules_flags_and_variables(setting, expected, phrase) -> None:
    """An ETCD_CLIENT_CERT_AUTH that says false is off (it was read as on whatever it said), a CA
    file makes etcd demand certificates, and collection keeps the variable's value to judge."""
    container = f.container("etcd", "bitnami/etcd:3.5.12", ports=[2379], **setting)
    redact_pod_spec({"containers": [container]})  # what collection keeps
    inv = f.make_inventory(
        deployments=[workload("etcd", "data", container)],
        services=[f.service("etcd", "data", type="LoadBalancer", ports=[2379])],
    )
    found_status, message = results("EXP-001", inv)["Service data/etcd"]
    assert found_status is expected and phrase in message, message


# -- load balancer and node guards -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "ranges", "address", "guarded"),
    [
        ({"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}, None, None, True),
        ({"service.beta.kubernetes.io/aws-load-balancer-internal": "false"}, None, None, False),
        # the in-tree AWS provider ignores the scheme annotation (only the LB controller reads it)
        ({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}, None, None, False),
        ({"service.beta.kubernetes.io/aws-load-balancer-internal": "0.0.0.0/0"}, None, None, True),
        ({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}, None, None, False),
        ({"networking.gke.io/load-balancer-type": "Internal"}, None, None, True),
        ({"cloud.google.com/load-balancer-type": "internal"}, None, None, True),
        ({"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}, None, None, True),
        ({}, ["10.0.0.0/8"], None, True),
        ({}, ["0.0.0.0/0"], None, False),
        ({"service.beta.kubernetes.io/load-balancer-source-ranges": "192.0.2.0/24"}, None, None, True),
        ({}, None, "10.0.5.7", True),  # MetalLB / k3s ServiceLB on a private address
        ({}, None, "34.90.1.7", False),
        ({}, None, None, False),  # a hostname: cannot tell, so public
    ],
)
def test_load_balancer_guards(annotations, ranges, address, guarded) -> None:
    service = f.service("x", "ns", type="LoadBalancer", annotations=annotations, source_ranges=ranges)
    if address:
        service["status"]["loadBalancer"]["ingress"] = [{"ip": address}]
    assert bool(load_balancer_guard(service)) is guarded


@pytest.mark.parametrize(
    ("addresses", "guarded"),
    [
        ([{"type": "InternalIP", "address": "10.0.1.5"}], True),
        (
            [
                {"type": "InternalIP", "address": "10.0.1.5"},
                {"type": "ExternalIP", "address": "52.28.1.4"},
            ],
            False,
        ),
        ([], False),  # no address information: assume reachable
        # k3s / kubeadm on a VPS: the public address reported as InternalIP, no ExternalIP
        ([{"type": "InternalIP", "address": "5.75.140.10"}, {"type": "Hostname", "address": "vps-1"}], False),
        ([{"type": "InternalIP", "address": "100.64.3.9"}], True),  # CGNAT is not public
    ],
)
def test_node_ports_are_public_when_nodes_are(addresses, guarded) -> None:
    node = f.node("n1")
    node["status"]["addresses"] = addresses
    inv = f.make_inventory(nodes=[node], services=[f.service("x", "ns", type="NodePort")])
    [entry] = ExposureIndex.of(inv).entry_points
    assert bool(entry.guard) is guarded


def test_weave_scope_on_a_node_port_of_a_vps_with_a_public_internal_ip_fails() -> None:
    node = f.node("vps-1", instance_type=None)
    node["status"]["addresses"] = [{"type": "InternalIP", "address": "5.75.140.10"}]
    inv = f.make_inventory(
        nodes=[node],
        deployments=[workload("scope", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))],
        services=[f.service("scope", "weave", type="NodePort", ports=[4040])],
    )
    status_, message = results("EXP-001", inv)["Service weave/scope"]
    assert status_ is Status.FAIL
    assert "to anyone who can reach it" in message and "no node has a public address" not in message


def test_public_lb_hint_names_the_cloud_annotation() -> None:
    node = f.node("n1", provider_id="aws:///eu-central-1a/i-0abc")
    inv = f.make_inventory(
        nodes=[node], services=[f.service("db", "payments", type="LoadBalancer", ports=[5432])]
    )
    status_, message = results("EXP-002", inv)["Service payments/db"]
    assert status_ is Status.FAIL and 'aws-load-balancer-internal: "true"' in message


@pytest.mark.parametrize(
    ("annotations", "hint"),
    [
        # the in-tree AWS provider ignores the scheme annotation: its own is the hint
        ({LBC_SCHEME: "internal"}, 'service.beta.kubernetes.io/aws-load-balancer-internal: "true"'),
        # a load balancer the AWS Load Balancer Controller makes: the scheme annotation is
        (
            {LBC_TYPE: "external", LBC_SCHEME: "internet-facing"},
            "service.beta.kubernetes.io/aws-load-balancer-scheme: internal",
        ),
    ],
    ids=["in-tree", "controller"],
)
def test_the_hint_names_the_annotation_the_load_balancer_maker_reads(annotations, hint) -> None:
    node = f.node("n1", provider_id="aws:///eu-central-1a/i-0abc")
    public = f.service("db", "payments", type="LoadBalancer", ports=[5432], annotations=annotations)
    inv = f.make_inventory(nodes=[node], services=[public])
    status_, message = results("EXP-002", inv)["Service payments/db"]
    assert status_ is Status.FAIL and f"make it internal ({hint})" in message


# -- dashboard and tokens ------------------------------------------------------------------------------


def test_dashboard_skip_login_names_a_cluster_admin_service_account() -> None:
    inv = f.make_inventory(
        deployments=[dashboard("--enable-skip-login")],
        clusterrolebindings=[
            f.clusterrolebinding(
                "kubernetes-dashboard",
                "cluster-admin",
                [f.subject("ServiceAccount", "kubernetes-dashboard", "kubernetes-dashboard")],
            )
        ],
    )
    status_, message = results("EXP-003", inv)["Deployment kubernetes-dashboard/kubernetes-dashboard"]
    assert status_ is Status.FAIL
    assert "holds cluster-admin cluster-wide through ClusterRoleBinding kubernetes-dashboard" in message
    insecure = f.make_inventory(
        deployments=[dashboard("--enable-insecure-login", "--enable-skip-login=false")]
    )
    assert status("EXP-003", insecure, "Deployment kubernetes-dashboard/kubernetes-dashboard") is Status.WARN


@pytest.mark.parametrize(
    ("pod_setting", "sa_setting", "projected_audience", "mounted"),
    [
        (None, None, None, True),
        (None, False, None, False),  # the service account opts out
        (True, False, None, True),  # the pod overrides its service account
        (False, True, None, False),
        (False, None, "sts.amazonaws.com", False),  # IRSA's token is for AWS, not the API server
        (False, None, "", True),  # a projected token for the API server is a token
    ],
)
def test_token_automount_precedence(pod_setting, sa_setting, projected_audience, mounted) -> None:
    extra: dict[str, Any] = {"serviceAccountName": "web"}
    if pod_setting is not None:
        extra["automountServiceAccountToken"] = pod_setting
    if projected_audience is not None:
        token = {"path": "token", **({"audience": projected_audience} if projected_audience else {})}
        extra["volumes"] = [{"name": "tok", "projected": {"sources": [{"serviceAccountToken": token}]}}]
    inv = f.make_inventory(
        deployments=[workload("web", "shop", hardened("web", "registry.example.com/web:1"), **extra)],
        services=[f.service("web", "shop", type="LoadBalancer")],
        serviceaccounts=[f.serviceaccount("web", "shop", automount=sa_setting)],
    )
    found = status("EXP-008", inv, "Deployment shop/web")
    assert (found is not Status.PASS) is mounted


# -- unreadable inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("check_id", ["EXP-003", "EXP-004", "EXP-005", "EXP-006", "EXP-007", "EXP-009"])
def test_unreadable_workload_kinds_are_unknown_not_pass(check_id) -> None:
    inv = f.make_inventory(deployments=[dashboard()], coverage={"daemonsets": FORBIDDEN})
    findings = run_check(CHECKS[check_id], inv, CONTEXT)
    [gap] = [x for x in findings if x.status is Status.UNKNOWN]
    assert gap.evidence["unreadable"] == ["daemonsets"] and "DaemonSet could not be read" in gap.message


# -- parsing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "path", "tag"),
    [
        ("weaveworks/scope:1.13.2", "weaveworks/scope", "1.13.2"),
        ("docker.io/library/docker:24-dind", "docker", "24-dind"),
        ("registry:5000/team/app", "team/app", ""),
        ("localhost/app:1@sha256:0123", "app", "1"),
        ("Quay.io/Prometheus/Prometheus:v2.45.0", "prometheus/prometheus", "v2.45.0"),
    ],
)
def test_image_parsing(image, path, tag) -> None:
    ref = parse_image(image)
    assert (ref.path, ref.tag) == (path, tag)


def test_flag_parsing() -> None:
    tokens = ["--enable-skip-login", "--auth-mode", "client", "--auth-mode=server", "-v=2"]
    assert bool_flag(tokens, "enable-skip-login") is True
    assert bool_flag(["--enable-skip-login=false"], "enable-skip-login") is False
    assert bool_flag(tokens, "enable-insecure-login") is None
    assert flag_values(tokens, "auth-mode") == ["client", "server"]


def test_grafana_anonymous_switch_survives_redaction() -> None:
    from k8saudit.redact import redact

    grafana = hardened(
        "grafana",
        "grafana/grafana:10.4.2",
        ports=[3000],
        env=[
            {"name": "GF_AUTH_ANONYMOUS_ENABLED", "value": "true"},
            {"name": "GF_AUTH_ANONYMOUS_ORG_ROLE", "value": "Admin"},
            {"name": "GF_SECURITY_ADMIN_PASSWORD", "value": "hunter2"},
        ],
    )
    deployment = workload("grafana", "monitoring", grafana)
    redact("deployments", deployment)
    env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GF_SECURITY_ADMIN_PASSWORD"] != "hunter2"
    inv = f.make_inventory(
        deployments=[deployment],
        services=[f.service("grafana", "monitoring", type="LoadBalancer", ports=[3000])],
    )
    status_, message = results("EXP-001", inv)["Service monitoring/grafana"]
    assert status_ is Status.FAIL and "anonymous access enabled" in message and "role Admin" in message


# -- client certificates at ingress-nginx ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("verify_client", "expected"),
    [
        ("on", Status.WARN),  # open Weave Scope, but only for clients with a certificate
        ("optional", Status.FAIL),  # a client without a certificate is let through
        ("optional_no_ca", Status.FAIL),
        ("off", Status.FAIL),
    ],
)
def test_only_required_client_certificates_count_as_authentication(verify_client, expected) -> None:
    annotations = {
        "nginx.ingress.kubernetes.io/auth-tls-verify-client": verify_client,
        "nginx.ingress.kubernetes.io/auth-tls-secret": "weave/client-ca",
    }
    inv = f.make_inventory(
        deployments=[workload("scope", "weave", hardened("app", "weaveworks/scope:1.13.2", ports=[4040]))],
        services=[f.service("scope", "weave", ports=[4040])],
        ingresses=[f.ingress("scope", "weave", backend_service="scope", annotations=annotations)],
    )
    status_, message = results("EXP-001", inv)["Ingress weave/scope"]
    assert status_ is expected
    assert ("behind authentication at the ingress" in message) is (expected is Status.WARN)


# -- the AWS Load Balancer Controller's internal default ------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "load_balancer_class", "guarded"),
    [
        (
            {LBC_TYPE: "external", "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"},
            None,
            True,
        ),
        ({LBC_TYPE: "nlb-ip"}, None, True),
        ({}, "service.k8s.aws/nlb", True),
        ({LBC_SCHEME: "internet-facing"}, "service.k8s.aws/nlb", False),
        ({LBC_TYPE: "external", LBC_SCHEME: "internet-facing"}, None, False),
        # the scheme annotation wins over the legacy internal one, which the controller still reads
        ({LBC_TYPE: "external", LBC_SCHEME: "internet-facing", AWS_INTERNAL: "true"}, None, False),
        ({LBC_TYPE: "external", AWS_INTERNAL: "false"}, None, False),
        # the in-tree provider: internet-facing unless told otherwise
        ({LBC_TYPE: "nlb"}, None, False),
        ({}, None, False),
        ({LBC_TYPE: "nlb", AWS_INTERNAL: "true"}, None, True),
        ({}, "example.com/other-lb", False),  # another controller's default is not known
        # EKS Auto Mode reads the scheme annotation; its default is not taken as internal
        ({LBC_SCHEME: "internal"}, "eks.amazonaws.com/nlb", True),
        ({}, "eks.amazonaws.com/nlb", False),
    ],
)
def test_aws_load_balancer_controller_services_are_internal_by_default(
    annotations, load_balancer_class, guarded
) -> None:
    spec = {"loadBalancerClass": load_balancer_class} if load_balancer_class else {}
    service = f.service("api", "shop", type="LoadBalancer", annotations=annotations, spec=spec)
    assert bool(load_balancer_guard(service)) is guarded


def test_public_lb_check_passes_an_nlb_the_aws_controller_makes_internal() -> None:
    service = f.service(
        "api", "shop", type="LoadBalancer", ports=[8080], spec={"loadBalancerClass": "service.k8s.aws/nlb"}
    )
    inv = f.make_inventory(
        deployments=[workload("api", "shop", hardened("api", "registry.example.com/shop/api:1"))],
        services=[service],
    )
    status_, message = results("EXP-002", inv)["Service shop/api"]
    assert status_ is Status.PASS
    assert "not public" in message and "AWS Load Balancer Controller's default" in message


def grafana_behind_an_ingress(class_name: str | None, annotations=None, **kinds: Any) -> Inventory:
    grafana = hardened(
        "grafana",
        "grafana/grafana:10.4.2",
        ports=[3000],
        env=[{"name": "GF_AUTH_ANONYMOUS_ENABLED", "value": "true"}],
    )
    ingress = f.ingress(
        "grafana", "monitoring", class_name=class_name, backend_service="grafana", annotations=annotations
    )
    return f.make_inventory(
        deployments=[workload("grafana", "monitoring", grafana)],
        services=[f.service("grafana", "monitoring", ports=[3000])],
        ingresses=[ingress],
        **kinds,
    )


ALB_PARAMS = {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": "shared-alb"}


@pytest.mark.parametrize(
    ("class_name", "annotations", "kinds", "expected", "words"),
    [
        ("alb", None, {}, Status.WARN, "behind internal ALB (the AWS Load Balancer Controller's default"),
        ("alb", {"alb.ingress.kubernetes.io/scheme": "internet-facing"}, {}, Status.FAIL, "to anyone"),
        ("alb", {"alb.ingress.kubernetes.io/scheme": "internal"}, {}, Status.WARN, "behind internal ALB"),
        (None, {"kubernetes.io/ingress.class": "alb"}, {}, Status.WARN, "behind internal ALB"),
        (
            "web",
            None,
            {"ingressclasses": [f.ingressclass("web", "ingress.k8s.aws/alb")]},
            Status.WARN,
            "behind internal ALB",
        ),
        (
            "web",
            {"alb.ingress.kubernetes.io/scheme": "internal"},
            {
                "ingressclasses": [
                    f.ingressclass("web", "ingress.k8s.aws/alb", spec={"parameters": ALB_PARAMS})
                ]
            },
            Status.UNKNOWN,
            "IngressClassParams shared-alb, which may set the ALB's scheme",
        ),
        ("alb", None, {"coverage": {"ingressclasses": FORBIDDEN}}, Status.UNKNOWN, "IngressClass could not"),
        ("nginx", None, {}, Status.FAIL, "to anyone"),  # ingress-nginx's load balancer: public
        (
            "alb",
            None,
            {"ingressclasses": [f.ingressclass("alb")]},
            Status.FAIL,
            "to anyone",
        ),  # not the AWS one
    ],
)
def test_alb_ingresses_are_internal_unless_internet_facing(class_name, annotations, kinds, expected, words):
    inv = grafana_behind_an_ingress(class_name, annotations, **kinds)
    status_, message = results("EXP-001", inv)["Ingress monitoring/grafana"]
    assert status_ is expected and words in message


# -- ephemeral containers of controller-owned pods ----------------------------------------------------


def debugged_deployment(security_context: dict[str, Any]) -> Inventory:
    dep = workload("api", "shop", hardened("api", "registry.example.com/shop/api:1"))
    rs, pods = f.with_pods(dep, ["node-1", "node-2"])
    debugger = {
        "name": "debugger-x7k2p",
        "image": "busybox:1.36",
        "targetContainerName": "api",
        "securityContext": security_context,
    }
    pods[0]["spec"]["ephemeralContainers"] = [debugger]
    bare = f.pod("scratch", "shop", containers=[hardened("sh", "busybox:1.36")])
    bare["spec"]["ephemeralContainers"] = [dict(debugger)]
    return f.make_inventory(deployments=[dep], replicasets=[rs], pods=[*pods, bare])


def test_a_privileged_debug_container_in_a_deployments_pod_fails_on_the_pod() -> None:
    inv = debugged_deployment({"privileged": True})
    found = results("EXP-004", inv)
    status_, message = found["Pod shop/api-6b7c9d8f5-00000"]
    assert status_ is Status.FAIL and "ephemeral container debugger-x7k2p (privileged: true)" in message
    assert found["Deployment shop/api"][0] is Status.PASS  # the template is clean
    assert "Pod shop/api-6b7c9d8f5-00001" not in found  # no debug container: judged as the template
    assert found["Pod shop/scratch"][0] is Status.FAIL  # a bare pod: judged once, as itself
    assert len(found) == 3
    # Host namespaces are a pod setting, the template's: no second finding for the debugged pod.
    assert "Pod shop/api-6b7c9d8f5-00000" not in results("EXP-005", inv)


def test_a_root_debug_container_in_a_deployments_pod_fails_non_root() -> None:
    inv = debugged_deployment({"runAsUser": 0})
    status_, message = results("EXP-007", inv)["Pod shop/api-6b7c9d8f5-00000"]
    assert status_ is Status.FAIL and "ephemeral container debugger-x7k2p: runAsUser: 0" in message


# -- unreadable workload kinds: nothing passes on what was not read ------------------------------------


def test_exposed_services_are_not_passed_when_workloads_cannot_be_read() -> None:
    inv = f.make_inventory(
        services=[f.service("weave-scope-app", "weave", type="LoadBalancer", ports=[4040])],
        coverage={key: FORBIDDEN for key in TEMPLATE_KEYS},
    )
    admin = run_check(CHECKS["EXP-001"], inv, CONTEXT)
    assert Status.PASS not in {x.status for x in admin}
    [service] = [x for x in admin if x.subject.kind == "Service"]
    assert service.status is Status.UNKNOWN
    assert (
        "Deployment, DaemonSet, StatefulSet, CronJob, Job, ReplicaSet, Pod could not be read"
        in service.message
    )
    assert service.evidence["unreadable"] == list(TEMPLATE_KEYS)
    tokens = run_check(CHECKS["EXP-008"], inv, CONTEXT)
    assert [x.status for x in tokens] == [Status.UNKNOWN]


def test_no_entry_point_is_not_passed_when_ingresses_cannot_be_read() -> None:
    inv = f.make_inventory(deployments=[jupyter()], coverage={"ingresses": FORBIDDEN})
    [gap] = run_check(CHECKS["EXP-001"], inv, CONTEXT)
    assert gap.status is Status.UNKNOWN and "Ingress could not be read" in gap.message


# -- Windows pods placed by node selector or affinity ---------------------------------------------------


def windows_os_affinity(*values_per_term: list[str]) -> dict[str, Any]:
    terms = [
        {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": values}]}
        for values in values_per_term
    ]
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


@pytest.mark.parametrize(
    ("placement", "expected"),
    [
        ({"nodeSelector": {"kubernetes.io/os": "windows"}}, Status.NOT_APPLICABLE),
        ({"nodeSelector": {"beta.kubernetes.io/os": "windows"}}, Status.NOT_APPLICABLE),
        ({"affinity": windows_os_affinity(["windows"])}, Status.NOT_APPLICABLE),
        ({"affinity": windows_os_affinity(["windows"], ["windows"])}, Status.NOT_APPLICABLE),
        ({"affinity": windows_os_affinity(["windows", "linux"])}, Status.FAIL),  # may land on Linux
        ({"affinity": windows_os_affinity(["windows"], ["linux"])}, Status.FAIL),  # terms are ORed
        ({"nodeSelector": {"kubernetes.io/os": "linux"}}, Status.FAIL),
    ],
)
def test_windows_pods_are_recognised_by_their_placement(placement, expected) -> None:
    iis = f.container(
        "iis",
        "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022",
        security_context={"windowsOptions": {"runAsUserName": "ContainerUser"}},
    )
    inv = f.make_inventory(
        deployments=[f.deployment("iis", "web", containers=[iis], template_spec=placement)]
    )
    status_, message = results("EXP-007", inv)["Deployment web/iis"]
    assert status_ is expected
    assert ("Windows pod" in message) is (expected is Status.NOT_APPLICABLE)


# -- privilege escalation that allowPrivilegeEscalation: false does not stop ---------------------------


@pytest.mark.parametrize(
    ("added", "expected", "words"),
    [
        (["SYS_ADMIN"], Status.WARN, "allowPrivilegeEscalation: false does not hold with SYS_ADMIN added"),
        (["ALL"], Status.WARN, "does not hold with ALL added"),
        (["NET_BIND_SERVICE"], Status.PASS, "without privilege escalation"),
    ],
)
def test_sys_admin_voids_allow_privilege_escalation_false(added, expected, words) -> None:
    agent = f.container(
        "agent",
        "registry.example.com/agent:1",
        security_context={
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "allowPrivilegeEscalation": False,
            "capabilities": {"add": added},
        },
    )
    inv = f.make_inventory(deployments=[f.deployment("agent", "tools", containers=[agent])])
    status_, message = results("EXP-007", inv)["Deployment tools/agent"]
    assert status_ is expected and words in message

"""Fixtures for the DNS area.

`healthy()` is a cluster whose DNS passes every check: a current CoreDNS, three replicas on three
nodes with a spread rule, a budget, system priority, sane resources, a guarded autoscaler,
NodeLocal DNSCache on every node and a Corefile with loop, cache, health (lameduck) and ready.
Each fail fixture breaks one thing in it.
"""

from __future__ import annotations

import json
from typing import Any

from k8saudit.inventory import Inventory
from tests import factories as f
from tests.check_fixtures import fixture

NODES = ["n1", "n2", "n3"]
DNS_LABELS = {"k8s-app": "kube-dns"}
CURRENT = "v1.14.2"

# kubeadm's default Corefile (tests/test_corefile.py parses it too).
GOOD_COREFILE = """\
.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""
# k3s's stock Corefile (AKS's is alike): server blocks from the optional ConfigMap coredns-custom
# come in through a top-level import after the last block.
K3S_COREFILE = """\
.:53 {
    errors
    health {
      lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    hosts /etc/coredns/NodeHosts {
      ttl 60
      reload 15s
      fallthrough
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import /etc/coredns/custom/*.override
}
import /etc/coredns/custom/*.server
"""
K3S_IMPORT = "/etc/coredns/custom/*.server"
GOOD_AUTOSCALER = {"coresPerReplica": 256, "nodesPerReplica": 16, "min": 2, "preventSinglePointFailure": True}
DNS_RESOURCES = {"cpu_request": "100m", "memory_request": "70Mi", "memory_limit": "170Mi", "cpu_limit": None}

Objects = dict[str, list[dict[str, Any]]]


def coredns(
    version: str = CURRENT,
    *,
    nodes: list[str] | None = None,
    spread: bool = True,
    priority: str | None = "system-cluster-critical",
    resources: dict[str, str | None] | None = None,
    image: str = "registry.k8s.io/coredns/coredns",
    name: str = "coredns",
) -> Objects:
    """A CoreDNS Deployment as kubeadm installs it, with its pods on `nodes`."""
    nodes = NODES if nodes is None else nodes
    container = f.container(
        "coredns",
        f"{image}:{version}",
        args=["-conf", "/etc/coredns/Corefile"],
        ports=[53, 9153],
        **(resources if resources is not None else DNS_RESOURCES),
    )
    template: dict[str, Any] = {
        "dnsPolicy": "Default",
        "volumes": [{"name": "config-volume", "configMap": {"name": "coredns"}}],
    }
    if priority:
        template["priorityClassName"] = priority
    if spread:
        template["affinity"] = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": DNS_LABELS}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        }
    deployment = f.deployment(
        name,
        "kube-system",
        replicas=len(nodes),
        labels=DNS_LABELS,
        containers=[container],
        template_spec=template,
    )
    rs, pods = f.with_pods(deployment, nodes)
    return {"deployments": [deployment], "replicasets": [rs], "pods": pods}


def autoscaler(params: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cluster-proportional-autoscaler Deployment and its ConfigMap."""
    deployment = f.deployment(
        "coredns-autoscaler",
        "kube-system",
        replicas=1,
        labels={"k8s-app": "coredns-autoscaler"},
        containers=[
            f.container(
                "autoscaler",
                "registry.k8s.io/cpa/cluster-proportional-autoscaler:v1.9.0",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--namespace=kube-system",
                    "--configmap=coredns-autoscaler",
                    "--target=Deployment/coredns",
                ],
            )
        ],
    )
    data = {"linear": json.dumps(params if params is not None else GOOD_AUTOSCALER)}
    return deployment, f.configmap("coredns-autoscaler", "kube-system", data)


def nodelocal_dns(tolerations: list[dict[str, Any]] | None = None, desired: int = 3) -> dict[str, Any]:
    return f.daemonset(
        "node-local-dns",
        "kube-system",
        labels={"k8s-app": "node-local-dns"},
        containers=[f.container("node-cache", "registry.k8s.io/dns/k8s-dns-node-cache:1.25.0", ports=[53])],
        template_spec={
            "hostNetwork": True,
            "dnsPolicy": "Default",
            "priorityClassName": "system-node-critical",
            "tolerations": tolerations if tolerations is not None else [{"operator": "Exists"}],
        },
        desired=desired,
    )


def healthy(dns: Objects | None = None, *, corefile: str = GOOD_COREFILE) -> Objects:
    scaler, scaler_config = autoscaler()
    objects: Objects = {
        "nodes": [f.node(n) for n in NODES],
        "configmaps": [f.configmap("coredns", "kube-system", {"Corefile": corefile}), scaler_config],
        "poddisruptionbudgets": [
            f.pdb("coredns", "kube-system", DNS_LABELS, min_available=None, max_unavailable=1)
        ],
        "daemonsets": [nodelocal_dns()],
        "priorityclasses": [f.priorityclass("system-cluster-critical", 2000000000)],
    }
    dns = dns if dns is not None else coredns()
    objects.update(dns)
    objects["deployments"] = [*dns["deployments"], scaler]
    return objects


def inventory(objects: Objects) -> Inventory:
    return f.make_inventory(**objects)


def with_corefile(corefile: str) -> Inventory:
    return inventory(healthy(corefile=corefile))


def kube_dns() -> Objects:
    deployment = f.deployment(
        "kube-dns",
        "kube-system",
        replicas=2,
        labels=DNS_LABELS,
        containers=[
            f.container("kubedns", "registry.k8s.io/dns/k8s-dns-kube-dns:1.22.28", ports=[10053]),
            f.container("dnsmasq", "registry.k8s.io/dns/k8s-dns-dnsmasq-nanny:1.22.28", ports=[53]),
            f.container("sidecar", "registry.k8s.io/dns/k8s-dns-sidecar:1.22.28", ports=[10054]),
        ],
        template_spec={"priorityClassName": "system-cluster-critical"},
    )
    rs, pods = f.with_pods(deployment, ["n1", "n2"])
    return {"deployments": [deployment], "replicasets": [rs], "pods": pods}


def openshift_dns() -> Objects:
    """OpenShift 4's cluster DNS: the DNS operator's `dns-default` DaemonSet, whose `dns` container
    runs `coredns` from a release-payload image named by digest only, and its Corefile."""
    payload = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:"
    daemonset = f.daemonset(
        "dns-default",
        "openshift-dns",
        labels={"dns.operator.openshift.io/daemonset-dns": "default"},
        containers=[
            f.container(
                "dns",
                payload + "a" * 64,
                command=["coredns"],
                args=["-conf", "/etc/coredns/Corefile"],
                ports=[5353],
            ),
            f.container("kube-rbac-proxy", payload + "b" * 64),
        ],
        template_spec={
            "priorityClassName": "system-node-critical",
            "volumes": [{"name": "config-volume", "configMap": {"name": "dns-default"}}],
        },
    )
    corefile = GOOD_COREFILE.replace(".:53", ".:5353")
    return {
        "nodes": [f.node(n, kubelet="v1.29.8+f10c92d") for n in NODES],
        "daemonsets": [daemonset],
        "configmaps": [f.configmap("dns-default", "openshift-dns", {"Corefile": corefile})],
    }


@fixture("DNS-001", "pass")
def server_pass():
    return inventory(healthy())


@fixture("DNS-001", "fail")
def server_fail():
    return inventory(healthy(kube_dns()))


@fixture("DNS-002", "pass")
def replicas_pass():
    return inventory(healthy())


@fixture("DNS-002", "fail")
def replicas_fail():
    return inventory(healthy(coredns(nodes=["n1"])))


@fixture("DNS-003", "pass")
def spread_pass():
    return inventory(healthy())


@fixture("DNS-003", "fail")
def spread_fail():
    return inventory(healthy(coredns(nodes=["n1", "n1"], spread=False)))


@fixture("DNS-004", "pass")
def pdb_pass():
    return inventory(healthy())


@fixture("DNS-004", "fail")
def pdb_fail():
    return inventory({**healthy(), "poddisruptionbudgets": []})


@fixture("DNS-005", "pass")
def priority_pass():
    return inventory(healthy())


@fixture("DNS-005", "fail")
def priority_fail():
    return inventory(healthy(coredns(priority=None)))


@fixture("DNS-006", "pass")
def resources_pass():
    return inventory(healthy())


@fixture("DNS-006", "fail")
def resources_fail():
    throttled = {"cpu_request": "100m", "memory_request": "70Mi", "memory_limit": None, "cpu_limit": "200m"}
    return inventory(healthy(coredns(resources=throttled)))


@fixture("DNS-007", "pass")
def autoscaler_pass():
    return inventory(healthy())


@fixture("DNS-007", "fail")
def autoscaler_fail():
    objects = healthy()
    _, config = autoscaler(
        {"coresPerReplica": 256, "nodesPerReplica": 16, "min": 1, "preventSinglePointFailure": False}
    )
    objects["configmaps"] = [objects["configmaps"][0], config]
    return inventory(objects)


@fixture("DNS-008", "pass")
def nodelocal_pass():
    return inventory(healthy())


@fixture("DNS-008", "fail")
def nodelocal_fail():
    objects = healthy()
    edge_taint = [{"key": "dedicated", "value": "edge", "effect": "NoSchedule"}]
    objects["nodes"] = [f.node("n1"), f.node("n2"), f.node("edge-1", taints=edge_taint)]
    objects["daemonsets"] = [nodelocal_dns(tolerations=[], desired=2)]
    return inventory(objects)


@fixture("DNS-009", "pass")
def version_pass():
    return inventory(healthy())


@fixture("DNS-009", "fail")
def version_fail():
    return inventory(healthy(coredns("v1.8.6")))


@fixture("DNS-010", "pass")
def loop_pass():
    return with_corefile(GOOD_COREFILE)


@fixture("DNS-010", "fail")
def loop_fail():
    return with_corefile(GOOD_COREFILE.replace("    loop\n", ""))


@fixture("DNS-011", "pass")
def cache_pass():
    return with_corefile(GOOD_COREFILE)


@fixture("DNS-011", "fail")
def cache_fail():
    return with_corefile(GOOD_COREFILE.replace("    cache 30\n", ""))


@fixture("DNS-012", "pass")
def public_pass():
    return with_corefile(GOOD_COREFILE)


@fixture("DNS-012", "fail")
def public_fail():
    return with_corefile(
        GOOD_COREFILE.replace("forward . /etc/resolv.conf", "forward . 8.8.8.8 tls://1.1.1.1")
    )


@fixture("DNS-013", "pass")
def health_pass():
    return with_corefile(GOOD_COREFILE)


@fixture("DNS-013", "fail")
def health_fail():
    return with_corefile(GOOD_COREFILE.replace("    ready\n", ""))


def app(dns_config: dict[str, Any] | None) -> dict[str, Any]:
    return f.deployment("web", "shop", template_spec={"dnsConfig": dns_config} if dns_config else None)


@fixture("DNS-014", "pass")
def ndots_pass():
    return f.make_inventory(
        deployments=[app({"options": [{"name": "ndots", "value": "2"}]})], daemonsets=[nodelocal_dns()]
    )


@fixture("DNS-014", "fail")
def ndots_fail():
    return f.make_inventory(deployments=[app(None)], daemonsets=[nodelocal_dns()])

"""Facts worked out once per part that sibling pods share (k8saudit.siblings) must be the facts
each pod would give on its own: sharing is a memory layout, never a reason for another verdict."""

from __future__ import annotations

from checks import nodes, versions
from checks.exposure_index import ExposureIndex, _may_carry_admin_labels
from tests import factories as f


def _siblings(names: list[str], namespaces: list[str], **pod_args: object) -> list[dict]:
    """Pods whose labels, containers and owner references are one object each, as
    `share_with` leaves neighbours (the first pod's parts, handed to the others)."""
    pods = [f.pod(name, namespace, **pod_args) for name, namespace in zip(names, namespaces, strict=True)]
    for pod in pods[1:]:
        for section, key in (("metadata", "labels"), ("metadata", "ownerReferences"), ("spec", "containers")):
            if key in pods[0][section]:
                pod[section][key] = pods[0][section][key]
    return pods


def test_a_labels_dict_shared_across_namespaces_selects_only_its_own_namespace() -> None:
    pods = _siblings(["web-a", "web-b"], ["shop", "blog"], labels={"app": "web"})
    inv = f.make_inventory(pods=pods)
    a, b = inv.items("pods")
    assert a["metadata"]["labels"] is b["metadata"]["labels"]  # the inventory kept the sharing
    assert inv.pods_selected_by(f.service("web", "shop", selector={"app": "web"})) == [a]
    assert inv.pods_selected_by(f.service("web", "blog", selector={"app": "web"})) == [b]


def test_siblings_whose_owner_was_not_collected_are_each_their_own_backend() -> None:
    missing_rs = f.replicaset("web-5d8", "default", labels={"app": "web"})
    pods = _siblings(
        ["web-5d8-a", "web-5d8-b"], ["default", "default"], labels={"app": "web"}, owner=missing_rs
    )
    lb = f.service("web", "default", type="LoadBalancer", selector={"app": "web"})
    inv = f.make_inventory(pods=pods, services=[lb])
    assert [inv.top_owner(p) for p in inv.items("pods")] == [None, None]
    (entry,) = ExposureIndex.of(inv).entry_points
    assert [t.ident for t in entry.backends] == [
        ("pods", "default", "web-5d8-a"),
        ("pods", "default", "web-5d8-b"),
    ]


def test_siblings_with_a_collected_owner_share_its_workload() -> None:
    deployment = f.deployment("web", "default", labels={"app": "web"})
    rs, pods = f.with_pods(deployment, ["node-1", "node-2"])
    for pod in pods[1:]:
        pod["metadata"]["ownerReferences"] = pods[0]["metadata"]["ownerReferences"]
    inv = f.make_inventory(deployments=[deployment], replicasets=[rs], pods=pods)
    owners = [inv.top_owner(p) for p in inv.items("pods")]
    assert owners[0] == owners[1] and owners[0] is not None and owners[0][0] == "deployments"


def test_a_critical_priority_makes_one_sibling_critical_and_not_the_other() -> None:
    first, second = _siblings(["api-a", "api-b"], ["default", "default"], labels={"app": "api"})
    first["spec"]["priorityClassName"] = "system-cluster-critical"
    second["spec"]["nodeName"] = "node-2"
    inv = f.make_inventory(pods=[first, second], nodes=[f.node("node-1"), f.node("node-2")])
    node_1, node_2 = inv.items("nodes")
    assert nodes.critical_addons_on(inv, node_1) == ["system-critical: default/api-a"]
    assert nodes.critical_addons_on(inv, node_2) == []


def test_cpu_limited_pods_are_counted_per_node_when_siblings_share_their_containers() -> None:
    limited = [f.container("app", "shop:1", cpu_limit="500m")]
    pods = _siblings(["shop-a", "shop-b", "shop-c"], ["default"] * 3, containers=limited)
    pods[1]["spec"]["nodeName"] = "node-2"
    pods[2]["status"]["phase"] = "Succeeded"  # finished: throttles nothing
    unlimited = f.pod("batch-a", "default", containers=[f.container("batch", "batch:1")])
    inv = f.make_inventory(pods=[*pods, unlimited])
    assert versions._cpu_limited_pods(inv) == {"node-1": ["default/shop-a"], "node-2": ["default/shop-b"]}


def test_the_admin_label_prefilter_never_skips_a_template_it_cannot_judge() -> None:
    assert _may_carry_admin_labels({"app.kubernetes.io/name": "grafana", "tier": "ops"})
    assert not _may_carry_admin_labels({"app": "shop", "tier": "web"})
    assert _may_carry_admin_labels({"app": "shop", "team": ["not", "a", "string"]})  # type: ignore[dict-item]

"""Inventory indexes and coverage rules, on the recorded fixtures and on built objects."""

from __future__ import annotations

from k8saudit.inventory import ERROR, FORBIDDEN, NOT_SERVED, Coverage, Inventory
from k8saudit.model import Subject
from tests import factories as f


def shop() -> Inventory:
    dep = f.deployment("web", "shop", replicas=2)
    rs = f.replicaset("web-1", "shop", owner=dep, labels={"app": "web"})
    pods = [
        f.pod(f"web-1-{i}", "shop", node_name=f"n{i}", labels={"app": "web", "tier": "front"}, owner=rs)
        for i in range(2)
    ]
    other = f.pod("db-0", "shop", node_name="n0", labels={"app": "db"})
    cron = f.cronjob("report", "shop")
    job = f.job("report-1", "shop", owner=cron)
    job_pod = f.pod("report-1-x", "shop", owner=job, owner_kind="Job", labels={"job": "report"})
    svc = f.service("web", "shop", selector={"app": "web"})
    headless = f.service("ext", "shop", selector={})
    return f.make_inventory(
        deployments=[dep],
        replicasets=[rs],
        pods=[*pods, other, job_pod],
        cronjobs=[cron],
        jobs=[job],
        services=[svc, headless],
        nodes=[f.node("n0"), f.node("n1")],
    )


def test_lookup_by_name_and_namespace() -> None:
    inv = shop()
    assert inv.get("deployments", "shop", "web")["spec"]["replicas"] == 2
    assert inv.get("deployments", "other", "web") is None
    assert [p["metadata"]["name"] for p in inv.in_namespace("pods", "shop")][:2] == ["web-1-0", "web-1-1"]
    assert inv.namespaces() == ["shop"]


def test_pods_by_node_and_owner_chain() -> None:
    inv = shop()
    assert {p["metadata"]["name"] for p in inv.pods_on_node("n0")} == {"web-1-0", "db-0"}
    dep = inv.get("deployments", "shop", "web")
    assert {p["metadata"]["name"] for p in inv.pods_of("deployments", dep)} == {"web-1-0", "web-1-1"}
    cron = inv.get("cronjobs", "shop", "report")
    assert [p["metadata"]["name"] for p in inv.pods_of("cronjobs", cron)] == ["report-1-x"]
    key, owner = inv.top_owner(inv.get("pods", "shop", "web-1-0"))
    assert (key, owner["metadata"]["name"]) == ("deployments", "web")
    assert inv.top_owner(inv.get("pods", "shop", "db-0")) is None


def test_live_placements_give_node_and_phase_of_bound_unfinished_pods_only() -> None:
    pending = f.pod("queued", "shop", node_name=None, phase="Pending")
    done = f.pod("batch", "shop", node_name="n1", phase="Succeeded")
    failed = f.pod("crashed", "shop", node_name="n1", phase="Failed")
    starting = f.pod("starting", "shop", node_name="n1", phase="Pending")
    pods = [f.pod("web", "shop", node_name="n0"), pending, done, failed, starting]
    inv = f.make_inventory(pods=pods, nodes=[f.node("n0")])
    placed = [(p["metadata"]["name"], node, phase) for p, node, phase in inv.live_placements()]
    assert placed == [("web", "n0", "Running"), ("starting", "n1", "Pending")]
    assert [p["metadata"]["name"] for p in inv.pods_on_node("n1")] == ["batch", "crashed", "starting"]
    web = inv.get("pods", "shop", "web")
    assert [node for _, node, _ in inv.live_placements_of("pods", web)] == ["n0"]
    assert inv.live_placements_of("pods", pending) == []
    assert inv.live_placements_of("pods", inv.get("pods", "shop", "batch")) == []
    # A pod that is not the inventory's (an equal copy) is not taken for the one that is.
    assert inv.live_placements_of("pods", dict(web)) == []
    shop_inv = shop()
    deployment = shop_inv.get("deployments", "shop", "web")
    assert sorted(node for _, node, _ in shop_inv.live_placements_of("deployments", deployment)) == [
        "n0",
        "n1",
    ]
    assert shop_inv.live_placements_of("statefulsets", deployment) == [], "asked as another kind: that kind's"


def test_the_pod_walk_takes_any_shape_a_file_may_hold() -> None:
    """An API server never sends these; a hand-edited snapshot may, and one such pod must not
    make every check that reads the pod indexes fail."""
    odd = {
        "spec a list": {"spec": [1]},
        "status a string": {"status": "x"},
        "phase a list": {"status": {"phase": ["Running"]}},
        "node name a list": {"spec": {"nodeName": ["n0"]}},
    }
    pods = [{**f.pod(name.replace(" ", "-"), "shop", node_name="n0"), **parts} for name, parts in odd.items()]
    inv = f.make_inventory(pods=pods, nodes=[f.node("n0")])
    placed = {(p["metadata"]["name"], node, str(phase)) for p, node, phase in inv.live_placements()}
    assert placed == {
        ("status-a-string", "n0", "None"),
        ("phase-a-list", "n0", "['Running']"),
        ("node-name-a-list", "['n0']", "Running"),
    }
    assert [p["metadata"]["name"] for p in inv.pods_on_node("n0")] == ["status-a-string", "phase-a-list"]


def test_services_and_selectors() -> None:
    inv = shop()
    svc = inv.get("services", "shop", "web")
    assert {p["metadata"]["name"] for p in inv.pods_selected_by(svc)} == {"web-1-0", "web-1-1"}
    assert inv.pods_selected_by(inv.get("services", "shop", "ext")) == []


def test_pod_templates_name_the_controller_not_its_pods() -> None:
    inv = shop()
    subjects = {(key, o["metadata"]["name"]) for key, o, _ in inv.pod_templates()}
    assert subjects == {("deployments", "web"), ("cronjobs", "report"), ("pods", "db-0")}


def test_subjects_are_one_per_object_and_never_taken_for_another() -> None:
    inv = shop()
    first, second = inv.items("pods")[:2]
    assert inv.subject("pods", first) is inv.subject("pods", first)
    assert inv.subject("pods", second) == Subject("Pod", "shop", "web-1-1")
    # Objects made on the fly and dropped: a reused id must never give back an earlier subject.
    for i in range(200):
        assert inv.subject("pods", {"metadata": {"name": f"tmp-{i}"}}).name == f"tmp-{i}"
    assert inv.subject("services", first).kind == "Service", "asked as another kind: named as that kind"


def test_readability_rules() -> None:
    inv = f.make_inventory(
        coverage={"nodes": FORBIDDEN, "velero.schedules": NOT_SERVED, "ingressclasses": NOT_SERVED}
    )
    assert not inv.readable("nodes")
    assert "Node could not be read (forbidden" in inv.unreadable_reason("nodes")
    assert inv.readable("velero.schedules"), "a CRD not installed means: there are none"
    assert not inv.served("velero.schedules")
    assert not inv.readable("ingressclasses"), "a built-in kind not served is a gap"
    assert Inventory().coverage_of("pods") == Coverage(ERROR, message="not collected")


def test_object_for_subject_and_version() -> None:
    inv = shop()
    assert inv.object_for(Subject("Deployment", "shop", "web")) is not None
    assert inv.object_for(Subject.cluster()) is None
    assert inv.version == (1, 29, 3)
    assert f.make_inventory(version="v1.28.9-eks-036c24b").provider.name == "eks"


def test_recorded_fixture_lists_load(fixture_inventory) -> None:
    inv = fixture_inventory
    assert len(inv.items("clusterroles")) == 62
    assert inv.provider.name in ("unknown", "kubeadm", "eks")
    pod = inv.items("pods")[0]
    assert inv.pods_on_node(pod["spec"]["nodeName"]) == [pod]


def test_kinds_unread_for_one_reason_are_named_together() -> None:
    """A snapshot from before the Gateway API kinds were collected: "not collected" once."""
    inv = Inventory.from_objects({}, coverage={"gateway.gateways": FORBIDDEN})
    del inv.coverage["gateway.httproutes"], inv.coverage["gateway.grpcroutes"]
    assert inv.unreadable_reasons(["gateway.httproutes", "gateway.gateways", "gateway.grpcroutes"]) == (
        "HTTPRoute, GRPCRoute could not be read (error: not collected); Gateway could not be read (forbidden)"
    )

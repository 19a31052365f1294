"""The resilience area beyond its pass/fail fixtures: edge cases of each rule."""

from __future__ import annotations

from datetime import datetime

import pytest

from checks.resilience import SelectorIndex, addon_role, pdb_selector
from checks.workload_ha import pdb_allowed_disruptions, spread_rules_by_strength
from k8saudit.engine import run_check
from k8saudit.inventory import FORBIDDEN, label_selector_matches
from k8saudit.model import Status
from k8saudit.redact import REDACTED
from k8saudit.registry import Context, load_checks
from tests import factories as f
from tests.check_fixtures.resilience import (
    EXCLUDE_SYSTEM,
    coredns,
    deployment_with_pods,
    metrics_server,
    nodes,
    redis_container,
    spread_by_hostname,
    statefulset_with_pods,
)

CHECKS = load_checks()
CONTEXT = Context.default(datetime.fromisoformat("2026-11-20T08:00:00+00:00"))


def run(check_id: str, inventory):
    return run_check(CHECKS[check_id], inventory, CONTEXT)


def by_name(findings) -> dict[str, object]:
    return {finding.subject.name: finding for finding in findings}


# -- selectors and small rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({}, {"app": "web"}, True),
        (None, {"app": "web"}, False),
        ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
        (
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
            {"app": "api"},
            True,
        ),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, {}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"app": ""}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}, {"app": "2"}, False),
        # Shapes a file may hold and a server never sends: one implementation judges them for
        # every check (PDBs, spread rules, network policies, RBAC aggregation).
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": "webapp"}]}, {"app": "web"}, False),
        (
            {"matchExpressions": [{"key": "app", "operator": "In", "values": [1, "web"]}]},
            {"app": "web"},
            True,
        ),
        ({"matchExpressions": [{"key": ["app"], "operator": "Exists"}]}, {"app": "web"}, False),
        ({"matchExpressions": {"key": "app", "operator": "Exists"}}, {"app": "web"}, False),
        ({"matchExpressions": ["app"]}, {"app": "web"}, False),
        ({"matchLabels": ["app"]}, {"app": "web"}, False),
    ],
)
def test_label_selector_matches(selector, labels, matches: bool) -> None:
    assert label_selector_matches(selector, labels) is matches


@pytest.mark.parametrize(
    ("spec", "expected", "allowed"),
    [
        ({"minAvailable": 2}, 2, 0),
        ({"minAvailable": 2}, 3, 1),
        ({"minAvailable": "100%"}, 5, 0),
        ({"minAvailable": "50%"}, 1, 0),  # rounds up: 1 of 1 must stay
        ({"minAvailable": "50%"}, 4, 2),
        ({"maxUnavailable": 0}, 3, 0),
        ({"maxUnavailable": "0%"}, 3, 0),
        ({"maxUnavailable": "10%"}, 3, 1),  # rounds up: at least one
        ({"maxUnavailable": 1}, 3, 1),
        ({"minAvailable": "lots"}, 3, None),
        ({}, 3, None),
    ],
)
def test_disruptions_allowed(spec, expected: int, allowed) -> None:
    assert pdb_allowed_disruptions({"spec": spec}, expected) == allowed


def test_spread_rules_must_select_their_own_pods() -> None:
    def redis(template_spec: dict) -> dict:
        return f.statefulset("redis", "shop", template_spec=template_spec)

    other_app = {
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    }
                ]
            }
        }
    }
    assert spread_rules_by_strength("statefulsets", redis(other_app)) == ([], [])
    preferred = {
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "topology.kubernetes.io/zone",
                            "labelSelector": {"matchLabels": {"app": "redis"}},
                        },
                    }
                ]
            }
        }
    }
    assert spread_rules_by_strength("statefulsets", redis(preferred)) == (
        [],
        ["preferred anti-affinity on topology.kubernetes.io/zone"],
    )
    hard, soft = spread_rules_by_strength("statefulsets", redis(spread_by_hostname("redis")))
    assert hard and not soft
    region = {"topologySpreadConstraints": [{"topologyKey": "topology.kubernetes.io/region", "maxSkew": 1}]}
    assert spread_rules_by_strength("statefulsets", redis(region)) == ([], [])


def test_dns_and_ingress_workloads_are_left_to_their_areas() -> None:
    dns = deployment_with_pods(
        "coredns",
        "kube-system",
        replicas=2,
        node_names=["node-1"],
        labels={"k8s-app": "kube-dns"},
        containers=[f.container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", ports=[53])],
    )
    inventory = f.make_inventory(
        nodes=nodes(), statefulsets=[], poddisruptionbudgets=[], daemonsets=[], **dns
    )
    for check_id in ("RES-004", "RES-006", "RES-009"):
        [finding] = run(check_id, inventory)
        assert finding.status is Status.NOT_APPLICABLE, check_id


def role_of(key: str, workload: dict) -> str | None:
    """The add-on role of a workload alone in its inventory."""
    return addon_role(f.make_inventory(**{key: [workload]}), key, workload)


def test_addon_roles() -> None:
    assert role_of("deployments", coredns()) == "DNS"
    nginx = f.deployment(
        "controller",
        "ingress",
        containers=[f.container("c", "registry.k8s.io/ingress-nginx/controller:v1.10.0")],
    )
    assert role_of("deployments", nginx) == "ingress controller"
    assert role_of("deployments", f.deployment("metrics-server", "kube-system")) == "kube-system add-on"
    assert role_of("statefulsets", f.statefulset("prometheus-k8s", "monitoring")) == "monitoring"
    assert role_of("deployments", f.deployment("web", "shop")) is None


@pytest.mark.parametrize(
    ("image", "labels", "role"),
    [
        ("myorg/nginx-ingress-test-fixtures:1.0", None, None),  # a substring is not a controller
        ("traefik/whoami:v1.10", None, None),
        ("docker.io/library/traefik:v3.0", None, "ingress controller"),
        ("kong:3.6", None, "ingress controller"),  # Kong's gateway: not an ING-* family
        ("docker.io/emissaryingress/emissary:3.9", None, "ingress controller"),
        ("docker.io/istio/proxyv2:1.22", {"app": "istio-ingressgateway"}, "ingress controller"),
    ],
)
def test_ingress_controllers_are_recognised_by_whole_image_path_parts(image, labels, role) -> None:
    workload = f.deployment("edge", "shop", labels=labels, containers=[f.container("c", image)])
    assert role_of("deployments", workload) == role


def test_an_image_merely_mentioning_ingress_gets_no_add_on_priority_finding() -> None:
    fixtures = f.deployment(
        "fixtures", "ci", containers=[f.container("c", "myorg/nginx-ingress-test-fixtures:1")]
    )
    [finding] = run("RES-008", f.make_inventory(deployments=[fixtures], daemonsets=[], statefulsets=[]))
    assert finding.subject.name != "fixtures"


# -- RES-001 --------------------------------------------------------------------------------------


def test_cronjob_gaps_are_warnings() -> None:
    inventory = f.make_inventory(
        cronjobs=[
            f.cronjob("no-deadlines", schedule="*/10 * * * *", starting_deadline=None, active_deadline=None),
            f.cronjob("overlap", schedule="*/5 * * * *", concurrency_policy="Allow", active_deadline=900),
            f.cronjob(
                "paused", schedule="* * * * *", concurrency_policy="Allow", active_deadline=None, suspend=True
            ),
            f.cronjob("weird", schedule="0 0 30 2 *"),
        ]
    )
    found = by_name(run("RES-001", inventory))
    assert found["no-deadlines"].status is Status.WARN
    assert "startingDeadlineSeconds" in found["no-deadlines"].message
    assert found["overlap"].status is Status.WARN and "may overlap" in found["overlap"].message
    assert found["paused"].status is Status.PASS
    assert found["weird"].status is Status.UNKNOWN and "never fires" in found["weird"].message


# -- RES-002 --------------------------------------------------------------------------------------


def test_scoped_pod_quota_is_a_warning() -> None:
    scoped = f.resourcequota("besteffort", "shop", {"pods": "10"})
    scoped["spec"]["scopes"] = ["BestEffort"]
    inventory = f.make_inventory(namespaces=[f.namespace("shop")], resourcequotas=[scoped])
    assert [x.status for x in run("RES-002", inventory)] == [Status.WARN]


# -- RES-003 --------------------------------------------------------------------------------------


def test_cfs_verdicts_per_workload() -> None:
    limited = [f.container("api", "registry.example.com/api:1.0", cpu_limit="500m")]
    objects = deployment_with_pods("api", "shop", replicas=2, node_names=["old", "odd"], containers=limited)
    debian = [f.node("old", kernel="4.19.0-6-amd64"), f.node("odd", kernel="")]
    [finding] = run("RES-003", f.make_inventory(nodes=debian, **objects))
    assert finding.status is Status.WARN and finding.subject.name == "api"
    assert finding.evidence["unclear_nodes"] == ["odd", "old"]
    unlimited = deployment_with_pods("web", "shop", replicas=2)
    [finding] = run("RES-003", f.make_inventory(nodes=nodes(kernel="4.9.337"), **unlimited))
    assert finding.status is Status.NOT_APPLICABLE


# -- RES-004 --------------------------------------------------------------------------------------


def test_soft_spreading_with_all_pods_on_one_node_is_a_warning() -> None:
    soft = spread_by_hostname("web")
    soft["topologySpreadConstraints"][0]["whenUnsatisfiable"] = "ScheduleAnyway"
    objects = deployment_with_pods("web", "shop", replicas=3, node_names=["node-1"], template_spec=soft)
    [finding] = run("RES-004", f.make_inventory(nodes=nodes(), statefulsets=[], **objects))
    assert finding.status is Status.WARN
    assert "all 3 running pods are on node node-1" in finding.message


def test_single_replicas_are_not_judged_and_unreadable_pods_leave_placement_unknown() -> None:
    single = deployment_with_pods("web", "shop", replicas=1)
    [finding] = run("RES-004", f.make_inventory(statefulsets=[], **single))
    assert finding.status is Status.NOT_APPLICABLE
    stacked = statefulset_with_pods(
        "redis", "shop", replicas=3, node_names=["node-2"], containers=[redis_container(readiness=True)]
    )
    inventory = f.make_inventory(deployments=[], replicasets=[], coverage={"pods": FORBIDDEN}, **stacked)
    [finding] = run("RES-004", inventory)
    assert finding.status is Status.FAIL and "placement not visible" in finding.message


# -- RES-005 --------------------------------------------------------------------------------------


def test_only_serving_containers_need_readiness_probes() -> None:
    app = f.container("web", "registry.example.com/web:1", ports=[8080])
    sidecar = f.container("log-tailer", "busybox:1.36", readiness=False)
    objects = deployment_with_pods("web", "shop", replicas=2, containers=[app, sidecar])
    inventory = f.make_inventory(
        services=[f.service("web", "shop")], statefulsets=[], daemonsets=[], **objects
    )
    assert [x.status for x in run("RES-005", inventory)] == [Status.PASS]
    unserved = deployment_with_pods("worker", "shop", replicas=2, containers=[sidecar])
    quiet = f.make_inventory(services=[], statefulsets=[], daemonsets=[], **unserved)
    assert [x.status for x in run("RES-005", quiet)] == [Status.NOT_APPLICABLE]


def test_deployments_with_volume_claims_count_as_stateful() -> None:
    objects = deployment_with_pods(
        "db",
        "shop",
        replicas=1,
        containers=[f.container("db", "postgres:16", ports=[5432], readiness=False)],
        template_spec={"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "db-data"}}]},
    )
    inventory = f.make_inventory(services=[], statefulsets=[], daemonsets=[], **objects)
    [finding] = run("RES-005", inventory)
    assert finding.status is Status.FAIL and "stateful" in finding.message


# -- RES-008 --------------------------------------------------------------------------------------


def webhooks(ready_ips, namespace_selector, *, readable_endpoints=True, **hook_extra):
    hook = f.webhook_configuration("image-policy", namespace_selector=namespace_selector)
    hook["webhooks"][0].update(hook_extra)
    return f.make_inventory(
        namespaces=[f.namespace("kube-system"), f.namespace("policy")],
        services=[f.service("policy-webhook", "policy", ports=[443])],
        endpoints=[f.endpoints("policy-webhook", "policy", ready_ips=ready_ips)],
        validatingwebhookconfigurations=[hook],
        mutatingwebhookconfigurations=[],
        coverage=None if readable_endpoints else {"endpoints": FORBIDDEN},
    )


def test_single_webhook_endpoint_is_a_warning() -> None:
    [finding] = run("RES-008", webhooks(["10.2.1.10"], EXCLUDE_SYSTEM))
    assert finding.status is Status.WARN and "single ready endpoint" in finding.message


def test_unreadable_webhook_endpoints_are_unknown() -> None:
    [finding] = run("RES-008", webhooks(["10.2.1.10", "10.2.2.10"], EXCLUDE_SYSTEM, readable_endpoints=False))
    assert finding.status is Status.UNKNOWN


def test_object_selector_is_given_the_benefit_of_the_doubt() -> None:
    scoped = {"matchLabels": {"image-policy": "enforce"}}
    [finding] = run("RES-008", webhooks(["10.2.1.10", "10.2.2.10"], None, objectSelector=scoped))
    assert finding.status is Status.PASS


def test_missing_backend_service_fails() -> None:
    inventory = webhooks(["10.2.1.10", "10.2.2.10"], EXCLUDE_SYSTEM)
    inventory.objects["services"] = []
    [finding] = run("RES-008", inventory)
    assert finding.status is Status.FAIL and "does not exist" in finding.message


EXCLUDE_ONLY_KUBE_SYSTEM = {
    "matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}
    ]
}


def admission_rule(**fields) -> dict:
    """A rule matching Pod CREATE in every group, with `fields` replacing its defaults."""
    rule = {"apiGroups": ["*"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
    return {**rule, "scope": "*", **fields}


@pytest.mark.parametrize(
    ("rule", "intercepts_pod_creation"),
    [
        (admission_rule(apiGroups=["apps"], resources=["*"]), False),  # Deployments, not Pods
        (admission_rule(apiGroups=[""], resources=["*"]), True),
        (admission_rule(apiVersions=["v1beta1"]), False),
        (admission_rule(resources=["pods/*"]), True),  # `/*` covers the resource itself too
        (admission_rule(resources=["*/*"]), True),
        (admission_rule(resources=["pods/status", "*/scale"]), False),
        (admission_rule(operations=["UPDATE", "DELETE"]), False),
        (admission_rule(operations=["*"]), True),
        (admission_rule(scope="Cluster"), False),
    ],
)
def test_only_rules_matching_pod_creation_keep_a_webhook_from_restarting_itself(
    rule: dict, intercepts_pod_creation: bool
) -> None:
    inventory = webhooks(["10.2.1.10", "10.2.2.10"], EXCLUDE_ONLY_KUBE_SYSTEM, rules=[rule])
    [finding] = run("RES-008", inventory)
    if intercepts_pod_creation:
        assert finding.status is Status.FAIL
        assert "intercepts pod creation in its own namespace policy" in finding.message
    else:
        assert finding.status is Status.PASS and "kube-system spared" in finding.message


# -- RES-009 --------------------------------------------------------------------------------------


def test_custom_priority_class_is_a_warning_for_system_addons() -> None:
    inventory = f.make_inventory(
        deployments=[metrics_server(priority="platform-high")],
        daemonsets=[],
        statefulsets=[],
        priorityclasses=[f.priorityclass("platform-high", 100000)],
    )
    [finding] = run("RES-009", inventory)
    assert finding.status is Status.WARN and finding.evidence["priority"] == 100000


# -- RES-010 --------------------------------------------------------------------------------------


def test_public_nodes_keep_the_cni_snat() -> None:
    public = [
        f.node(f"n{i}", status={"addresses": [{"type": "ExternalIP", "address": f"3.120.0.{i}"}]})
        for i in (1, 2)
    ]
    cni = f.daemonset("aws-node", containers=[f.container("aws-node", "amazon-k8s-cni:v1.18.1")])
    [finding] = run("RES-010", f.make_inventory(nodes=public, daemonsets=[cni]))
    assert finding.status is Status.PASS
    [absent] = run("RES-010", f.make_inventory(nodes=public, daemonsets=[]))
    assert absent.status is Status.NOT_APPLICABLE


# -- RES-011 --------------------------------------------------------------------------------------


def test_log_shipper_readiness_and_node_coverage() -> None:
    lagging = f.daemonset(
        "fluent-bit", "logging", containers=[f.container("fb", "fluent/fluent-bit:3.0")], desired=3, ready=2
    )
    [finding] = run("RES-011", f.make_inventory(nodes=nodes(), daemonsets=[lagging]))
    assert finding.status is Status.FAIL and "logs from 1 node(s) are lost" in finding.message
    intolerant = f.daemonset(
        "promtail", "logging", containers=[f.container("p", "grafana/promtail:2.9.0")], desired=3
    )
    cluster = f.make_inventory(nodes=[*nodes(), f.node("cp-1", control_plane=True)], daemonsets=[intolerant])
    [finding] = run("RES-011", cluster)
    assert finding.status is Status.WARN and "1 node(s) are excluded" in finding.message


# -- RES-012 --------------------------------------------------------------------------------------


def test_metrics_without_alerting_and_crds_without_workloads() -> None:
    prometheus = f.statefulset(
        "prometheus", "monitoring", containers=[f.container("p", "prom/prometheus:v2.51.0")]
    )
    exporter = f.daemonset(
        "node-exporter", "monitoring", containers=[f.container("e", "prom/node-exporter:v1.7.0")]
    )
    [finding] = run(
        "RES-012", f.make_inventory(deployments=[], daemonsets=[exporter], statefulsets=[prometheus])
    )
    assert finding.status is Status.WARN and "nobody is paged" in finding.message
    crd = {"metadata": {"name": "prometheuses.monitoring.coreos.com"}, "spec": {}}
    [finding] = run(
        "RES-012",
        f.make_inventory(
            deployments=[], daemonsets=[exporter], statefulsets=[], customresourcedefinitions=[crd]
        ),
    )
    assert finding.status is Status.WARN and "CRDs" in finding.message
    [finding] = run(
        "RES-012",
        f.make_inventory(
            deployments=[], daemonsets=[], statefulsets=[], coverage={"customresourcedefinitions": FORBIDDEN}
        ),
    )
    assert finding.status is Status.UNKNOWN
    datadog = f.daemonset(
        "datadog-agent", "datadog", containers=[f.container("agent", "gcr.io/datadoghq/agent:7")]
    )
    [finding] = run("RES-012", f.make_inventory(deployments=[], daemonsets=[datadog], statefulsets=[]))
    assert finding.status is Status.PASS


def test_selector_index_finds_every_kind_of_selector() -> None:
    by_labels = f.pdb("by-labels", "shop", {"app": "web", "tier": "fe"})
    by_expression = f.pdb("by-expression", "shop", {})
    by_expression["spec"]["selector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]
    }
    everything = f.pdb("everything", "shop", {})
    nothing = f.pdb("nothing", "shop", {})
    nothing["spec"]["selector"] = None
    elsewhere = f.pdb("elsewhere", "other", {"app": "web"})
    index = SelectorIndex([by_labels, by_expression, everything, nothing, elsewhere], pdb_selector)
    found = {b["metadata"]["name"] for b in index.selecting("shop", {"app": "web", "tier": "fe"})}
    assert found == {"by-labels", "by-expression", "everything"}
    assert {b["metadata"]["name"] for b in index.selecting("shop", {"app": "api"})} == {"everything"}


def test_budget_expected_pods_fall_back_to_status() -> None:
    orphan = f.pdb("legacy", "shop", {"app": "legacy"}, min_available=1, status={"expectedPods": 1})
    [finding] = run(
        "RES-007", f.make_inventory(poddisruptionbudgets=[orphan], deployments=[], statefulsets=[])
    )
    assert finding.status is Status.FAIL and finding.evidence["expected_pods"] == 1
    gone = f.pdb("gone", "shop", {"app": "gone"}, min_available=1)
    [finding] = run("RES-007", f.make_inventory(poddisruptionbudgets=[gone], deployments=[], statefulsets=[]))
    assert finding.status is Status.NOT_APPLICABLE


def test_exporters_are_not_monitoring_addons() -> None:
    exporter = f.daemonset(
        "prometheus-node-exporter",
        "monitoring",
        containers=[f.container("e", "quay.io/prometheus/node-exporter:v1.7.0")],
    )
    assert role_of("daemonsets", exporter) is None
    gmp = f.daemonset(
        "collector", "gmp-system", containers=[f.container("c", "gke.gcr.io/prometheus-engine/prometheus:v2")]
    )
    [finding] = run("RES-012", f.make_inventory(deployments=[], daemonsets=[exporter, gmp], statefulsets=[]))
    assert finding.status is Status.WARN and "gmp-system/collector" in finding.message


def test_redacted_external_snat_value_is_unknown() -> None:
    cni = f.daemonset(
        "aws-node",
        containers=[
            f.container(
                "aws-node",
                "amazon-k8s-cni:v1.18.1",
                env=[{"name": "AWS_VPC_K8S_CNI_EXTERNALSNAT", "value": REDACTED}],
            )
        ],
    )
    [finding] = run("RES-010", f.make_inventory(nodes=nodes(), daemonsets=[cni]))
    assert finding.status is Status.UNKNOWN

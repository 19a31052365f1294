"""The ingress area beyond its pass/fail fixtures: version ranges of the advisory table, image
parsing, controller detection for every family, and the edge cases of each check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from checks.advisories import (
    INGRESS_NGINX_ADVISORIES,
    Advisory,
    affecting,
    find_version,
    image_repository,
    image_tag,
    image_version,
)
from checks.ingress_controllers import INGRESS_NGINX, detect_controllers, family_for_class, flag_value
from k8saudit.engine import run_check
from k8saudit.inventory import Inventory
from k8saudit.model import Status
from k8saudit.redact import REDACTED, redact
from k8saudit.registry import Context, load_checks
from tests import factories as f
from tests.check_fixtures import ingress as fx

CHECKS = load_checks()
CTX = Context.default(datetime(2026, 11, 20, 8, tzinfo=UTC))


def run(check_id: str, inv: Inventory, ctx: Context = CTX) -> list[tuple[Status, str]]:
    return [(x.status, x.message) for x in run_check(CHECKS[check_id], inv, ctx)]


def statuses(check_id: str, inv: Inventory, ctx: Context = CTX) -> list[Status]:
    return [status for status, _ in run(check_id, inv, ctx)]


def ids(version: tuple[int, int, int]) -> set[str]:
    return {a.id for a in affecting(INGRESS_NGINX_ADVISORIES, version)}


# -- version ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "affected", "not_affected"),
    [
        ((1, 9, 4), {"CVE-2025-1974", "CVE-2024-7646", "CVE-2026-4342"}, {"CVE-2023-5043", "CVE-2021-25742"}),
        ((1, 11, 4), {"CVE-2025-1974", "CVE-2025-1097"}, {"CVE-2024-7646"}),
        ((1, 11, 5), {"CVE-2025-15566", "CVE-2026-24512"}, {"CVE-2025-1974", "CVE-2025-24514"}),
        ((1, 12, 0), {"CVE-2025-1974"}, set()),
        ((1, 12, 1), {"CVE-2025-15566"}, {"CVE-2025-1974", "CVE-2025-1098"}),
        ((1, 13, 1), {"CVE-2026-1580", "CVE-2026-3288"}, {"CVE-2025-15566"}),
        ((1, 14, 4), {"CVE-2026-4342"}, {"CVE-2026-3288", "CVE-2026-24512"}),
        ((1, 15, 1), set(), {"CVE-2026-4342", "CVE-2026-3288"}),
        ((1, 0, 0), {"CVE-2021-25742", "CVE-2021-25745"}, set()),
        ((0, 49, 3), {"CVE-2021-25745"}, {"CVE-2021-25742", "CVE-2020-8553"}),
        ((0, 26, 1), {"CVE-2020-8553", "CVE-2021-25742"}, set()),
    ],
)
def test_advisory_version_ranges(version, affected: set[str], not_affected: set[str]) -> None:
    found = ids(version)
    assert affected <= found, affected - found
    assert not (not_affected & found), not_affected & found


def test_newest_release_of_every_listed_line_is_clean_of_older_lines_fixes() -> None:
    # 1.10.x never got the IngressNightmare fixes (only 1.11.5 and 1.12.1 did): still affected.
    assert "CVE-2025-1974" in ids((1, 10, 99))
    # A future minor newer than every fix line is affected by nothing.
    assert ids((1, 16, 0)) == set()


def test_introduced_bounds_the_range() -> None:
    advisory = Advisory("X", "x", "low", ((1, 11, 1),), ("https://x",), introduced=(1, 11, 0))
    assert (
        advisory.affects((1, 11, 0)) and not advisory.affects((1, 10, 9)) and not advisory.affects((1, 11, 1))
    )


def test_every_advisory_has_a_reference_and_a_known_severity() -> None:
    for advisory in INGRESS_NGINX_ADVISORIES:
        assert advisory.references and all(r.startswith("https://") for r in advisory.references)
        assert advisory.severity in ("critical", "high", "medium", "low")
        assert advisory.fixed


@pytest.mark.parametrize(
    ("image", "repository", "tag", "version"),
    [
        (
            "registry.k8s.io/ingress-nginx/controller:v1.9.4@sha256:" + "a" * 64,
            "registry.k8s.io/ingress-nginx/controller",
            "v1.9.4",
            (1, 9, 4),
        ),
        (
            "quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.26.1",
            "quay.io/kubernetes-ingress-controller/nginx-ingress-controller",
            "0.26.1",
            (0, 26, 1),
        ),
        ("rancher/nginx-ingress-controller:nginx-1.9.4-rancher1", None, None, (1, 9, 4)),
        ("docker.io/bitnami/nginx-ingress-controller:1.9.4-debian-11-r2", None, None, (1, 9, 4)),
        ("localhost:5000/ingress-nginx/controller", "localhost:5000/ingress-nginx/controller", "", None),
        ("registry.k8s.io/ingress-nginx/controller@sha256:" + "b" * 64, None, "", None),
        (
            "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.1-eksbuild.4",
            None,
            None,
            (1, 11, 1),
        ),
    ],
)
def test_image_parsing(image: str, repository: str | None, tag: str | None, version) -> None:
    if repository is not None:
        assert image_repository(image) == repository
    if tag is not None:
        assert image_tag(image) == tag
    assert image_version(image) == version


def test_find_version_ignores_text_without_a_version() -> None:
    assert find_version("latest") is None and find_version("") is None
    assert find_version("v1.2") == (1, 2, 0)


# -- controller detection -----------------------------------------------------------------------


def controller_inventory(
    *deployments: dict[str, Any], daemonsets: list[dict[str, Any]] | None = None
) -> Inventory:
    return f.make_inventory(deployments=list(deployments), daemonsets=daemonsets or [])


@pytest.mark.parametrize(
    ("image", "labels", "family"),
    [
        ("registry.k8s.io/ingress-nginx/controller:v1.12.1", None, "ingress-nginx"),
        ("registry.k8s.io/ingress-nginx/controller-chroot:v1.12.1", None, "ingress-nginx"),
        ("k8s.gcr.io/ingress-nginx/controller:v1.1.1", None, "ingress-nginx"),
        ("quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.32.0", None, "ingress-nginx"),
        ("mycorp.example/mirror/ctl:v1.10.0", {"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx"),
        ("nginx/nginx-ingress:3.4.3", None, "nginx-inc"),
        ("docker.io/traefik:v3.1.0", None, "traefik"),
        ("docker.io/library/traefik:v2.11.0", None, "traefik"),
        ("rancher/mirrored-library-traefik:2.10.5", None, "traefik"),  # k3s' bundled Traefik
        ("private-registry.nginx.com/nginx-ic/nginx-plus-ingress:3.4.3", None, "nginx-inc"),
        ("quay.io/jcmoraisjr/haproxy-ingress:v0.14.5", None, "haproxy"),
        ("haproxytech/kubernetes-ingress:1.11.3", None, "haproxy"),
        ("ghcr.io/projectcontour/contour:v1.28.0", None, "contour"),
        ("registry.opensource.zalan.do/teapot/skipper:v0.21.0", None, "skipper"),
        ("kong/kubernetes-ingress-controller:3.1", None, "kong"),
        ("public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1", None, "aws-load-balancer"),
        (
            "docker.io/istio/proxyv2:1.22.0",
            {"app": "istio-ingressgateway", "istio": "ingressgateway"},
            "istio",
        ),
    ],
)
def test_controller_families_are_recognised(image: str, labels: dict[str, str] | None, family: str) -> None:
    deployment = f.deployment("edge", "edge", labels=labels, containers=[f.container("c", image)])
    [controller] = detect_controllers(controller_inventory(deployment))
    assert controller.family.name == family


@pytest.mark.parametrize(
    "image",
    [
        "traefik/whoami:v1.10.1",  # Traefik's demo app
        "thomseddon/traefik-forward-auth:2.2.0",
        "ghcr.io/projectcontour/contour-authserver:v4.0.0",
        "nginx/nginx-ingress-operator:1.5.0",
        "rancher/nginx-ingress-controller-defaultbackend:1.5-rancher1",
    ],
)
def test_images_that_only_share_a_word_with_a_controller_are_not_controllers(image: str) -> None:
    deployment = f.deployment("app", "demo", labels={"app": "app"}, containers=[f.container("c", image)])
    assert detect_controllers(controller_inventory(deployment)) == []


def test_traefik_demo_app_neither_serves_the_traefik_class_nor_is_judged_as_a_controller() -> None:
    objects = {
        **fx.whoami_app(),
        "ingressclasses": [f.ingressclass("traefik", "traefik.io/ingress-controller", default=True)],
        "ingresses": [f.ingress("whoami", "demo", class_name="traefik")],
    }
    inv = f.make_inventory(**objects)
    [(status, message)] = run("ING-001", inv)
    assert status is Status.FAIL and "no running Traefik was found" in message
    assert run("ING-007", inv) == [
        (Status.NOT_APPLICABLE, "no ingress controller workload runs in the cluster")
    ]


def test_chart_helpers_with_the_same_name_label_are_not_controllers() -> None:
    backend = f.deployment(
        "ingress-nginx-defaultbackend",
        "ingress-nginx",
        labels={"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "default-backend"},
        containers=[f.container("backend", "registry.k8s.io/defaultbackend-amd64:1.5")],
    )
    app = f.deployment("web", "shop", containers=[f.container("web", "nginx:1.27")])
    assert detect_controllers(controller_inventory(backend, app)) == []


def test_version_falls_back_to_the_chart_label_for_digest_only_images() -> None:
    deployment = f.deployment(
        "ctl",
        "ingress-nginx",
        labels={"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/version": "1.10.1"},
        containers=[f.container("controller", "registry.k8s.io/ingress-nginx/controller@sha256:" + "c" * 64)],
    )
    [controller] = detect_controllers(controller_inventory(deployment))
    assert controller.version == (1, 10, 1)


def test_controller_class_and_configmap_come_from_flags() -> None:
    objects = fx.nginx_controller()
    [controller] = detect_controllers(f.make_inventory(**objects))
    assert controller.family is INGRESS_NGINX
    assert controller.controller_class == "k8s.io/ingress-nginx"
    assert controller.configmap_ref() == ("ingress-nginx", "ingress-nginx-controller")
    assert controller.serves("k8s.io/ingress-nginx") and not controller.serves("k8s.io/internal-nginx")


def test_flag_value_reads_both_spellings() -> None:
    words = ["--configmap", "ns/cm", "--election-id=x"]
    assert flag_value(words, "--configmap") == "ns/cm"
    assert flag_value(words, "--election-id") == "x"
    assert flag_value(words, "--missing") is None
    assert flag_value(["--configmap"], "--configmap") is None


def test_family_for_class_strings() -> None:
    assert family_for_class("k8s.io/ingress-nginx") is INGRESS_NGINX
    assert family_for_class("ingress.k8s.aws/alb").name == "aws-load-balancer"
    assert family_for_class("example.com/unknown") is None


# -- ING-001 ------------------------------------------------------------------------------------


def test_class_without_controller_fails_when_used_and_warns_when_not() -> None:
    objects = fx.healthy()
    objects["ingressclasses"] = [
        f.ingressclass("nginx", default=True),
        f.ingressclass("alb", "ingress.k8s.aws/alb"),
        f.ingressclass("internal", "k8s.io/internal-nginx"),
        f.ingressclass("exotic", "example.com/exotic"),
    ]
    objects["ingresses"] = [f.ingress("web", "shop"), f.ingress("api", "shop", class_name="internal")]
    by_subject = {
        x.subject.name: x.status for x in run_check(CHECKS["ING-001"], f.make_inventory(**objects), CTX)
    }
    assert by_subject == {
        "nginx": Status.PASS,
        "alb": Status.WARN,
        "internal": Status.FAIL,
        "exotic": Status.UNKNOWN,
    }


def test_no_class_and_no_ingress_is_not_applicable() -> None:
    inv = f.make_inventory(ingressclasses=[], ingresses=[], deployments=[], daemonsets=[])
    assert statuses("ING-001", inv) == [Status.NOT_APPLICABLE]


def nginx_not_ready() -> fx.Objects:
    """The chart's controller whose pods all run but fail their readiness probe."""
    objects = fx.nginx_controller()
    objects["deployments"][0]["status"]["readyReplicas"] = 0
    return objects


@pytest.mark.parametrize(
    ("controller", "idle_reason"),
    [
        (lambda: fx.nginx_controller(nodes=[]), "is scaled to zero"),
        (nginx_not_ready, "has none of its 3 pod(s) ready"),
        (lambda: fx.nginx_daemonset(desired=0), "is scheduled on no node"),
    ],
)
def test_class_whose_controller_has_no_ready_pod_is_not_served(
    controller: Callable[[], fx.Objects], idle_reason: str
) -> None:
    objects = fx.healthy(controller())
    [(status, message)] = run("ING-001", f.make_inventory(**objects))
    assert status is Status.FAIL
    assert "no ready pod serves 'k8s.io/ingress-nginx'" in message and idle_reason in message
    assert "1 Ingress(es) of this class are not served" in message
    unused = f.make_inventory(**{**objects, "ingresses": []})
    assert statuses("ING-001", unused) == [Status.WARN]


def test_gke_class_is_served_on_gke() -> None:
    inv = f.make_inventory(
        version="v1.30.5-gke.1014001",
        ingressclasses=[f.ingressclass("gce", "k8s.io/ingress-gce")],
        ingresses=[f.ingress("web", "shop", class_name="gce")],
        deployments=[],
        daemonsets=[],
    )
    assert statuses("ING-001", inv) == [Status.PASS]


def test_gke_ingress_needs_no_ingressclass_on_gke() -> None:
    ingresses = [
        f.ingress("web", "shop", class_name=None, annotations={"kubernetes.io/ingress.class": "gce"}),
        f.ingress(
            "intranet", "shop", class_name=None, annotations={"kubernetes.io/ingress.class": "gce-internal"}
        ),
        f.ingress("api", "shop", class_name=None),  # no class at all: GKE Ingress's by default
    ]
    [(status, message)] = run("ING-001", fx.gke_inventory(ingresses))
    assert status is Status.PASS
    assert (
        message.startswith("3 Ingress(es) are served by GKE Ingress") and "needs no IngressClass" in message
    )


def test_on_gke_ingresses_for_other_controllers_still_need_a_class() -> None:
    ingresses = [
        f.ingress("web", "shop", class_name=None, annotations={"kubernetes.io/ingress.class": "gce"}),
        f.ingress("api", "shop", class_name=None, annotations={"kubernetes.io/ingress.class": "nginx"}),
    ]
    [(status, message)] = run("ING-001", fx.gke_inventory(ingresses))
    assert status is Status.FAIL
    assert message.startswith("1 Ingress(es) exist but there is no IngressClass")
    assert "(1 more are served by GKE Ingress)" in message
    # Off GKE nothing serves the gce class.
    assert statuses("ING-001", f.make_inventory(ingresses=ingresses[:1], ingressclasses=[])) == [Status.FAIL]


# -- ING-002 / ING-003 --------------------------------------------------------------------------


def test_gke_selects_its_controller_with_the_annotation_and_serves_classless_ingresses() -> None:
    ingresses = [
        f.ingress("web", "shop", class_name=None, annotations={"kubernetes.io/ingress.class": "gce"}),
        f.ingress("api", "shop", class_name=None),
    ]
    by_name = {x.subject.name: x for x in run_check(CHECKS["ING-003"], fx.gke_inventory(ingresses), CTX)}
    assert by_name["web"].status is Status.PASS and "served by GKE Ingress" in by_name["web"].message
    assert "deprecated" not in by_name["web"].message
    assert by_name["api"].status is Status.WARN
    assert "relies on GKE's default, GKE Ingress" in by_name["api"].message
    # With IngressClasses but no default, class-less Ingresses still go to GKE Ingress.
    classes = [f.ingressclass("nginx")]
    [(status, message)] = run("ING-002", fx.gke_inventory(ingresses, classes))
    assert (
        status is Status.PASS
        and "GKE Ingress" in message
        and "serves Ingresses that name no class" in message
    )


@pytest.mark.parametrize("value", ["True", " true", "TRUE"])
def test_only_the_exact_string_true_marks_a_default_class(value: str) -> None:
    almost = f.ingressclass(
        "nginx", metadata={"annotations": {"ingressclass.kubernetes.io/is-default-class": value}}
    )
    inv = f.make_inventory(ingressclasses=[almost], ingresses=[f.ingress("web", "shop", class_name=None)])
    [(status, message)] = run("ING-002", inv)
    assert status is Status.FAIL
    assert (
        message.startswith("no IngressClass is the default") and 'on nginx is not exactly "true"' in message
    )
    [(status, message)] = run("ING-003", inv)
    assert status is Status.FAIL and "no single default class" in message


def created(name: str, timestamp: str) -> dict[str, Any]:
    return f.ingressclass(name, default=True, metadata={"creationTimestamp": timestamp})


NEWEST_PICKED = (
    "the API server silently gives every new Ingress that names no class the most recently created "
    "of them (nginx)"
)


@pytest.mark.parametrize(
    ("version", "effect"),
    [
        ("v1.24.17", "the API server rejects new Ingresses that do not name a class"),
        ("v1.25.0", NEWEST_PICKED),
        ("v1.25.0-rc.1", NEWEST_PICKED),  # the change shipped in 1.25's release candidates
        (
            "",  # /version unreadable: both behaviours
            "from Kubernetes 1.25 the API server gives new Ingresses that name no class the most "
            "recently created of them (nginx); older servers reject them",
        ),
    ],
)
def test_several_defaults_are_judged_by_what_the_server_version_does(version: str, effect: str) -> None:
    # nginx is the newer class: the admission plugin picks it, though alb comes first by name.
    classes = [created("alb", "2024-01-10T08:00:00Z"), created("nginx", "2025-03-01T12:00:00Z")]
    assert run("ING-002", f.make_inventory(version=version, ingressclasses=classes)) == [
        (Status.FAIL, f"2 IngressClasses are marked default (alb, nginx): {effect}")
    ]


def test_several_defaults_created_together_go_to_the_first_name() -> None:
    classes = [created("nginx", "2025-03-01T12:00:00Z"), created("alb", "2025-03-01T12:00:00Z")]
    [(_, message)] = run("ING-002", f.make_inventory(ingressclasses=classes))
    assert message.endswith("the most recently created of them (alb)")
    undated = [f.ingressclass("nginx", default=True), f.ingressclass("alb", default=True)]
    for cls in undated:
        del cls["metadata"]["creationTimestamp"]
    [(_, message)] = run("ING-002", f.make_inventory(ingressclasses=undated))
    assert message.endswith("names no class the most recently created of them")


def test_no_default_class_warns_unless_ingresses_depend_on_it() -> None:
    objects = {**fx.healthy(), "ingressclasses": [f.ingressclass("nginx")]}
    assert statuses("ING-002", f.make_inventory(**objects)) == [Status.WARN]
    objects["ingresses"] = [f.ingress("web", "shop", class_name=None)]
    assert statuses("ING-002", f.make_inventory(**objects)) == [Status.FAIL]


def test_classless_ingress_relies_on_the_default_or_fails_without_one() -> None:
    objects = {**fx.healthy(), "ingresses": [f.ingress("web", "shop", class_name=None)]}
    assert statuses("ING-003", f.make_inventory(**objects)) == [Status.WARN]
    objects["ingressclasses"] = [f.ingressclass("nginx")]
    assert statuses("ING-003", f.make_inventory(**objects)) == [Status.FAIL]


# -- ING-004 / ING-005 --------------------------------------------------------------------------


def test_unreadable_version_is_unknown() -> None:
    deployment = f.deployment(
        "ctl",
        "ingress-nginx",
        labels=fx.NGINX_LABELS,
        containers=[f.container("controller", "registry.k8s.io/ingress-nginx/controller:latest")],
    )
    inv = f.make_inventory(deployments=[deployment], daemonsets=[])
    assert statuses("ING-004", inv) == [Status.UNKNOWN]


def test_cve_finding_lists_the_advisories_as_evidence() -> None:
    [finding] = run_check(
        CHECKS["ING-004"], f.make_inventory(**fx.healthy(fx.nginx_controller("v1.11.4"))), CTX
    )
    listed = {a["id"] for a in finding.evidence["advisories"]}
    assert {"CVE-2025-1974", "CVE-2025-24513"} <= listed
    assert "CVE-2025-1974" in finding.message


def test_a_stuck_rollout_is_judged_by_the_oldest_running_pod() -> None:
    objects = fx.healthy()
    objects["pods"][0]["spec"]["containers"][0]["image"] = fx.NGINX_IMAGE.format(version="v1.9.4")
    [finding] = run_check(CHECKS["ING-004"], f.make_inventory(**objects), CTX)
    assert finding.status is Status.FAIL
    assert "v1.9.4 in running pods (the template asks for v1.15.1)" in finding.message
    # Without pods to look at, the template is all there is.
    [blind] = run_check(CHECKS["ING-004"], f.make_inventory(**objects, coverage={"pods": "forbidden"}), CTX)
    assert blind.status is Status.PASS


def test_retirement_warns_before_march_2026_and_fails_after() -> None:
    inv = f.make_inventory(**fx.healthy())
    before = Context.default(datetime(2026, 1, 15, tzinfo=UTC))
    long_before = Context.default(datetime(2025, 6, 1, tzinfo=UTC))
    assert statuses("ING-005", inv, before) == [Status.WARN]
    assert statuses("ING-005", inv, long_before) == [Status.PASS]
    assert statuses("ING-005", inv) == [Status.FAIL]


def test_nginx_inc_controller_is_not_the_retired_project() -> None:
    deployment = f.deployment("nic", "nginx", containers=[f.container("c", "nginx/nginx-ingress:4.0.1")])
    assert statuses("ING-005", f.make_inventory(deployments=[deployment], daemonsets=[])) == [Status.PASS]
    inv = f.make_inventory(deployments=[deployment], daemonsets=[])
    assert statuses("ING-004", inv) == [Status.NOT_APPLICABLE]
    assert statuses("ING-006", inv) == [Status.NOT_APPLICABLE]


# -- ING-006 ------------------------------------------------------------------------------------


def snippets(
    version: str, data: dict[str, str] | None, *, configmap: str | None = "ingress-nginx-controller"
) -> Status:
    objects = fx.healthy(fx.nginx_controller(version, configmap=configmap))
    objects["configmaps"] = (
        [] if data is None else [f.configmap("ingress-nginx-controller", fx.NGINX_NS, data)]
    )
    [status] = statuses("ING-006", f.make_inventory(**objects))
    return status


@pytest.mark.parametrize(
    ("version", "data", "expected"),
    [
        ("v1.8.4", {"allow-snippet-annotations": "false"}, Status.PASS),
        ("v1.8.4", {}, Status.FAIL),  # default on before 1.9
        ("v1.9.0", {}, Status.PASS),  # default off from 1.9
        ("v1.9.6", {"allow-snippet-annotations": "true"}, Status.FAIL),
        ("v1.11.5", {"allow-snippet-annotations": "True"}, Status.FAIL),
        ("v1.12.1", {"allow-snippet-annotations": "true"}, Status.WARN),  # blocked by risk level High
        ("v1.12.1", {"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"}, Status.FAIL),
        ("v1.8.4", None, Status.FAIL),  # ConfigMap missing: defaults of the version
        ("v1.12.1", None, Status.PASS),
        ("latest", {}, Status.UNKNOWN),  # key unset and version unknown
    ],
)
def test_snippet_setting_depends_on_value_and_version(version: str, data, expected: Status) -> None:
    assert snippets(version, data) is expected


def test_no_configmap_flag_means_built_in_defaults() -> None:
    assert snippets("v1.8.0", None, configmap=None) is Status.FAIL
    assert snippets("v1.10.0", None, configmap=None) is Status.PASS


def test_redacted_configmap_values_give_unknown() -> None:
    assert snippets("v1.12.1", {"allow-snippet-annotations": REDACTED}) is Status.UNKNOWN


def test_configmaps_forbidden_gives_unknown() -> None:
    inv = f.make_inventory(**fx.healthy(), coverage={"configmaps": "forbidden"})
    assert statuses("ING-006", inv) == [Status.UNKNOWN]


@pytest.mark.parametrize(
    ("namespace", "name"),
    [
        ("ingress-nginx", "ingress-nginx-controller"),
        ("edge", "internal-ingress-nginx-controller"),
        ("kube-system", "rke2-ingress-nginx-controller"),
        ("ingress-nginx", "nginx-configuration"),
        ("kube-system", "ingress-nginx"),
        ("ingress", "nginx-load-balancer-microk8s-conf"),
        ("app-routing-system", "nginx"),
    ],
)
def test_redaction_keeps_the_snippet_setting_of_common_controller_configmaps(
    namespace: str, name: str
) -> None:
    cm = f.configmap(name, namespace, {"allow-snippet-annotations": "true", "ssl-certificate": "PRIVATE"})
    redact("configmaps", cm)
    assert cm["data"] == {"allow-snippet-annotations": "true", "ssl-certificate": REDACTED}


# -- ING-007 … ING-009 --------------------------------------------------------------------------


def test_daemonset_controller_counts_nodes_and_needs_no_budget_or_spread_rule() -> None:
    [ds] = fx.nginx_daemonset()["daemonsets"]
    inv = f.make_inventory(deployments=[], daemonsets=[ds], poddisruptionbudgets=[])
    assert statuses("ING-007", inv) == [Status.PASS]
    assert statuses("ING-008", inv) == [Status.PASS]
    assert statuses("ING-009", inv) == [Status.PASS]
    single = f.make_inventory(deployments=[], daemonsets=[{**ds, "status": {"desiredNumberScheduled": 1}}])
    assert statuses("ING-007", single) == [Status.FAIL]


def test_cloud_load_balancer_controllers_are_not_judged_on_replicas() -> None:
    alb = f.deployment(
        "aws-load-balancer-controller",
        "kube-system",
        replicas=1,
        containers=[f.container("c", "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1")],
    )
    inv = f.make_inventory(deployments=[alb], daemonsets=[], poddisruptionbudgets=[])
    for check_id in ("ING-007", "ING-008", "ING-009"):
        assert statuses(check_id, inv) == [Status.NOT_APPLICABLE]


def test_not_ready_replicas_warn() -> None:
    objects = fx.healthy()
    objects["deployments"][0]["status"]["readyReplicas"] = 1
    assert statuses("ING-007", f.make_inventory(**objects)) == [Status.WARN]


def test_budget_that_allows_no_eviction_warns() -> None:
    objects = fx.healthy()
    objects["poddisruptionbudgets"] = [f.pdb("strict", fx.NGINX_NS, fx.NGINX_LABELS, min_available="100%")]
    assert statuses("ING-008", f.make_inventory(**objects)) == [Status.WARN]


def test_budget_selector_with_match_expressions() -> None:
    objects = fx.healthy()
    selector_pdb = f.pdb("expr", fx.NGINX_NS, {}, min_available=None, max_unavailable=1)
    selector_pdb["spec"]["selector"] = {
        "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["ingress-nginx"]}]
    }
    objects["poddisruptionbudgets"] = [selector_pdb]
    assert statuses("ING-008", f.make_inventory(**objects)) == [Status.PASS]


def test_spread_by_luck_warns_and_unreadable_pods_fall_back_to_the_template() -> None:
    objects = fx.healthy(fx.nginx_controller(spread=False))
    assert statuses("ING-009", f.make_inventory(**objects)) == [Status.WARN]
    stacked = fx.healthy(fx.nginx_controller(nodes=["n1", "n1", "n1"]))
    assert statuses("ING-009", f.make_inventory(**stacked, coverage={"pods": "forbidden"})) == [Status.PASS]
    assert statuses("ING-009", f.make_inventory(**stacked)) == [Status.FAIL]


# -- ING-010 ------------------------------------------------------------------------------------


def tls_status(ingress: dict[str, Any]) -> Status:
    [status] = statuses("ING-010", f.make_inventory(ingresses=[ingress]))
    return status


def test_tls_partial_wildcard_and_cloud_termination() -> None:
    partial = f.ingress("web", "shop", hosts=["a.example.com", "b.example.com"])
    partial["spec"]["tls"][0]["hosts"] = ["a.example.com"]
    assert tls_status(partial) is Status.WARN
    wildcard = f.ingress("web", "shop", hosts=["a.example.com", "b.example.com"])
    wildcard["spec"]["tls"][0]["hosts"] = ["*.example.com"]
    assert tls_status(wildcard) is Status.PASS
    alb = f.ingress(
        "web", "shop", tls=False, annotations={"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:x"}
    )
    assert tls_status(alb) is Status.PASS
    assert tls_status(f.ingress("web", "shop", tls=False)) is Status.FAIL


@pytest.mark.parametrize(
    ("class_name", "service_type", "expected"),
    [
        (None, "LoadBalancer", Status.PASS),  # the default class: nginx
        ("nginx", "LoadBalancer", Status.PASS),
        ("other", "LoadBalancer", Status.FAIL),  # another controller's class
        ("nginx", "NodePort", Status.FAIL),  # the annotation means nothing without a load balancer
    ],
)
def test_tls_terminated_by_the_controllers_load_balancer(class_name, service_type, expected) -> None:
    """ingress-nginx behind an NLB with an ACM certificate (its AWS guide): the annotation is on
    the controller's Service, never on the Ingresses, which carry no spec.tls."""
    objects = fx.healthy()
    front = f.service(
        "ingress-nginx-controller",
        fx.NGINX_NS,
        type=service_type,
        ports=[80, 443],
        selector=dict(fx.NGINX_LABELS),
        annotations={
            "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn:aws:acm:eu-west-1:1:certificate/a"
        },
    )
    ingress = f.ingress("web", "shop", tls=False)
    if class_name:
        ingress["spec"]["ingressClassName"] = class_name
    objects.update(services=[front], ingresses=[ingress])
    objects["ingressclasses"].append(f.ingressclass("other", controller="example.com/other"))
    [status] = statuses("ING-010", f.make_inventory(**objects))
    assert status is expected


def test_checks_run_on_the_recorded_v1_24_cluster(fixture_inventory: Inventory) -> None:
    """The recorded apiserver has an IngressClass, an Ingress and no controller workload."""
    results = {cid: statuses(cid, fixture_inventory) for cid in CHECKS if cid.startswith("ING-")}
    assert results["ING-001"] == [Status.FAIL]  # its one Ingress is served by nobody
    assert results["ING-002"] == [Status.PASS]
    assert results["ING-010"] == [Status.PASS]
    assert all(Status.ERROR not in s for s in results.values())


def test_the_demo_cluster_shows_the_ingress_failures() -> None:
    from tests.demo import build_inventory

    inv = build_inventory()
    failing = {
        cid: {str(x.subject) for x in run_check(CHECKS[cid], inv, CTX) if x.status.is_problem}
        for cid in CHECKS
        if cid.startswith("ING-")
    }
    controller = "Deployment ingress-nginx/ingress-nginx-controller"
    assert failing["ING-001"] == {"IngressClass alb"}
    assert failing["ING-002"] == {"cluster"}
    assert failing["ING-003"] == {"Ingress shop/checkout"}
    for cid in ("ING-004", "ING-005", "ING-006", "ING-007", "ING-008", "ING-009"):
        assert failing[cid] == {controller}, cid
    assert failing["ING-010"] == {"Ingress monitoring/grafana"}


# -- ING-011: which namespaces may attach routes to a Gateway ------------------------------------


@pytest.mark.parametrize(
    ("gateway", "expected", "words"),
    [
        (
            fx.shared_gateway(fx.listener(admits="All")),
            Status.FAIL,
            "listener https admits routes from every",
        ),
        (
            fx.shared_gateway(fx.listener(admits="All", hostname="shop.example.com")),
            Status.WARN,
            "listener https (shop.example.com) admits routes from every namespace for its host name",
        ),
        (
            fx.shared_gateway(fx.listener(admits="All"), address="10.0.4.7"),
            Status.WARN,
            "for any host name (the Gateway is not public: private address 10.0.4.7)",
        ),
        (fx.shared_gateway(fx.listener(), fx.listener("selected", admits="Selector")), Status.PASS, "chosen"),
    ],
)
def test_gateway_listeners_admitting_every_namespace(gateway, expected: Status, words: str) -> None:
    [(status, message)] = run("ING-011", f.make_inventory(gateway__gateways=[gateway]))
    assert status is expected and words in message


EVERY_NAMESPACE_EXISTS = {"key": "kubernetes.io/metadata.name", "operator": "Exists"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, Status.FAIL),  # an empty label selector selects every namespace
        ({"matchLabels": {}, "matchExpressions": []}, Status.FAIL),
        ({"matchExpressions": [EVERY_NAMESPACE_EXISTS]}, Status.FAIL),  # the API server sets it on all
        ({"matchLabels": {"gateway-access/shared": "true"}}, Status.PASS),
        ({"matchExpressions": [EVERY_NAMESPACE_EXISTS, {"key": "team", "operator": "Exists"}]}, Status.PASS),
        (
            {
                "matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop"]}
                ]
            },
            Status.PASS,
        ),
        ({"matchExpressions": "everything"}, Status.PASS),  # malformed: selects nothing
        # Exclusions only: every namespace but the listed ones, and any created tomorrow.
        ({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["sandbox"]}]}, Status.FAIL),
        ({"matchExpressions": [{"key": "quarantined", "operator": "DoesNotExist"}]}, Status.FAIL),
        (
            {
                "matchLabels": {"gateway-access/shared": "true"},
                "matchExpressions": [{"key": "quarantined", "operator": "DoesNotExist"}],
            },
            Status.PASS,
        ),
    ],
)
def test_a_selector_every_namespace_meets_admits_every_namespace(selector: dict, expected: Status) -> None:
    listener = fx.listener(admits="Selector")
    listener["allowedRoutes"]["namespaces"]["selector"] = selector
    [(status, message)] = run("ING-011", f.make_inventory(gateway__gateways=[fx.shared_gateway(listener)]))
    assert status is expected, message
    if expected is Status.FAIL:
        assert message.startswith("listener https admits routes from every namespace for any host name")


@pytest.mark.parametrize(
    ("allowed", "address", "expected", "words"),
    [
        (
            {"from": "All"},
            "18.197.44.120",
            Status.FAIL,
            "spec.allowedListeners lets a ListenerSet from every namespace add listeners for any host "
            "name: any namespace can take over another team's site on this Gateway (a listener for a "
            "more specific host name gets that host's requests)",
        ),
        ({"from": "Selector", "selector": {}}, "18.197.44.120", Status.FAIL, "ListenerSet from every"),
        (
            {"from": "All"},
            "10.0.4.7",
            Status.WARN,
            "add listeners for any host name (the Gateway is not public: private address 10.0.4.7)",
        ),
        ({"from": "Same"}, "18.197.44.120", Status.PASS, "chosen"),
        (
            {"from": "Selector", "selector": {"matchLabels": {"team": "shop"}}},
            "18.197.44.120",
            Status.PASS,
            "chosen",
        ),
        ({"from": "None"}, "18.197.44.120", Status.PASS, "chosen"),
    ],
)
def test_listener_sets_from_every_namespace_admit_every_namespace(
    allowed: dict, address: str, expected: Status, words: str
) -> None:
    """A Gateway whose own listeners admit only their namespace, but which lets a ListenerSet from
    any namespace add a listener: `shop.example.com` under its `*.example.com` wins that host."""
    gateway = fx.shared_gateway(
        fx.listener(hostname="*.example.com"), address=address, allowedListeners={"namespaces": allowed}
    )
    [(status, message)] = run("ING-011", f.make_inventory(gateway__gateways=[gateway]))
    assert status is expected and words in message, message


def test_an_open_listener_and_open_listener_sets_are_both_named() -> None:
    gateway = fx.shared_gateway(
        fx.listener(admits="All", hostname="shop.example.com"),
        allowedListeners={"namespaces": {"from": "All"}},
    )
    [(status, message)] = run("ING-011", f.make_inventory(gateway__gateways=[gateway]))
    assert status is Status.FAIL
    assert message.startswith(
        "listener https (shop.example.com) admits routes from every namespace for its host name, and "
        "spec.allowedListeners lets a ListenerSet from every namespace add listeners for any host name"
    )


def test_listeners_admitting_every_namespace_are_named_as_such() -> None:
    """A TCP listener has no host names: a route from anywhere takes its whole port."""
    tcp = {**fx.listener("db", admits="All"), "protocol": "TCP", "port": 5432}
    gateway = fx.shared_gateway(fx.listener(admits="All"), tcp)
    [(status, message)] = run("ING-011", f.make_inventory(gateway__gateways=[gateway]))
    assert status is Status.FAIL
    assert message.startswith(
        "listeners https, db admit routes from every namespace for any host name or its whole port"
    )


def test_no_gateway_is_not_applicable_and_unreadable_gateways_unknown() -> None:
    assert statuses("ING-011", f.make_inventory()) == [Status.NOT_APPLICABLE]
    forbidden = f.make_inventory(coverage={"gateway.gateways": "forbidden"})
    assert statuses("ING-011", forbidden) == [Status.UNKNOWN]

"""Least privilege works: the replay server enforces RBAC over its stored roles and bindings.

- With the ClusterRole `k8saudit rbac` prints, bound to a ServiceAccount, a scan reads everything
  it needs: no coverage gap, no 403.
- With only the built-in `view` ClusterRole, the scan completes and reports exactly which kinds
  were forbidden and which checks became `unknown`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from k8saudit.access import reader_manifests
from k8saudit.cli import main
from k8saudit.collector import Collector
from k8saudit.connection import connect
from k8saudit.inventory import FORBIDDEN, NOT_SERVED, OK
from k8saudit.kinds import KINDS_BY_KEY
from k8saudit.registry import load_checks
from tests import factories as f
from tests.conftest import FIXTURES
from tests.readonly import assert_read_only
from tests.replay import ReplayServer
from tests.replay.rbac import RequestAttributes, groups_of, rule_allows

RBAC = ("rbac.authorization.k8s.io", "v1")
SA_USER = "system:serviceaccount:k8saudit:k8saudit"
READ = ["get", "list", "watch"]

# The rules of the built-in `view` ClusterRole (aggregated from system:aggregate-to-view), as
# upstream's bootstrap policy writes them for v1.24 (plugin/pkg/auth/authorizer/rbac/
# bootstrappolicy/policy.go). `view` deliberately reads no Secrets, no RBAC objects, nothing
# cluster-scoped but namespaces: a scan with it has gaps.
VIEW_RULES = [
    {
        "apiGroups": [""],
        "resources": [
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        "verbs": READ,
    },
    {
        "apiGroups": [""],
        "resources": [
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        "verbs": READ,
    },
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": READ},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
    {
        "apiGroups": ["apps"],
        "resources": [
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        "verbs": READ,
    },
    {
        "apiGroups": ["autoscaling"],
        "resources": ["horizontalpodautoscalers", "horizontalpodautoscalers/status"],
        "verbs": READ,
    },
    {
        "apiGroups": ["batch"],
        "resources": ["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        "verbs": READ,
    },
    {
        "apiGroups": ["extensions"],
        "resources": [
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        "verbs": READ,
    },
    {
        "apiGroups": ["policy"],
        "resources": ["poddisruptionbudgets", "poddisruptionbudgets/status"],
        "verbs": READ,
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "ingresses/status", "networkpolicies"],
        "verbs": READ,
    },
]

# What `view` cannot list among the kinds a scan reads (velero and k3s are not installed on the
# recorded cluster: discovery says so and they are never listed).
FORBIDDEN_WITH_VIEW = [
    "nodes",
    "secrets",
    "ingressclasses",
    "priorityclasses",
    "clusterroles",
    "clusterrolebindings",
    "roles",
    "rolebindings",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "customresourcedefinitions",
]


def unknowns(report: dict) -> set[tuple[str, str]]:
    """(check id, message) of every `unknown` finding."""
    return {(x["check_id"], x["message"]) for x in report["findings"] if x["status"] == "unknown"}


def admin_baseline(srv: ReplayServer, tmp_path: Path, capsys) -> dict:
    """The same cluster scanned by an identity that may read everything (what RBAC costs is the
    difference: some checks are `unknown` on any cluster, e.g. etcd outside the API's view)."""
    report = scan_json(srv.write_kubeconfig(tmp_path / "admin-kubeconfig"), tmp_path, capsys)
    srv.clear_requests()
    return report


# The checks that `view` turns `unknown` on the recorded cluster (beyond those unknown for any
# identity). A check added later that needs one of the kinds above belongs here: the test names
# exactly what a `view`-only scan cannot judge.
UNKNOWN_WITH_VIEW = [
    "DNS-002",
    "DNS-007",
    "DNS-008",
    "ING-001",
    "ING-002",
    "ING-003",
    "NODE-001",
    "NODE-002",
    "NODE-003",
    "NODE-004",
    "NODE-005",
    "NODE-006",
    "RBAC-001",
    "RBAC-002",
    "RBAC-003",
    "RBAC-004",
    "RBAC-005",
    "RBAC-006",
    "RBAC-007",
    "RBAC-008",
    "RBAC-009",
    "RBAC-010",
    "RBAC-011",
    "RBAC-012",
    "RBAC-013",
    "RBAC-014",
    "RBAC-015",
    "RES-003",
    "RES-008",
    "RES-010",
    "RES-011",
    "RES-012",
    "VER-003",
    "VER-005",
    "VER-006",
    "VER-007",
    "VER-008",
    "VER-009",
]


def scan_json(kubeconfig: Path, tmp_path: Path, capsys) -> dict:
    out = tmp_path / "snap.json"
    assert main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(out), "-q", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def apply_reader_role(srv: ReplayServer, include_secrets: bool = True) -> None:
    """`k8saudit rbac | kubectl apply -f -`, into the replay server's store."""
    role, account, binding = reader_manifests(include_secrets=include_secrets)
    srv.add_objects(*RBAC, "clusterroles", [role])
    srv.add_objects("", "v1", "serviceaccounts", [account])
    srv.add_objects(*RBAC, "clusterrolebindings", [binding])


def as_service_account(srv: ReplayServer, tmp_path: Path) -> Path:
    srv.enforce_rbac(SA_USER)
    return srv.write_kubeconfig(tmp_path / "kubeconfig", token="sa-token", identity=SA_USER)


def test_the_printed_role_reads_everything_a_scan_needs(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    apply_reader_role(replay_server)
    baseline = admin_baseline(replay_server, tmp_path, capsys)
    report = scan_json(as_service_account(replay_server, tmp_path), tmp_path, capsys)
    states = {key: cov["state"] for key, cov in report["coverage"].items()}
    gaps = {k: s for k, s in states.items() if not (s == OK or (s == NOT_SERVED and KINDS_BY_KEY[k].custom))}
    assert gaps == {}
    assert unknowns(report) == unknowns(baseline), "least privilege costs no check"
    requests = replay_server.requests
    assert {r.identity for r in requests} == {SA_USER}
    assert [r for r in requests if r.status == 403] == []
    assert_read_only(requests)
    rules = report["collection"]["self_rules"]["resourceRules"]  # what the identity may do, recorded
    granted = {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
    assert ("", "secrets") in granted and (RBAC[0], "clusterroles") in granted


def test_the_printed_role_without_secrets_costs_exactly_the_secrets(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    apply_reader_role(replay_server, include_secrets=False)
    report = scan_json(as_service_account(replay_server, tmp_path), tmp_path, capsys)
    forbidden = [k for k, cov in report["coverage"].items() if cov["state"] == FORBIDDEN]
    assert forbidden == ["secrets"]


def test_rbac_enforcement_is_not_permissive(replay_server: ReplayServer, tmp_path: Path, capsys) -> None:
    """The same identity without a binding: everything is forbidden except what every
    authenticated user may do (discovery, /version, self reviews)."""
    kubeconfig = as_service_account(replay_server, tmp_path)
    inventory, collection = asyncio.run(Collector(connect(str(kubeconfig), None)).collect())
    states = {cov.state for key, cov in inventory.coverage.items() if not KINDS_BY_KEY[key].custom}
    assert states == {FORBIDDEN}
    assert inventory.cluster.version["gitVersion"] == "v1.24.0+0"
    assert collection.self_rules["resourceRules"] == [
        {
            "verbs": ["create"],
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        }
    ]
    # A scan makes that no report: a grade from nothing read would mislead.
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"]) == 2
    assert capsys.readouterr().err.startswith("k8saudit: error: nothing could be read: ")


def test_with_the_view_role_the_report_names_every_gap(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    baseline = admin_baseline(replay_server, tmp_path, capsys)
    binding = f.clusterrolebinding("viewer-view", "view", [f.subject("User", "viewer")])
    replay_server.add_objects(*RBAC, "clusterrolebindings", [binding])
    replay_server.enforce_rbac("viewer")
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "kubeconfig", token="viewer-token", identity="viewer"
    )
    out = tmp_path / "view.json"
    assert main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(out), "-q"]) == 0
    text = capsys.readouterr().out

    assert main(["report", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    forbidden = [k for k, cov in report["coverage"].items() if cov["state"] == FORBIDDEN]
    assert forbidden == FORBIDDEN_WITH_VIEW
    for key in forbidden:
        assert (
            f'User "viewer" cannot list resource "{KINDS_BY_KEY[key].resource}"'
            in report["coverage"][key]["message"]
        )
    ok = {k for k, cov in report["coverage"].items() if cov["state"] == OK}
    assert ok == {k for k in report["coverage"] if k not in forbidden and not KINDS_BY_KEY[k].custom}

    # What `view` costs: exactly these checks become `unknown`, each naming a forbidden kind.
    lost = unknowns(report) - unknowns(baseline)
    assert sorted({check_id for check_id, _ in lost}) == UNKNOWN_WITH_VIEW
    for _, message in lost:
        assert any(KINDS_BY_KEY[k].kind in message for k in FORBIDDEN_WITH_VIEW), message
    declared = {cid for cid, meta in load_checks().items() if set(meta.inputs) & set(FORBIDDEN_WITH_VIEW)}
    assert declared <= set(UNKNOWN_WITH_VIEW), "every check declaring a forbidden input is unknown"
    unknown_ids = sorted({x["check_id"] for x in report["findings"] if x["status"] == "unknown"})

    assert f"Coverage gaps ({len(FORBIDDEN_WITH_VIEW)} kinds could not be read" in text
    assert "Note: not permitted to read: " + ", ".join(FORBIDDEN_WITH_VIEW) in text
    assert "  Unknown: " + ", ".join(unknown_ids) in text
    assert_read_only(replay_server.requests)


def test_view_rules_written_down_match_the_recorded_aggregation() -> None:
    """The rules above are what the recorded v1.24 apiserver aggregates into `view`."""
    recorded = json.loads((FIXTURES / "list_clusterroles.json").read_text())["response"]["body"]["items"]
    by_name = {r["metadata"]["name"]: r for r in recorded}
    selector = by_name["view"]["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"]
    aggregated = [
        rule
        for role in recorded
        if role["metadata"]["name"] != "view"
        and all((role["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
        for rule in role.get("rules") or ()
    ]
    assert aggregated == VIEW_RULES


def test_replay_authorizer_grants_view_exactly_its_rules(replay_server: ReplayServer) -> None:
    binding = f.clusterrolebinding("viewer-view", "view", [f.subject("User", "viewer")])
    replay_server.add_objects(*RBAC, "clusterrolebindings", [binding])
    rules = replay_server.authorizer.rules_for("viewer", groups_of("viewer"))
    resource_rules = [
        r for r in rules if "resources" in r and "selfsubjectrulesreviews" not in r["resources"]
    ]
    assert resource_rules == VIEW_RULES


def attrs(verb: str, group: str = "", resource: str = "", **kw: str) -> RequestAttributes:
    return RequestAttributes(
        "u", ("system:authenticated",), verb, bool(resource), api_group=group, resource=resource, **kw
    )


@pytest.mark.parametrize(
    ("rule", "request_attrs", "allowed"),
    [
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}, attrs("list", "", "pods"), True),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}, attrs("get", "", "pods"), False),
        ({"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["*"]}, attrs("list", "", "pods"), False),
        ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, attrs("delete", "x.io", "things"), True),
        (
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            attrs("get", "", "pods", subresource="log"),
            False,
        ),
        (
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
            attrs("get", "", "pods", subresource="log"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]},
            attrs("get", "", "nodes", subresource="status"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"], "verbs": ["get"]},
            attrs("get", "", "secrets", name="a"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"], "verbs": ["list"]},
            attrs("list", "", "secrets"),
            False,
        ),
        ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, attrs("get", path="/apis/apps/v1"), True),
        ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, attrs("get", path="/api"), False),
        ({"nonResourceURLs": ["/version"], "verbs": ["get"]}, attrs("get", path="/version"), True),
        ({"nonResourceURLs": ["*"], "verbs": ["get"]}, attrs("post", path="/version"), False),
        (
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            attrs("get", path="/api/v1/pods"),
            False,
        ),
    ],
)
def test_rule_matching_follows_upstream(rule: dict, request_attrs: RequestAttributes, allowed: bool) -> None:
    assert rule_allows(rule, request_attrs) is allowed

"""The RBAC index and checks on the cases that are easy to get wrong: wildcards and subresources,
aggregated ClusterRoles, bootstrap recognition, namespaces that hold powerful service accounts,
resourceNames, and the real defaults of a recorded v1.24 API server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checks import rbac
from checks.rbac_index import (
    Principal,
    RbacIndex,
    RoleKey,
    resource_matches,
    rule_allows,
    rule_identity,
)
from k8saudit.engine import run_check
from k8saudit.inventory import FORBIDDEN, Inventory, label_selector_matches
from k8saudit.model import Status
from k8saudit.registry import Config, Context, load_checks
from tests import factories as f
from tests.check_fixtures.rbac import bound, namespaced_edit, rbac_inventory, sa

CHECKS = load_checks()
CONTEXT = Context.default(datetime(2026, 11, 20, tzinfo=UTC))


def statuses(check_id: str, inv: Inventory) -> dict[str, Status]:
    """Subject (as text) -> status, for one check."""
    return {str(f.subject): f.status for f in run_check(CHECKS[check_id], inv, CONTEXT)}


def messages(check_id: str, inv: Inventory) -> dict[str, str]:
    return {str(f.subject): f.message for f in run_check(CHECKS[check_id], inv, CONTEXT)}


# -- rule matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "requested", "expected"),
    [
        (["*"], "pods/exec", True),
        (["pods/exec"], "pods/exec", True),
        (["pods"], "pods/exec", False),  # a resource never covers its subresources
        (["pods/*"], "pods/exec", False),  # and `pods/*` is not a wildcard in RBAC
        (["*/exec"], "pods/exec", True),  # but `*/exec` is
        (["*/exec"], "pods", False),
        (["*/scale"], "pods/exec", False),
        ([], "pods", False),
    ],
)
def test_resource_matching_follows_the_rbac_authorizer(resources, requested, expected) -> None:
    assert resource_matches({"resources": resources}, requested) is expected


def test_wildcard_verbs_and_groups() -> None:
    rule = f.rule(["*"], ["secrets"], ["*"])
    assert rule_allows(rule, "", "secrets", "list")
    assert rule_allows(rule, "example.com", "secrets", "escalate")
    assert not rule_allows(f.rule(["get"], ["secrets"], ["apps"]), "", "secrets", "get")
    assert not rule_allows({"verbs": None, "resources": "secrets"}, "", "secrets", "get")  # malformed


def test_label_selector_with_expressions() -> None:
    labels = {"tier": "ops", "rbac.example.com/aggregate": "true"}
    assert label_selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["ops"]}]}, labels
    )
    assert not label_selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["ops"]}]}, labels
    )
    assert label_selector_matches({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, labels)
    assert not label_selector_matches({"matchExpressions": [{"key": "x", "operator": "Exists"}]}, labels)
    assert not label_selector_matches({"matchExpressions": [{"key": "tier", "operator": "Bogus"}]}, labels)
    assert label_selector_matches({}, labels)


def test_service_account_users_are_service_accounts() -> None:
    principal = Principal.from_subject({"kind": "User", "name": "system:serviceaccount:ci:jenkins"}, "")
    assert principal == Principal("ServiceAccount", "jenkins", "ci")
    assert Principal.from_subject({"kind": "ServiceAccount", "name": "x"}, "shop").namespace == "shop"


# -- aggregation --------------------------------------------------------------------------------


def test_aggregated_roles_resolve_even_before_the_controller_fills_them() -> None:
    idx = RbacIndex.of(rbac_inventory())
    admin = RoleKey("ClusterRole", "", "admin")
    sources = {r.source for r in idx.effective_rules(admin)}
    # admin <- edit <- view, through the aggregate-to-* labels, with the origin of every rule
    assert {"system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view"} <= sources
    assert idx.grants(RoleKey("ClusterRole", "", "edit"), "secrets")
    assert not idx.grants(RoleKey("ClusterRole", "", "view"), "secrets")


def test_a_wildcard_role_aggregated_into_edit_makes_edit_a_cluster_admin() -> None:
    sneaky = f.clusterrole(
        "crd-superpowers",
        [f.rule(["*"], ["*"], ["*"])],
        labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
    )
    inv = rbac_inventory(clusterroles=(sneaky,), rolebindings=(namespaced_edit("shop", "shop-devs"),))
    found = statuses("RBAC-003", inv)
    assert found["ClusterRole edit"] is Status.FAIL
    assert found["ClusterRole admin"] is Status.FAIL
    assert (
        "aggregates a `*` rule from ClusterRole crd-superpowers"
        in messages("RBAC-003", inv)["ClusterRole edit"]
    )
    # every RoleBinding of edit is now a namespace-admin binding
    assert statuses("RBAC-002", inv)["RoleBinding shop/shop-devs-edit"] is Status.WARN


def test_aggregation_cycles_terminate() -> None:
    a = f.clusterrole(
        "a",
        [f.rule(["get"], ["pods"])],
        labels={"agg": "b"},
        aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"agg": "a"}}]},
    )
    b = f.clusterrole(
        "b",
        [f.rule(["get"], ["secrets"])],
        labels={"agg": "a"},
        aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"agg": "b"}}]},
    )
    idx = RbacIndex.of(f.make_inventory(clusterroles=[a, b]))
    resources = {tuple(r.rule["resources"]) for r in idx.effective_rules(RoleKey("ClusterRole", "", "a"))}
    assert resources == {("pods",), ("secrets",)}


def _aggregate(name: str, rules: list[dict], selects: str, labels: dict[str, str] | None = None) -> dict:
    return f.clusterrole(
        name,
        rules,
        labels=labels,
        aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"agg": selects}}]},
    )


def test_a_role_aggregated_along_several_paths_is_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """admin <- edit <- view: resolving all three walks each aggregate's selectors once, not once
    per path that reaches it."""
    roles = [
        _aggregate("view", [], "view"),
        _aggregate("edit", [], "edit", labels={"agg": "admin"}),
        _aggregate("admin", [], "admin"),
        f.clusterrole("crd-view", [f.rule(["get"], ["widgets"], ["example.com"])], labels={"agg": "view"}),
        f.clusterrole("crd-edit", [f.rule(["create"], ["widgets"], ["example.com"])], labels={"agg": "edit"}),
    ]
    roles[0]["metadata"]["labels"] = {"agg": "edit"}
    idx = RbacIndex(f.make_inventory(clusterroles=roles))
    walked: list[str] = []
    sources = RbacIndex._aggregated_sources

    def counting(self: RbacIndex, name: str, aggregation: dict) -> list[str]:
        walked.append(name)
        return sources(self, name, aggregation)

    monkeypatch.setattr(RbacIndex, "_aggregated_sources", counting)
    rules = {
        name: idx.effective_rules(RoleKey("ClusterRole", "", name)) for name in ("admin", "edit", "view")
    }
    assert sorted(walked) == ["admin", "edit", "view"]
    assert [r.source for r in rules["admin"]] == ["crd-edit", "crd-view"]
    assert [r.source for r in rules["edit"]] == ["crd-edit", "crd-view"]


def test_aggregation_cycles_resolve_the_same_in_any_order() -> None:
    """A role on a cycle is not shared between paths: what it contributes depends on where the walk
    entered the cycle, and every role's rules are those it has when resolved first."""
    roles = [
        _aggregate("a", [f.rule(["get"], ["pods"])], "a", labels={"agg": "b"}),
        _aggregate("b", [f.rule(["get"], ["secrets"])], "b", labels={"agg": "a"}),
        _aggregate("c", [f.rule(["get"], ["nodes"])], "a"),  # c <- b <-> a, entering the cycle at b
        _aggregate("d", [f.rule(["get"], ["configmaps"])], "d", labels={"agg": "b"}),  # b <- d
    ]
    inv = f.make_inventory(clusterroles=roles)
    names = ("a", "b", "c", "d")

    def shape(idx: RbacIndex, name: str) -> list[tuple[str, str]]:
        return [
            (r.rule["resources"][0], r.source) for r in idx.effective_rules(RoleKey("ClusterRole", "", name))
        ]

    alone = {name: shape(RbacIndex(inv), name) for name in names}
    assert alone["a"] == [("pods", ""), ("secrets", "b"), ("configmaps", "d")]
    assert alone["b"] == [("secrets", ""), ("pods", "a"), ("configmaps", "d")]
    assert alone["c"] == [("nodes", ""), ("secrets", "b"), ("pods", "a"), ("configmaps", "d")]
    for order in (names, names[::-1], ("c", "a", "d", "b"), ("d", "b", "c", "a")):
        idx = RbacIndex(inv)
        assert {name: shape(idx, name) for name in order} == alone


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ({"verbs": ["get"], "resources": ["pods"]}, {"resources": ["pods"], "verbs": ["get"]}, True),
        (
            {"verbs": ["get"], "resources": ["pods"]},
            {"verbs": ["get"], "resources": ["pods", "nodes"]},
            False,
        ),
        ({"verbs": ["get"]}, {"verbs": ["get"], "resourceNames": []}, False),
        # odd shapes from a malformed object: keyed, never confused with the strings they print as
        ({"verbs": "get"}, {"verbs": ["get"]}, False),
        ({"verbs": [1]}, {"verbs": ["1"]}, False),
        ({"verbs": [True]}, {"verbs": [1]}, False),
        ({"verbs": None}, {"verbs": ["None"]}, False),
        ({"verbs": [{"a": ["b"]}]}, {"verbs": [{"a": ["b"]}]}, True),
        ({"verbs": [["get"]], 1: "x"}, {"verbs": [["get"]], 1: "x"}, True),
    ],
)
def test_rule_identity_compares_content(one: dict, other: dict, same: bool) -> None:
    assert (rule_identity(one) == rule_identity(other)) is same
    assert {rule_identity(one), rule_identity(other)}  # hashable, whatever the shape


# -- bootstrap and platform recognition ---------------------------------------------------------


def test_a_user_added_to_the_bootstrap_cluster_admin_binding_is_flagged() -> None:
    inv = rbac_inventory()
    default = inv.get("clusterrolebindings", "", "cluster-admin")
    default["subjects"].append(f.subject("User", "bob@example.com"))
    message = messages("RBAC-002", inv)["ClusterRoleBinding cluster-admin"]
    assert statuses("RBAC-002", inv)["ClusterRoleBinding cluster-admin"] is Status.FAIL
    assert (
        message.startswith("the bootstrap default binding grants cluster-admin")
        and "bob@example.com" in message
    )


def test_a_service_account_added_to_a_bootstrap_controller_binding_is_flagged() -> None:
    inv = rbac_inventory()
    binding = inv.get("clusterrolebindings", "", "system:controller:clusterrole-aggregation-controller")
    binding["subjects"].append(sa("helper", "tools"))
    finding = next(x for x in run_check(CHECKS["RBAC-004"], inv, CONTEXT) if x.status is Status.FAIL)
    assert finding.message.startswith(
        "the bootstrap default binding lets ServiceAccount tools/helper escalate"
    )
    assert finding.evidence["platform_subjects"] == [
        "ServiceAccount kube-system/clusterrole-aggregation-controller"
    ]


def test_kube_system_service_accounts_count_as_platform_only_on_platform_bindings() -> None:
    reader = f.clusterrole("secret-reader", [f.rule(["list"], ["secrets"])])
    own = bound(reader, sa("ingress-nginx", "kube-system"))
    managed = f.clusterrolebinding(
        "gke-managed",
        "secret-reader",
        [sa("gke-agent", "kube-system")],
        metadata={"labels": {"addonmanager.kubernetes.io/mode": "Reconcile"}},
    )
    found = statuses("RBAC-006", rbac_inventory(clusterroles=(reader,), clusterrolebindings=(own, managed)))
    assert found["ClusterRoleBinding secret-reader"] is Status.FAIL  # an add-on you installed
    assert found["ClusterRoleBinding gke-managed"] is Status.PASS  # reconciled by the provider


@pytest.mark.parametrize("group", ["system:nodes", "system:bootstrappers:kubeadm:default-node-token"])
def test_node_and_join_token_groups_count_as_platform_only_on_platform_bindings(group) -> None:
    """Every kubelet is in system:nodes and every holder of a join token in system:bootstrappers:
    a binding somebody made for them hands Secrets to every node (or joining machine)."""
    reader = f.clusterrole("secret-reader", [f.rule(["get"], ["secrets"])])
    made = f.clusterrolebinding("made", "secret-reader", [f.subject("Group", group)])
    default = f.clusterrolebinding("default", "secret-reader", [f.subject("Group", group)], bootstrap=True)
    found = statuses("RBAC-006", rbac_inventory(clusterroles=(reader,), clusterrolebindings=(made, default)))
    assert found["ClusterRoleBinding made"] is Status.FAIL
    assert found["ClusterRoleBinding default"] is Status.PASS


RECONCILED = {"addonmanager.kubernetes.io/mode": "Reconcile"}


@pytest.mark.parametrize(
    ("binding_name", "user", "labels", "expected"),
    [
        ("backdoor", "system:backup", None, Status.FAIL),  # a `system:` name hiding on a made binding
        # ... and on a made binding named in the `system:` space too: anyone can pick that name
        ("system:backup", "system:backup", None, Status.FAIL),
        ("system:clustermetrics", "system:clustermetrics", None, Status.FAIL),
        # GKE's own binding for its metrics agent, which its add-on manager reconciles
        ("system:clustermetrics", "system:clustermetrics", RECONCILED, Status.PASS),
        ("scheduler-extras", "system:kube-scheduler", None, Status.PASS),  # the control plane's own identity
        # a kubelet's certificate sits on its node: the Node authorizer keeps it to its own pods
        ("kubelet-secrets", "system:node:ip-10-0-1-7", None, Status.FAIL),
        ("kubelet-secrets", "system:node:ip-10-0-1-7", RECONCILED, Status.PASS),
    ],
)
def test_system_users_count_as_platform_only_when_the_control_plane_or_the_platform_binds_them(
    binding_name: str, user: str, labels: dict[str, str] | None, expected: Status
) -> None:
    reader = f.clusterrole("secret-reader", [f.rule(["get"], ["secrets"])])
    binding = f.clusterrolebinding(
        binding_name, "secret-reader", [f.subject("User", user)], metadata={"labels": labels or {}}
    )
    found = statuses("RBAC-006", rbac_inventory(clusterroles=(reader,), clusterrolebindings=(binding,)))
    assert found[f"ClusterRoleBinding {binding_name}"] is expected


@pytest.mark.parametrize(
    "subject",
    [
        ("User", "system:kube-controller-manager"),
        ("User", "system:kube-scheduler"),
        ("User", "system:apiserver"),
        ("User", "system:konnectivity-server"),
        ("Group", "system:masters"),
    ],
)
def test_control_plane_components_count_as_platform_wherever_bound(subject: tuple[str, str]) -> None:
    impersonator = f.clusterrole("impersonator", [f.rule(["impersonate"], ["users", "groups"])])
    binding = f.clusterrolebinding("extras", "impersonator", [f.subject(*subject)])
    inv = rbac_inventory(clusterroles=(impersonator,), clusterrolebindings=(binding,))
    assert statuses("RBAC-005", inv)["ClusterRoleBinding extras"] is Status.PASS


@pytest.mark.parametrize("user", ["system:kube-proxy", "system:node:ip-10-0-1-7"])
def test_node_identities_count_as_platform_only_on_platform_bindings(user: str) -> None:
    """kube-proxy's and each kubelet's credentials sit on every worker node: a binding somebody
    made for them hands any node's root the right to impersonate anyone."""
    impersonator = f.clusterrole("impersonator", [f.rule(["impersonate"], ["users", "groups"])])
    made = f.clusterrolebinding("made", "impersonator", [f.subject("User", user)])
    default = f.clusterrolebinding("default", "impersonator", [f.subject("User", user)], bootstrap=True)
    inv = rbac_inventory(clusterroles=(impersonator,), clusterrolebindings=(made, default))
    found = statuses("RBAC-005", inv)
    assert found["ClusterRoleBinding made"] is Status.FAIL
    assert (
        f"lets User {user} impersonate other identities cluster-wide"
        in (messages("RBAC-005", inv)["ClusterRoleBinding made"])
    )
    assert found["ClusterRoleBinding default"] is Status.PASS


def test_a_system_group_on_a_made_binding_named_in_the_system_space_is_flagged() -> None:
    reader = f.clusterrole("secret-reader", [f.rule(["get"], ["secrets"])])
    binding = f.clusterrolebinding(
        "system:metrics-scraper", "secret-reader", [f.subject("Group", "system:monitoring-team")]
    )
    inv = rbac_inventory(clusterroles=(reader,), clusterrolebindings=(binding,))
    assert statuses("RBAC-006", inv)["ClusterRoleBinding system:metrics-scraper"] is Status.FAIL
    assert (
        "lets Group system:monitoring-team read Secrets cluster-wide"
        in (messages("RBAC-006", inv)["ClusterRoleBinding system:metrics-scraper"])
    )


@pytest.mark.parametrize("version", ["v1.30.6+k3s1", "v1.30.6+rke2r1"])
def test_the_k3s_controller_default_binding_stays_green(version: str) -> None:
    """k3s and RKE2 bind `system:k3s-controller` (the certificate every agent gets for flannel and
    the network policy controller) with no platform label; its role as they ship it grants none
    of the rights these checks look for, so a fresh cluster shows no finding for it."""
    role = f.clusterrole(
        "system:k3s-controller",
        [
            f.rule(["get"], ["nodes"]),
            f.rule(["list", "watch"], ["namespaces"]),
            f.rule(["list", "watch"], ["networkpolicies"], ["networking.k8s.io"]),
            f.rule(["list", "get", "watch"], ["endpoints", "pods"]),
        ],
    )
    binding = f.clusterrolebinding(
        "system:k3s-controller", "system:k3s-controller", [f.subject("User", "system:k3s-controller")]
    )
    inv = rbac_inventory(version=version, clusterroles=(role,), clusterrolebindings=(binding,))
    assert inv.provider.name in ("k3s", "rke2")
    for check_id in (c for c in CHECKS if c.startswith("RBAC-")):
        found = {
            str(x.subject): x.status
            for x in run_check(CHECKS[check_id], inv, CONTEXT)
            if "k3s-controller" in str(x.subject) or "k3s-controller" in x.message
        }
        assert all(status is Status.PASS for status in found.values()), (check_id, found)


def test_populations_are_never_platform_identities() -> None:
    reader = f.clusterrole("secret-reader", [f.rule(["get"], ["secrets"])])
    inv = rbac_inventory(
        clusterroles=(reader,),
        clusterrolebindings=(bound(reader, f.subject("Group", "system:authenticated")),),
    )
    assert statuses("RBAC-006", inv)["ClusterRoleBinding secret-reader"] is Status.FAIL
    assert statuses("RBAC-013", inv)["ClusterRoleBinding secret-reader"] is Status.FAIL


@pytest.mark.parametrize(
    ("version", "kubeadm", "expected"),
    [("v1.29.2", True, Status.PASS), ("v1.28.9", True, Status.FAIL), ("v1.29.2", False, Status.FAIL)],
)
def test_kubeadm_cluster_admins_group_is_a_default_only_on_kubeadm_1_29(version, kubeadm, expected) -> None:
    apiserver = f.pod(
        "kube-apiserver-cp1", "kube-system", labels={"component": "kube-apiserver", "tier": "control-plane"}
    )
    inv = rbac_inventory(
        version=version,
        pods=[apiserver] if kubeadm else [],
        clusterrolebindings=(
            f.clusterrolebinding(
                "kubeadm:cluster-admins", "cluster-admin", [f.subject("Group", "kubeadm:cluster-admins")]
            ),
        ),
    )
    assert inv.provider.name == ("kubeadm" if kubeadm else "unknown")
    assert statuses("RBAC-002", inv)["ClusterRoleBinding kubeadm:cluster-admins"] is expected


def test_k3s_api_server_kubelet_client_is_recognised() -> None:
    binding = f.clusterrolebinding(
        "kube-apiserver-kubelet-admin", "system:kubelet-api-admin", [f.subject("User", "kube-apiserver")]
    )
    k3s = rbac_inventory(version="v1.29.4+k3s1", clusterrolebindings=(binding,))
    plain = rbac_inventory(version="v1.29.4", clusterrolebindings=(binding,))
    assert statuses("RBAC-008", k3s)["ClusterRoleBinding kube-apiserver-kubelet-admin"] is Status.PASS
    assert statuses("RBAC-008", plain)["ClusterRoleBinding kube-apiserver-kubelet-admin"] is Status.FAIL


def test_gke_api_server_kubelet_client_is_recognised() -> None:
    """A fresh GKE cluster's add-on manager binds the API server's kubelet client to
    system:kubelet-api-admin (nodes/proxy): the platform's own, not a finding."""
    binding = f.clusterrolebinding(
        "kube-apiserver-kubelet-api-admin",
        "system:kubelet-api-admin",
        [f.subject("User", "kube-apiserver")],
        metadata={"labels": RECONCILED},
    )
    gke = rbac_inventory(version="v1.30.5-gke.1014001", clusterrolebindings=(binding,))
    assert gke.provider.name == "gke"
    found = statuses("RBAC-008", gke)
    assert found["ClusterRoleBinding kube-apiserver-kubelet-api-admin"] is Status.PASS


def test_gke_kubelet_user_is_a_node_credential_of_the_platform_only_on_its_binding() -> None:
    """GKE's add-on manager binds `User kubelet` to system:node (`kubelet-cluster-admin`): every
    node holds that credential, so a binding somebody made for it is flagged."""
    ensured = f.clusterrolebinding(
        "kubelet-cluster-admin",
        "system:node",
        [f.subject("User", "kubelet")],
        metadata={"labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"}},
    )
    made = f.clusterrolebinding("kubelet-extra", "system:node", [f.subject("User", "kubelet")])
    gke = rbac_inventory(version="v1.30.5-gke.1014001", clusterrolebindings=(ensured, made))
    found = statuses("RBAC-006", gke)
    assert found["ClusterRoleBinding kubelet-cluster-admin"] is Status.PASS
    assert found["ClusterRoleBinding kubelet-extra"] is Status.FAIL


def test_openshift_default_bindings_are_known_by_their_autoupdate_annotation() -> None:
    """OpenShift reconciles `system:node-admins` (nodes/proxy for its masters) and marks it
    `rbac.authorization.kubernetes.io/autoupdate: "true"`, not with upstream's bootstrap label."""
    proxy = f.clusterrole("system:node-admin", [f.rule(["get", "create"], ["nodes/proxy"])])
    subjects = [f.subject("Group", "system:node-admins"), f.subject("User", "system:master")]
    reconciled = {"annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}
    default = f.clusterrolebinding("system:node-admins", "system:node-admin", subjects, metadata=reconciled)
    made = f.clusterrolebinding("node-admins-copy", "system:node-admin", subjects)
    openshift_node = f.node("master-0", labels={"node.openshift.io/os_id": "rhcos"})
    inv = rbac_inventory(clusterroles=(proxy,), clusterrolebindings=(default, made), nodes=[openshift_node])
    assert inv.provider.is_openshift
    found = statuses("RBAC-008", inv)
    assert found["ClusterRoleBinding system:node-admins"] is Status.PASS
    assert found["ClusterRoleBinding node-admins-copy"] is Status.FAIL
    elsewhere = rbac_inventory(clusterroles=(proxy,), clusterrolebindings=(default,))
    assert statuses("RBAC-008", elsewhere)["ClusterRoleBinding system:node-admins"] is Status.FAIL


# -- scope: namespaces, powerful namespaces, resourceNames ------------------------------------


def test_namespaced_grants_count_where_a_powerful_service_account_lives() -> None:
    inv = rbac_inventory(
        clusterrolebindings=(f.clusterrolebinding("jenkins-admin", "cluster-admin", [sa("jenkins", "ci")]),),
        rolebindings=(namespaced_edit("ci", "ci-devs"), namespaced_edit("shop", "shop-devs")),
    )
    for check_id in ("RBAC-005", "RBAC-006", "RBAC-007", "RBAC-009", "RBAC-011"):
        found = statuses(check_id, inv)
        assert found["RoleBinding ci/ci-devs-edit"] is Status.FAIL, check_id
        assert "RoleBinding shop/shop-devs-edit" not in found, check_id
    message = messages("RBAC-009", inv)["RoleBinding ci/ci-devs-edit"]
    assert "in namespace ci, where ServiceAccount ci/jenkins holds cluster-admin" in message


def test_groups_of_service_accounts_are_service_accounts() -> None:
    """`system:serviceaccounts:ci` is every pod of ci: bound to cluster-admin, it is RBAC-001's
    failure (not a person for RBAC-002), and rights to run pods in ci reach cluster-admin."""
    everyone_in_ci = f.subject("Group", "system:serviceaccounts:ci")
    inv = rbac_inventory(
        clusterrolebindings=(f.clusterrolebinding("ci-runners", "cluster-admin", [everyone_in_ci]),),
        rolebindings=(namespaced_edit("ci", "ci-devs"),),
    )
    assert statuses("RBAC-001", inv)["ClusterRoleBinding ci-runners"] is Status.FAIL
    assert (
        "every service account of namespace ci" in messages("RBAC-001", inv)["ClusterRoleBinding ci-runners"]
    )
    assert statuses("RBAC-002", inv)["ClusterRoleBinding ci-runners"] is Status.PASS
    assert statuses("RBAC-009", inv)["RoleBinding ci/ci-devs-edit"] is Status.FAIL
    everyone = f.subject("Group", "system:serviceaccounts")
    all_pods = rbac_inventory(clusterrolebindings=(f.clusterrolebinding("all", "cluster-admin", [everyone]),))
    assert statuses("RBAC-001", all_pods)["ClusterRoleBinding all"] is Status.FAIL
    assert Principal("Group", "system:serviceaccounts:").service_account_namespace is None
    assert Principal("Group", "system:authenticated").service_account_namespace is None


def test_sensitive_namespaces_are_configurable() -> None:
    inv = rbac_inventory(
        rolebindings=(namespaced_edit("kube-system", "ops"), namespaced_edit("payments", "pay"))
    )
    found = statuses("RBAC-006", inv)
    assert found["RoleBinding kube-system/ops-edit"] is Status.FAIL
    assert "RoleBinding payments/pay-edit" not in found
    strict = Context(CONTEXT.now, CONTEXT.calendar, Config(sensitive_namespaces=("kube-system", "payments")))
    flagged = {str(x.subject): x.status for x in run_check(CHECKS["RBAC-006"], inv, strict)}
    assert flagged["RoleBinding payments/pay-edit"] is Status.FAIL


def test_rolebindings_never_grant_cluster_scoped_resources() -> None:
    agent = f.clusterrole("node-agent", [f.rule(["get"], ["nodes/proxy"])])
    inv = rbac_inventory(
        clusterroles=(agent,),
        rolebindings=(
            f.rolebinding(
                "agent", "kube-system", "node-agent", [sa("agent", "kube-system")], role_kind="ClusterRole"
            ),
        ),
    )
    assert "RoleBinding kube-system/agent" not in statuses("RBAC-008", inv)


@pytest.mark.parametrize(
    ("verb", "resource"), [("escalate", "roles"), ("bind", "roles"), ("bind", "clusterroles")]
)
def test_escalate_and_bind_count_in_any_namespace(verb, resource) -> None:
    """`bind` on clusterroles in a Role lets its holder bind cluster-admin in that namespace: a
    RoleBinding naming a ClusterRole is authorised in the binding's namespace."""
    role = f.role("role-admin", "shop", [f.rule([verb], [resource], ["rbac.authorization.k8s.io"])])
    inv = rbac_inventory(
        roles=(role,),
        rolebindings=(f.rolebinding("leads", "shop", "role-admin", [f.subject("Group", "leads")]),),
    )
    assert statuses("RBAC-004", inv)["RoleBinding shop/leads"] is Status.FAIL


def test_escalate_on_clusterroles_is_granted_only_cluster_wide() -> None:
    rule = f.rule(["escalate"], ["clusterroles"], ["rbac.authorization.k8s.io"])
    inv = rbac_inventory(
        roles=(f.role("role-admin", "shop", [rule]),),
        rolebindings=(f.rolebinding("leads", "shop", "role-admin", [f.subject("Group", "leads")]),),
    )
    assert "RoleBinding shop/leads" not in statuses("RBAC-004", inv)


@pytest.mark.parametrize(
    ("rule", "check_id", "flagged"),
    [
        (f.rule(["get"], ["secrets"], resourceNames=["db"]), "RBAC-006", False),
        (
            f.rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], resourceNames=["view"]),
            "RBAC-004",
            False,
        ),
        (
            f.rule(
                ["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], resourceNames=["cluster-admin"]
            ),
            "RBAC-004",
            True,
        ),
        (
            f.rule(["escalate"], ["clusterroles"], ["rbac.authorization.k8s.io"], resourceNames=["mine"]),
            "RBAC-004",
            True,
        ),
        (f.rule(["impersonate"], ["users"], resourceNames=["admin@example.com"]), "RBAC-005", True),
        (f.rule(["get"], ["nodes/proxy"], resourceNames=["node-1"]), "RBAC-008", True),
    ],
)
def test_resource_names_narrow_only_where_they_limit_the_power(rule, check_id, flagged) -> None:
    role = f.clusterrole("narrow", [rule])
    inv = rbac_inventory(clusterroles=(role,), clusterrolebindings=(bound(role, sa("tool", "tools")),))
    found = statuses(check_id, inv)
    assert (found.get("ClusterRoleBinding narrow") is Status.FAIL) is flagged


def test_cluster_admin_bindings_are_not_reported_again_per_primitive() -> None:
    inv = rbac_inventory(
        clusterrolebindings=(f.clusterrolebinding("ci-admin", "cluster-admin", [sa("jenkins", "ci")]),)
    )
    for check_id in ("RBAC-004", "RBAC-005", "RBAC-006", "RBAC-007", "RBAC-009"):
        assert "ClusterRoleBinding ci-admin" not in statuses(check_id, inv)


def test_rolebinding_to_cluster_admin_is_namespace_admin() -> None:
    inv = rbac_inventory(
        rolebindings=(
            f.rolebinding("ops", "shop", "cluster-admin", [sa("ops", "shop")], role_kind="ClusterRole"),
            f.rolebinding(
                "ops", "kube-system", "cluster-admin", [sa("ops", "shop")], role_kind="ClusterRole"
            ),
        )
    )
    found = statuses("RBAC-001", inv)
    assert found["RoleBinding shop/ops"] is Status.WARN
    assert found["RoleBinding kube-system/ops"] is Status.FAIL


# -- everybody bindings, default SAs, dangling ---------------------------------------------------


def kubeadm_cluster_info(rules: list[dict]) -> Inventory:
    role = f.role("kubeadm:bootstrap-signer-clusterinfo", "kube-public", rules)
    binding = f.rolebinding(
        "kubeadm:bootstrap-signer-clusterinfo",
        "kube-public",
        "kubeadm:bootstrap-signer-clusterinfo",
        [f.subject("User", "system:anonymous")],
    )
    return rbac_inventory(roles=(role,), rolebindings=(binding,))


def test_kubeadm_cluster_info_for_anonymous_is_a_default_until_it_grows() -> None:
    name = "RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo"
    default = kubeadm_cluster_info([f.rule(["get"], ["configmaps"], resourceNames=["cluster-info"])])
    assert statuses("RBAC-012", default)[name] is Status.PASS
    widened = kubeadm_cluster_info([f.rule(["get", "list"], ["configmaps"])])
    assert statuses("RBAC-012", widened)[name] is Status.FAIL


def test_an_edited_default_role_is_no_longer_a_default() -> None:
    inv = rbac_inventory()
    inv.get("clusterroles", "", "system:public-info-viewer")["rules"].append(
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}
    )
    assert statuses("RBAC-012", inv)["ClusterRoleBinding system:public-info-viewer"] is Status.FAIL


def test_anonymous_binding_to_a_missing_role_is_flagged() -> None:
    inv = rbac_inventory(
        clusterrolebindings=(
            f.clusterrolebinding("anon", "ghost", [f.subject("Group", "system:unauthenticated")]),
        )
    )
    assert "does not exist" in messages("RBAC-012", inv)["ClusterRoleBinding anon"]


def test_default_service_account_bound_through_its_user_name() -> None:
    binding = f.rolebinding(
        "legacy",
        "shop",
        "view",
        [f.subject("User", "system:serviceaccount:shop:default")],
        role_kind="ClusterRole",
    )
    inv = rbac_inventory(serviceaccounts=[f.serviceaccount("default", "shop")], rolebindings=(binding,))
    assert statuses("RBAC-014", inv)["ServiceAccount shop/default"] is Status.FAIL


def test_default_service_account_of_a_deleted_namespace_still_counts() -> None:
    inv = rbac_inventory(
        serviceaccounts=[],
        clusterrolebindings=(f.clusterrolebinding("old", "view", [sa("default", "gone")]),),
    )
    assert statuses("RBAC-014", inv)["ServiceAccount gone/default"] is Status.FAIL


# -- unreadable inputs --------------------------------------------------------------------------


def test_cluster_admin_bindings_are_judged_even_when_roles_cannot_be_read() -> None:
    superuser = f.clusterrole("superuser", [f.rule(["*"], ["*"], ["*"])])
    bindings = [
        f.clusterrolebinding("ci-admin", "cluster-admin", [sa("jenkins", "ci")]),
        bound(superuser, sa("ops", "ops")),
    ]
    readable = f.make_inventory(clusterroles=[superuser], clusterrolebindings=bindings, rolebindings=[])
    assert statuses("RBAC-001", readable)["ClusterRoleBinding superuser"] is Status.FAIL
    forbidden = f.make_inventory(
        clusterrolebindings=bindings, rolebindings=[], coverage={"clusterroles": FORBIDDEN}
    )
    found = statuses("RBAC-001", forbidden)
    assert found["ClusterRoleBinding ci-admin"] is Status.FAIL
    assert found["cluster"] is Status.UNKNOWN  # equivalents could not be looked for


# -- the real defaults of a recorded API server ------------------------------------------------


def test_recorded_v1_24_defaults_raise_nothing_but_the_planted_binding(fixture_inventory: Inventory) -> None:
    problems = []
    for check_id, meta in CHECKS.items():
        if meta.area != "rbac":
            continue
        for finding in run_check(meta, fixture_inventory, CONTEXT):
            if finding.status not in (Status.PASS, Status.NOT_APPLICABLE):
                problems.append((check_id, str(finding.subject), finding.status))
    assert problems == [("RBAC-001", "ClusterRoleBinding shop-deployer-admin", Status.FAIL)]


def test_index_is_built_once_per_inventory() -> None:
    inv = rbac_inventory()
    assert RbacIndex.of(inv) is RbacIndex.of(inv)
    assert rbac.expected_admin_subjects(inv) == {("Group", "system:masters")}


def _controller_filled(roles: list[dict], aggregates: tuple[str, ...], copied: list[dict]) -> list[dict]:
    """The roles as a live cluster lists them: the aggregation controller has copied `copied`
    into each aggregate."""
    filled = [dict(r) for r in roles]
    for r in filled:
        if r["metadata"]["name"] in aggregates:
            r["rules"] = [dict(c) for c in copied]
    return filled


def test_rules_copied_by_the_aggregation_controller_name_their_source_role() -> None:
    wildcard = f.rule(["*"], ["*"], ["*"])
    sneaky = f.clusterrole(
        "crd-superpowers", [wildcard], labels={"rbac.authorization.k8s.io/aggregate-to-edit": "true"}
    )
    base = f.bootstrap_rbac()
    roles = _controller_filled([*base["clusterroles"], sneaky], ("edit", "admin"), [wildcard])
    inv = f.make_inventory(clusterroles=roles, clusterrolebindings=base["clusterrolebindings"])
    found = messages("RBAC-003", inv)
    for aggregate in ("ClusterRole edit", "ClusterRole admin"):
        assert "aggregates a `*` rule from ClusterRole crd-superpowers" in found[aggregate]
    assert "has a `*`/`*`/`*` rule" in found["ClusterRole crd-superpowers"]
    assert statuses("RBAC-003", inv)["ClusterRole edit"] is Status.FAIL


def test_every_source_of_an_aggregated_wildcard_is_named() -> None:
    label = {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}
    first = f.clusterrole("first-superpowers", [f.rule(["*"], ["*"], ["*"])], labels=label)
    second = f.clusterrole("second-superpowers", [f.rule(["*"], ["*"], ["*"])], labels=label)
    inv = rbac_inventory(clusterroles=(first, second))
    assert (
        "from ClusterRoles first-superpowers, second-superpowers"
        in messages("RBAC-003", inv)["ClusterRole edit"]
    )

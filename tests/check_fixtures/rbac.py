"""Fixtures for the rbac area: the bootstrap defaults of a fresh cluster plus what each case adds."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.check_fixtures import fixture


def rbac_inventory(
    *,
    clusterroles: tuple[dict[str, Any], ...] = (),
    clusterrolebindings: tuple[dict[str, Any], ...] = (),
    roles: tuple[dict[str, Any], ...] = (),
    rolebindings: tuple[dict[str, Any], ...] = (),
    **extra: Any,
):
    """A cluster with the real default RBAC, plus the given roles and bindings."""
    base = f.bootstrap_rbac()
    return f.make_inventory(
        clusterroles=[*base["clusterroles"], *clusterroles],
        clusterrolebindings=[*base["clusterrolebindings"], *clusterrolebindings],
        roles=[*base["roles"], *roles],
        rolebindings=[*base["rolebindings"], *rolebindings],
        **extra,
    )


def sa(name: str, namespace: str) -> dict[str, Any]:
    return f.subject("ServiceAccount", name, namespace)


def namespaced_edit(namespace: str, group: str) -> dict[str, Any]:
    """The everyday grant: a team edits its own namespace."""
    return f.rolebinding(
        f"{group}-edit", namespace, "edit", [f.subject("Group", group)], role_kind="ClusterRole"
    )


def bound(role: dict[str, Any], *subjects: dict[str, Any]) -> dict[str, Any]:
    name = role["metadata"]["name"]
    return f.clusterrolebinding(name, name, list(subjects))


# -- RBAC-001 / RBAC-002: cluster-admin -----------------------------------------------------------


@fixture("RBAC-001", "pass")
def sa_admin_pass():
    return rbac_inventory(
        clusterrolebindings=(
            f.clusterrolebinding("breakglass", "cluster-admin", [f.subject("Group", "oidc:breakglass")]),
        ),
        rolebindings=(
            f.rolebinding("deployer", "shop", "edit", [sa("deployer", "ci")], role_kind="ClusterRole"),
        ),
    )


@fixture("RBAC-001", "fail")
def sa_admin_fail():
    return rbac_inventory(
        clusterrolebindings=(f.clusterrolebinding("ci-admin", "cluster-admin", [sa("deployer", "ci")]),)
    )


@fixture("RBAC-002", "pass")
def human_admin_pass():
    return rbac_inventory()


@fixture("RBAC-002", "fail")
def human_admin_fail():
    return rbac_inventory(
        clusterrolebindings=(
            f.clusterrolebinding("alice-admin", "cluster-admin", [f.subject("User", "alice@example.com")]),
        )
    )


# -- RBAC-003: roles equivalent to cluster-admin ------------------------------------------------


@fixture("RBAC-003", "pass")
def equivalent_pass():
    return rbac_inventory(
        clusterroles=(
            f.clusterrole("deployer", [f.rule(["get", "list", "patch"], ["deployments"], ["apps"])]),
        )
    )


@fixture("RBAC-003", "fail")
def equivalent_fail():
    superuser = f.clusterrole("ops-superuser", [f.rule(["*"], ["*"], ["*"])])
    return rbac_inventory(
        clusterroles=(superuser,), clusterrolebindings=(bound(superuser, f.subject("Group", "ops")),)
    )


# -- RBAC-004 … RBAC-011: escalation primitives ---------------------------------------------------


@fixture("RBAC-004", "pass")
def escalate_pass():
    delegator = f.clusterrole(
        "grant-view",
        [f.rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"], resourceNames=["view", "edit"])],
    )
    return rbac_inventory(
        clusterroles=(delegator,), clusterrolebindings=(bound(delegator, f.subject("Group", "team-leads")),)
    )


@fixture("RBAC-004", "fail")
def escalate_fail():
    manager = f.clusterrole(
        "rbac-manager",
        [f.rule(["escalate", "get", "update"], ["clusterroles"], ["rbac.authorization.k8s.io"])],
    )
    return rbac_inventory(
        clusterroles=(manager,), clusterrolebindings=(bound(manager, sa("rbac-manager", "tools")),)
    )


@fixture("RBAC-005", "pass")
def impersonate_pass():
    # edit holds `impersonate serviceaccounts`, but only inside shop, where no SA is powerful.
    return rbac_inventory(rolebindings=(namespaced_edit("shop", "shop-devs"),))


@fixture("RBAC-005", "fail")
def impersonate_fail():
    proxy = f.clusterrole("auth-proxy", [f.rule(["impersonate"], ["users", "groups"])])
    return rbac_inventory(
        clusterroles=(proxy,), clusterrolebindings=(bound(proxy, sa("oauth-proxy", "proxy")),)
    )


@fixture("RBAC-006", "pass")
def secrets_pass():
    # kube-controller-manager and the namespace controller read Secrets cluster-wide: platform.
    named = f.clusterrole("db-secret-reader", [f.rule(["get"], ["secrets"], resourceNames=["payments-db"])])
    return rbac_inventory(clusterroles=(named,), clusterrolebindings=(bound(named, sa("api", "payments")),))


@fixture("RBAC-006", "fail")
def secrets_fail():
    reloader = f.clusterrole("reloader", [f.rule(["get", "list", "watch"], ["secrets", "configmaps"])])
    return rbac_inventory(
        clusterroles=(reloader,), clusterrolebindings=(bound(reloader, sa("reloader", "tools")),)
    )


@fixture("RBAC-007", "pass")
def exec_pass():
    return rbac_inventory(rolebindings=(namespaced_edit("shop", "shop-devs"),))


@fixture("RBAC-007", "fail")
def exec_fail():
    support = f.clusterrole("support-exec", [f.rule(["create"], ["pods/exec"])])
    return rbac_inventory(
        clusterroles=(support,), clusterrolebindings=(bound(support, f.subject("Group", "support")),)
    )


@fixture("RBAC-008", "pass")
def node_proxy_pass():
    metrics = f.clusterrole("metrics-reader", [f.rule(["get"], ["nodes/metrics", "nodes/stats"])])
    return rbac_inventory(
        clusterroles=(metrics,), clusterrolebindings=(bound(metrics, sa("prometheus", "monitoring")),)
    )


@fixture("RBAC-008", "fail")
def node_proxy_fail():
    agent = f.clusterrole("datadog-agent", [f.rule(["get"], ["nodes/proxy", "nodes/metrics"])])
    return rbac_inventory(
        clusterroles=(agent,), clusterrolebindings=(bound(agent, sa("datadog", "monitoring")),)
    )


@fixture("RBAC-009", "pass")
def workloads_pass():
    # The daemon-set controller creates pods cluster-wide: a bootstrap grant, recognised.
    return rbac_inventory(rolebindings=(namespaced_edit("shop", "shop-devs"),))


@fixture("RBAC-009", "fail")
def workloads_fail():
    deployer = f.clusterrole("deployer", [f.rule(["create", "patch"], ["deployments"], ["apps"])])
    return rbac_inventory(clusterroles=(deployer,), clusterrolebindings=(bound(deployer, sa("argo", "ci")),))


@fixture("RBAC-010", "pass")
def webhooks_pass():
    injector = f.clusterrole(
        "ca-injector",
        [
            f.rule(
                ["get", "patch"],
                ["validatingwebhookconfigurations"],
                ["admissionregistration.k8s.io"],
                resourceNames=["my-operator"],
            )
        ],
    )
    return rbac_inventory(
        clusterroles=(injector,), clusterrolebindings=(bound(injector, sa("my-operator", "operators")),)
    )


@fixture("RBAC-010", "fail")
def webhooks_fail():
    webhooks = ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]
    policy = f.clusterrole("policy-admin", [f.rule(["*"], webhooks, ["admissionregistration.k8s.io"])])
    return rbac_inventory(
        clusterroles=(policy,), clusterrolebindings=(bound(policy, f.subject("Group", "platform-devs")),)
    )


@fixture("RBAC-011", "pass")
def tokens_pass():
    return rbac_inventory()


@fixture("RBAC-011", "fail")
def tokens_fail():
    issuer = f.clusterrole("token-issuer", [f.rule(["create"], ["serviceaccounts/token"])])
    return rbac_inventory(clusterroles=(issuer,), clusterrolebindings=(bound(issuer, sa("vault", "vault")),))


# -- RBAC-012 / RBAC-013: bindings to everybody -------------------------------------------------


@fixture("RBAC-012", "pass")
def anonymous_pass():
    return rbac_inventory()


@fixture("RBAC-012", "fail")
def anonymous_fail():
    return rbac_inventory(
        clusterrolebindings=(
            f.clusterrolebinding("anonymous-view", "view", [f.subject("User", "system:anonymous")]),
        )
    )


@fixture("RBAC-013", "pass")
def everybody_pass():
    return rbac_inventory()


@fixture("RBAC-013", "fail")
def everybody_fail():
    return rbac_inventory(
        clusterrolebindings=(
            f.clusterrolebinding("all-users-view", "view", [f.subject("Group", "system:authenticated")]),
        )
    )


# -- RBAC-014: default service accounts -----------------------------------------------------------


@fixture("RBAC-014", "pass")
def default_sa_pass():
    return rbac_inventory(
        serviceaccounts=[f.serviceaccount("default", "shop"), f.serviceaccount("web", "shop")],
        rolebindings=(
            f.rolebinding("web-view", "shop", "view", [sa("web", "shop")], role_kind="ClusterRole"),
        ),
    )


@fixture("RBAC-014", "fail")
def default_sa_fail():
    return rbac_inventory(
        serviceaccounts=[f.serviceaccount("default", "shop"), f.serviceaccount("default", "monitoring")],
        clusterrolebindings=(f.clusterrolebinding("prometheus-view", "view", [sa("default", "monitoring")]),),
    )


# -- RBAC-015: dangling bindings ----------------------------------------------------------------


@fixture("RBAC-015", "pass")
def dangling_pass():
    auditor = f.role("auditor", "payments", [f.rule(["get", "list"], ["configmaps"])])
    return rbac_inventory(
        roles=(auditor,),
        rolebindings=(
            f.rolebinding("payments-auditor", "payments", "auditor", [f.subject("Group", "audit")]),
        ),
    )


@fixture("RBAC-015", "fail")
def dangling_fail():
    return rbac_inventory(
        rolebindings=(
            f.rolebinding("payments-auditor", "payments", "auditor", [f.subject("Group", "audit")]),
        )
    )

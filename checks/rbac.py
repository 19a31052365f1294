"""RBAC: who holds the keys to the whole cluster.

The incidents behind these checks are the ones where one leaked credential was enough: a CI
token or a dashboard's service account bound to cluster-admin turns any compromise of that
workload into a compromise of every namespace, every Secret and every node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from k8saudit.inventory import Inventory, labels_of, name_of, namespace_of
from k8saudit.model import Finding, failed, passed
from k8saudit.registry import Context, check

CLUSTER_ADMIN = "cluster-admin"
BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")
RBAC_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
RBAC_GOOD_PRACTICES = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"


def is_bootstrap(obj: dict[str, Any]) -> bool:
    return labels_of(obj).get(BOOTSTRAP_LABEL[0]) == BOOTSTRAP_LABEL[1]


def expected_admin_subjects(inv: Inventory) -> set[tuple[str, str]]:
    """Subjects the platform itself binds to cluster-admin: never a finding."""
    expected = {("Group", "system:masters")}
    version = inv.version
    if version is None or version[:2] >= (1, 29):
        expected.add(("Group", "kubeadm:cluster-admins"))  # kubeadm >= 1.29 break-glass group
    return expected


def cluster_admin_bindings(inv: Inventory) -> Iterator[tuple[str, dict[str, Any]]]:
    """(inventory key, binding) for every ClusterRoleBinding/RoleBinding to ClusterRole cluster-admin."""
    for key in ("clusterrolebindings", "rolebindings"):
        for binding in inv.items(key):
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "ClusterRole" and ref.get("name") == CLUSTER_ADMIN:
                yield key, binding


def subject_label(subject: dict[str, Any]) -> str:
    kind = subject.get("kind", "?")
    name = subject.get("name", "?")
    namespace = subject.get("namespace")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _admin_subjects(inv: Inventory, binding: dict[str, Any], kinds: set[str]) -> list[dict[str, Any]]:
    expected = expected_admin_subjects(inv)
    return [
        s
        for s in binding.get("subjects") or []
        if isinstance(s, dict) and s.get("kind") in kinds and (s.get("kind"), s.get("name")) not in expected
    ]


def _scope(key: str, binding: dict[str, Any]) -> str:
    return "cluster-wide" if key == "clusterrolebindings" else f"in namespace {namespace_of(binding)}"


@check(
    id="RBAC-001",
    area="rbac",
    severity="critical",
    title="No service account is bound to cluster-admin",
    rationale="""A service account token lives in every pod that mounts it. Bound to cluster-admin,
    one compromised or misbehaving pod (a CI runner, a dashboard, an operator with a remote code
    execution bug) owns the whole cluster: all Secrets, all nodes, all namespaces. Exposed
    dashboards with cluster-admin service accounts are how clusters were taken over for crypto
    mining (Tesla, Weight Watchers).""",
    remediation="""Bind the service account to a role with only the verbs and resources it uses,
in the namespaces it works in, and delete the cluster-admin binding:

```yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
```""",
    references=(RBAC_GOOD_PRACTICES, RBAC_DOCS),
    inputs=("clusterrolebindings", "rolebindings"),
)
def service_accounts_with_cluster_admin(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    for key, binding in cluster_admin_bindings(inv):
        subject = inv.subject(key, binding)
        accounts = _admin_subjects(inv, binding, {"ServiceAccount"})
        if accounts:
            names = [subject_label(s) for s in accounts]
            yield failed(
                subject,
                f"grants cluster-admin {_scope(key, binding)} to {', '.join(names)}",
                binding=name_of(binding),
                service_accounts=names,
            )
        else:
            yield passed(subject, "binds cluster-admin to no service account")


@check(
    id="RBAC-002",
    area="rbac",
    severity="high",
    title="cluster-admin is bound only to break-glass users and groups",
    rationale="""Day-to-day identities with cluster-admin turn every mistake into a cluster-wide
    one and every stolen laptop kubeconfig into a full compromise. Beyond the bootstrap
    `system:masters` group (and kubeadm's `kubeadm:cluster-admins` from 1.29), cluster-admin
    should be held by nobody by default and reached through a break-glass procedure.""",
    remediation="""Give people namespace-scoped roles (`edit`, `view`) through groups from your
identity provider, and keep cluster-admin for an audited break-glass group:

```yaml
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: breakglass-admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: oidc:breakglass, apiGroup: rbac.authorization.k8s.io}]
```""",
    references=(
        RBAC_GOOD_PRACTICES,
        "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles",
    ),
    inputs=("clusterrolebindings", "rolebindings"),
)
def humans_with_cluster_admin(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    for key, binding in cluster_admin_bindings(inv):
        subject = inv.subject(key, binding)
        people = _admin_subjects(inv, binding, {"User", "Group"})
        if people:
            names = [subject_label(s) for s in people]
            where = "the bootstrap default binding" if is_bootstrap(binding) else "this binding"
            yield failed(
                subject,
                f"{where} grants cluster-admin {_scope(key, binding)} to {', '.join(names)}",
                binding=name_of(binding),
                subjects=names,
            )
        else:
            yield passed(subject, "grants cluster-admin to no user or group beyond the bootstrap ones")

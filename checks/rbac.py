"""RBAC: who holds the keys to the whole cluster, and who can quietly pick them up.

The incidents behind these checks are the ones where one leaked credential was enough: a CI
token or a dashboard's service account bound to cluster-admin turns any compromise of that
workload into a compromise of every namespace, every Secret and every node. Beyond cluster-admin
itself, a handful of permissions are cluster-admin in disguise (escalate, bind, impersonate,
reading Secrets, exec, nodes/proxy, creating pods, writing admission webhooks, minting tokens);
each has its own check so the report says which door is open and who can walk through it.

What the platform itself holds is recognised and not flagged: bootstrap bindings (label
`kubernetes.io/bootstrapping=rbac-defaults`) and the provider's add-on manager's to `system:`
identities and kube-system service accounts, and the control plane's own components wherever
they are bound. A subject somebody added to a default binding, or a `system:` name on a binding
somebody made, is flagged like any other; so are the kubelets (`system:node:<name>`), kube-proxy
and the node groups on a binding somebody made, as their credentials sit on every worker node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks.rbac_index import (
    AUTHENTICATED_GROUP,
    PRIMITIVES,
    Binding,
    Principal,
    RbacIndex,
    RoleKey,
    SourcedRule,
    strings,
)
from k8saudit.inventory import Inventory
from k8saudit.model import Finding, Subject, failed, passed, unknown, warned
from k8saudit.registry import Context, check

RBAC_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
RBAC_GOOD_PRACTICES = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
ESCALATION_DOCS = (
    "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks"
)
DEFAULT_ROLES_DOCS = (
    "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings"
)
AGGREGATION_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles"
FAILURE_STORIES = "https://k8s.af/"
GKE_BULLETIN = "https://cloud.google.com/kubernetes-engine/security-bulletins#gcp-2024-003"
RBAC_INPUTS = ("clusterroles", "roles", "clusterrolebindings", "rolebindings")


# -- cluster-admin and its equivalents ----------------------------------------------------------


def expected_admin_subjects(inv: Inventory) -> set[tuple[str, str]]:
    """Subjects the platform itself binds to cluster-admin: never a finding."""
    expected = {("Group", "system:masters")}
    version = inv.version
    if inv.provider.name == "kubeadm" and version is not None and version[:2] >= (1, 29):
        expected.add(("Group", "kubeadm:cluster-admins"))  # kubeadm's break-glass group from 1.29
    return expected


def admin_bindings(idx: RbacIndex) -> Iterator[Binding]:
    """Bindings to cluster-admin or to a role equivalent to it (`*` verbs, resources and groups)."""
    for binding in idx.bindings:
        if idx.is_admin_equivalent(binding.role):
            yield binding


def role_text(idx: RbacIndex, key: RoleKey) -> str:
    if key.is_cluster_admin:
        return "cluster-admin"
    rule = idx.admin_rule(key)
    via = f", aggregated from ClusterRole {rule.source}" if rule is not None and rule.source else ""
    return f"{key} (equivalent to cluster-admin{via})"


def _equivalents_unread(inv: Inventory) -> Iterator[Finding]:
    missing = [key for key in ("clusterroles", "roles") if not inv.readable(key)]
    if missing:
        reasons = inv.unreadable_reasons(missing)
        yield unknown(
            Subject.cluster(),
            f"bindings to roles equivalent to cluster-admin were not looked for: {reasons}",
            unreadable=missing,
        )


def _admin_binding_status(idx: RbacIndex, binding: Binding, sensitive: dict[str, str]) -> str:
    """Cluster-wide admin, or admin of a namespace whose identities are powerful: fail.
    Admin of an ordinary namespace (a RoleBinding): warn, it is bounded but still too much."""
    return "fail" if binding.cluster_wide or binding.namespace in sensitive else "warn"


def _service_accounts_text(principal: Principal) -> str:
    """A subject that is service accounts, with what a group of them stands for."""
    namespace = principal.service_account_namespace
    if principal.kind == "ServiceAccount":
        return str(principal)
    if namespace == "*":
        return f"{principal} (every service account of every namespace)"
    return f"{principal} (every service account of namespace {namespace})"


def _admin_evidence(binding: Binding, names: list[str], **more: Any) -> dict[str, Any]:
    return {
        "binding": str(binding),
        "role": str(binding.role),
        "scope": binding.scope,
        **more,
        "subjects": names,
    }


@check(
    id="RBAC-001",
    area="rbac",
    severity="critical",
    title="No service account is bound to cluster-admin or an equivalent role",
    rationale="""A service account token lives in every pod that mounts it. Bound to cluster-admin
    (or to a home-made role with `*` verbs on `*` resources), one compromised or misbehaving pod (a
    CI runner, a dashboard, an operator with a remote code execution bug) owns the whole cluster:
    all Secrets, all nodes, all namespaces. Exposed dashboards running with cluster-admin service
    accounts are how clusters were taken over for crypto mining (Tesla, Weight Watchers). A
    binding to the group `system:serviceaccounts:<namespace>` gives the role to every pod of
    that namespace at once.""",
    remediation="""Bind the service account to a role with only the verbs and resources it uses,
in the namespaces it works in, and delete the cluster-admin binding:

```yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
```

A RoleBinding to cluster-admin is namespace-wide full control: use `admin` or narrower instead.""",
    references=(RBAC_GOOD_PRACTICES, RBAC_DOCS, FAILURE_STORIES),
    inputs=("clusterrolebindings", "rolebindings"),
)
def service_accounts_with_cluster_admin(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = RbacIndex.of(inv)
    sensitive = idx.sensitive_namespaces(ctx.config.sensitive_namespaces)
    for binding in admin_bindings(idx):
        subject = inv.subject(binding.key, binding.obj)
        role = role_text(idx, binding.role)
        accounts = [_service_accounts_text(p) for p in binding.principals if p.service_account_namespace]
        if not accounts:
            yield passed(subject, f"binds {role} to no service account", **_admin_evidence(binding, []))
            continue
        message = f"grants {role} {binding.scope} to {', '.join(accounts)}"
        evidence = _admin_evidence(binding, accounts, service_accounts=accounts)
        if _admin_binding_status(idx, binding, sensitive) == "fail":
            yield failed(subject, message, **evidence)
        else:
            yield warned(subject, f"{message}: full control of that namespace", **evidence)
    yield from _equivalents_unread(inv)


@check(
    id="RBAC-002",
    area="rbac",
    severity="high",
    title="cluster-admin (or an equivalent) is bound only to break-glass users and groups",
    rationale="""Day-to-day identities with cluster-admin turn every mistake into a cluster-wide
    one and every stolen laptop kubeconfig into a full compromise. Beyond the bootstrap
    `system:masters` group (and kubeadm's `kubeadm:cluster-admins` from 1.29), cluster-admin
    should be held by nobody by default and reached through a break-glass procedure; Giant Swarm's
    multi-tenancy post-mortems end with "avoid the cluster-admin role".""",
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
        "https://kubernetes.io/docs/reference/setup-tools/kubeadm/implementation-details/",
    ),
    inputs=("clusterrolebindings", "rolebindings"),
)
def humans_with_cluster_admin(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = RbacIndex.of(inv)
    sensitive = idx.sensitive_namespaces(ctx.config.sensitive_namespaces)
    expected = expected_admin_subjects(inv)
    for binding in admin_bindings(idx):
        subject = inv.subject(binding.key, binding.obj)
        role = role_text(idx, binding.role)
        people = [
            p
            for p in binding.principals
            if p.kind in ("User", "Group")
            and not p.service_account_namespace  # groups of service accounts: RBAC-001's
            and (p.kind, p.name) not in expected
        ]
        if not people:
            yield passed(
                subject,
                f"grants {role} to no user or group beyond the bootstrap ones",
                **_admin_evidence(binding, []),
            )
            continue
        names = [str(p) for p in people]
        users = [p.name for p in people if p.kind == "User"]
        groups = [p.name for p in people if p.kind == "Group"]
        where = "the bootstrap default binding" if binding.is_bootstrap else "this binding"
        message = f"{where} grants {role} {binding.scope} to {', '.join(names)}"
        evidence = _admin_evidence(binding, names, users=users, groups=groups)
        if _admin_binding_status(idx, binding, sensitive) == "fail":
            yield failed(subject, message, **evidence)
        else:
            yield warned(subject, f"{message}: full control of that namespace", **evidence)
    yield from _equivalents_unread(inv)


@check(
    id="RBAC-003",
    area="rbac",
    severity="medium",
    title="No role other than cluster-admin grants every verb on every resource",
    rationale="""A ClusterRole with `*` verbs on `*` resources in `*` groups is cluster-admin under
    another name: audits and admission policies that look for bindings to `cluster-admin` miss it,
    and whoever is bound to it later owns the cluster. The same happens silently when a role
    carrying the aggregation label of `admin`, `edit` or `view` holds wildcards: every binding of
    those everyday roles becomes an admin binding.""",
    remediation="""Replace the wildcard rule with the resources and verbs the workload uses (its
audit log shows which), or bind `cluster-admin` itself where full power is intended so it is
visible. Remove aggregation labels (`rbac.authorization.k8s.io/aggregate-to-*`) from roles that
should not extend `admin`/`edit`/`view`:

```yaml
rules:
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "patch"]
```""",
    references=(RBAC_GOOD_PRACTICES, AGGREGATION_DOCS),
    inputs=RBAC_INPUTS,
)
def cluster_admin_equivalents(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = RbacIndex.of(inv)
    found = False
    for key_name, kind in (("clusterroles", "ClusterRole"), ("roles", "Role")):
        for obj in inv.items(key_name):
            subject = inv.subject(key_name, obj)
            key = RoleKey(kind, subject.namespace, subject.name)
            rules = idx.admin_rules(key)
            if key.is_cluster_admin or not rules:
                continue
            found = True
            yield _equivalent_role_finding(idx, subject, key, rules)
    if not found:
        yield passed(Subject.cluster(), "no role besides cluster-admin grants `*` on `*` in `*`")


def _equivalent_role_finding(
    idx: RbacIndex, subject: Subject, key: RoleKey, rules: tuple[SourcedRule, ...]
) -> Finding:
    bindings = idx.bindings_to(key)
    bound = [f"{b}: {', '.join(str(p) for p in b.principals) or 'no subjects'}" for b in bindings]
    how = _wildcard_origin(rules)
    evidence = {"rule": rules[0].describe(), "bindings": bound}
    who = f"bound by {len(bindings)} binding(s): {'; '.join(bound)}" if bound else "bound to nobody yet"
    if key.kind == "ClusterRole":
        return failed(subject, f"is equivalent to cluster-admin ({how}), {who}", **evidence)
    return warned(subject, f"is full control of namespace {key.namespace} ({how}), {who}", **evidence)


def _wildcard_origin(rules: tuple[SourcedRule, ...]) -> str:
    """Where the wildcard comes from: the role's own rule, or the labelled roles aggregated into it."""
    if any(not r.source for r in rules):
        return "has a `*`/`*`/`*` rule"
    sources = sorted({r.source for r in rules})
    return f"aggregates a `*` rule from ClusterRole{'s' if len(sources) > 1 else ''} {', '.join(sources)}"


# -- escalation primitives ----------------------------------------------------------------------


def primitive_findings(inv: Inventory, ctx: Context, primitive_id: str) -> Iterator[Finding]:
    """One finding per binding whose role grants the primitive where it reaches beyond a namespace.

    Bindings to cluster-admin equivalents are left to RBAC-001/002 (one problem, one finding).
    """
    primitive = PRIMITIVES[primitive_id]
    idx = RbacIndex.of(inv)
    sensitive = idx.sensitive_namespaces(ctx.config.sensitive_namespaces)
    evaluated = 0
    for binding in idx.bindings:
        if idx.role(binding.role) is None or idx.is_admin_equivalent(binding.role):
            continue
        grants = [
            g
            for g in idx.grants(binding.role, primitive_id)
            if binding.cluster_wide
            or (g.request.namespaced and (primitive.anywhere or binding.namespace in sensitive))
        ]
        if not grants:
            continue
        evaluated += 1
        subject = inv.subject(binding.key, binding.obj)
        where = binding.scope
        if not binding.cluster_wide and binding.namespace in sensitive and not primitive.anywhere:
            where = f"in namespace {binding.namespace}, where {sensitive[binding.namespace]}"
        outsiders = idx.outsiders(binding)
        evidence = {
            "binding": str(binding),
            "role": str(binding.role),
            "scope": where,
            "grants": sorted({g.describe() for g in grants}),
            "subjects": [str(p) for p in outsiders],
            "platform_subjects": [str(p) for p in binding.principals if p not in outsiders],
        }
        if not binding.principals:
            yield passed(
                subject, f"binds nobody to {binding.role} (which can {primitive.summary})", **evidence
            )
        elif not outsiders:
            yield passed(
                subject,
                f"only control-plane identities may {primitive.summary} through {binding.role}",
                **evidence,
            )
        else:
            lead = "the bootstrap default binding " if binding.is_bootstrap else ""
            who = ", ".join(str(p) for p in outsiders)
            yield failed(
                subject,
                f"{lead}lets {who} {primitive.summary} {where}; granted by {binding.role}",
                **evidence,
            )
    if not evaluated:
        yield passed(Subject.cluster(), f"no binding lets anyone {primitive.summary} beyond one namespace")


_PRIMITIVE_REMEDIATION_TAIL = """

Where the grant comes from a role aggregated into `admin`/`edit`, remove its
`rbac.authorization.k8s.io/aggregate-to-*` label. A RoleBinding in a namespace that holds a
powerful service account (kube-system, or the CI namespace whose runner is cluster-admin) is as
good as cluster-wide: move that service account out, or stop granting the right there."""


@check(
    id="RBAC-004",
    area="rbac",
    severity="critical",
    title="Nobody outside the control plane can escalate or bind roles",
    rationale="""RBAC normally stops a user from granting permissions they do not hold. The
    `escalate` verb switches that protection off for editing roles and `bind` for creating
    bindings: either lets the holder give themselves cluster-admin in one API call. Only the
    role-aggregation controller needs `escalate`.""",
    remediation="""Remove `escalate` and `bind` (and `*` verbs) on `roles`/`clusterroles` from the
role. To let a team grant a fixed set of roles, use `bind` limited by `resourceNames`:

```yaml
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["clusterroles"]
  verbs: ["bind"]
  resourceNames: ["view", "edit"]
```"""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(
        ESCALATION_DOCS,
        "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping",
    ),
    inputs=RBAC_INPUTS,
)
def escalate_or_bind(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "escalate-bind")


@check(
    id="RBAC-005",
    area="rbac",
    severity="critical",
    title="Nobody outside the control plane can impersonate users, groups or service accounts",
    rationale="""`impersonate` lets the holder send any request as another identity: as a member
    of `system:masters`, as a cluster-admin user, or as a powerful service account. It is
    cluster-admin with an extra header, and the audit log records the impersonated user as the
    actor, which hides who really did it.""",
    remediation="""Remove `impersonate` from the role. Where a tool truly needs it (an
authenticating proxy), limit it with `resourceNames` to the identities it serves and bind it to
that tool's service account only."""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(
        ESCALATION_DOCS,
        "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation",
    ),
    inputs=RBAC_INPUTS,
)
def impersonation(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "impersonate")


@check(
    id="RBAC-006",
    area="rbac",
    severity="high",
    title="Nobody outside the control plane can read Secrets cluster-wide",
    rationale="""Reading Secrets cluster-wide (`get`, `list` or `watch`: a list returns the
    values) yields every database password, cloud key and TLS key, and on clusters with legacy
    token Secrets every service account token, cluster-admin ones included. IngressNightmare
    (CVE-2025-1974) turned exactly this right of ingress-nginx into a cluster takeover.""",
    remediation="""Grant Secret reads per namespace with a RoleBinding, limited with `resourceNames`
to the Secrets the workload uses:

```yaml
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
  resourceNames: ["payments-db"]
```"""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(
        ESCALATION_DOCS,
        "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
        "https://nvd.nist.gov/vuln/detail/CVE-2025-1974",
    ),
    inputs=RBAC_INPUTS,
)
def secret_readers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "secrets")


@check(
    id="RBAC-007",
    area="rbac",
    severity="high",
    title="Nobody outside the control plane can exec into pods cluster-wide",
    rationale="""`pods/exec`, `pods/attach` and ephemeral containers run commands inside other
    people's pods, with their service account tokens, mounted Secrets and network reach.
    Cluster-wide (or in kube-system) that includes the pods of the control plane's add-ons. The
    JW Player miners got in through exactly this capability, exposed by Weave Scope.""",
    remediation="""Grant exec per namespace to the team that owns it, through a RoleBinding, and
prefer `kubectl debug` against copies over exec into production pods."""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(ESCALATION_DOCS, FAILURE_STORIES),
    inputs=RBAC_INPUTS,
)
def exec_into_pods(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "exec")


@check(
    id="RBAC-008",
    area="rbac",
    severity="high",
    title="Nobody outside the control plane can use nodes/proxy",
    rationale="""`nodes/proxy` forwards requests to the kubelet API of a node: it can run commands
    in every pod on that node, and those calls bypass the API server's admission and audit. Even
    `get` is enough over WebSockets. Monitoring agents that only need metrics get it by copy-paste
    and become a path from one agent token to every node.""",
    remediation="""Give metrics collectors `nodes/metrics` and `nodes/stats` instead of `nodes/proxy`:

```yaml
- apiGroups: [""]
  resources: ["nodes/metrics", "nodes/stats"]
  verbs: ["get"]
```"""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(
        ESCALATION_DOCS,
        "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/",
    ),
    inputs=RBAC_INPUTS,
)
def node_proxy(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "nodes-proxy")


@check(
    id="RBAC-009",
    area="rbac",
    severity="high",
    title="Nobody outside the control plane can create workloads cluster-wide",
    rationale="""Whoever can create a pod (directly or through a Deployment, DaemonSet, Job, …)
    in a namespace can run it as any service account of that namespace, mount its Secrets and, by
    default, a privileged host-mounting pod. Cluster-wide, that is every service account in the
    cluster; in kube-system, the controllers' own.""",
    remediation="""Bind workload-creating roles (`edit`, deployer roles) per namespace with
RoleBindings, never with a ClusterRoleBinding, and keep them out of kube-system. Enforce Pod
Security Admission `restricted` on application namespaces so created pods cannot be privileged."""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(ESCALATION_DOCS, "https://kubernetes.io/docs/concepts/security/pod-security-admission/"),
    inputs=RBAC_INPUTS,
)
def workload_creators(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "workloads")


@check(
    id="RBAC-010",
    area="rbac",
    severity="high",
    title="Nobody outside the control plane can write admission webhooks or policies",
    rationale="""A mutating webhook sees, and may rewrite, every object it registers for: it can
    read Secrets as they are written and inject containers into every new pod. Deleting or
    loosening a validating webhook or admission policy switches off the guard rails (image
    policy, Pod Security) for everyone.""",
    remediation="""Let only the operator that owns a webhook manage it, limited by `resourceNames`
to its own configuration:

```yaml
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations"]
  verbs: ["get", "patch"]
  resourceNames: ["my-operator-webhook"]
```"""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(
        ESCALATION_DOCS,
        "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/",
    ),
    inputs=RBAC_INPUTS,
)
def webhook_writers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "webhooks")


@check(
    id="RBAC-011",
    area="rbac",
    severity="high",
    title="Nobody outside the control plane can mint service account tokens cluster-wide",
    rationale="""`create` on `serviceaccounts/token` issues a fresh token for any service account
    it covers, and creating a Secret of type `kubernetes.io/service-account-token` makes the
    token controller fill one in. Cluster-wide, or in kube-system, that is a token for the most
    powerful service account there is.""",
    remediation="""Grant `serviceaccounts/token` only for the named service accounts a tool must
impersonate (`resourceNames`), per namespace. Kubelets already get projected tokens for pods;
nothing else should need this right broadly."""
    + _PRIMITIVE_REMEDIATION_TAIL,
    references=(ESCALATION_DOCS, "https://kubernetes.io/docs/concepts/security/service-accounts/"),
    inputs=RBAC_INPUTS,
)
def token_minters(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from primitive_findings(inv, ctx, "tokens")


# -- bindings to everybody ----------------------------------------------------------------------

# What the defaults grant to everybody: health and discovery endpoints and "what may I do?".
DISCOVERY_URL_ROOTS = (
    "/healthz",
    "/livez",
    "/readyz",
    "/version",
    "/api",
    "/apis",
    "/openapi",
    "/.well-known/openid-configuration",
    "/openid/v1/jwks",
)
SELF_REVIEWS = frozenset(
    {
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    }
)


def _url_is_discovery(url: str) -> bool:
    return any(url == root or url.startswith(f"{root}/") for root in DISCOVERY_URL_ROOTS)


def _rule_is_discovery(binding: Binding, rule: dict[str, Any]) -> bool:
    verbs = set(strings(rule.get("verbs")))
    urls = strings(rule.get("nonResourceURLs"))
    if urls:
        return verbs <= {"get", "head"} and all(_url_is_discovery(u) for u in urls)
    groups, resources = strings(rule.get("apiGroups")), strings(rule.get("resources"))
    if verbs <= {"create"} and all((g, r) in SELF_REVIEWS for g in groups for r in resources):
        return bool(groups and resources)
    # kubeadm lets anonymous clients read the cluster-info ConfigMap in kube-public, to join nodes.
    return (
        binding.namespace == "kube-public"
        and groups == [""]
        and resources == ["configmaps"]
        and verbs <= {"get"}
        and strings(rule.get("resourceNames")) == ["cluster-info"]
    )


def beyond_discovery(idx: RbacIndex, binding: Binding) -> list[str]:
    """What a binding grants beyond the defaults everybody gets (empty: nothing more)."""
    if idx.role(binding.role) is None and not binding.role.is_cluster_admin:
        return [f"{binding.role} does not exist: whoever creates it decides what everybody gets"]
    if idx.is_admin_equivalent(binding.role):
        return [role_text(idx, binding.role)]
    return [
        r.describe() for r in idx.effective_rules(binding.role) if not _rule_is_discovery(binding, r.rule)
    ]


def _more(items: list[str]) -> str:
    rest = len(items) - 1
    return f" (and {rest} more rule{'s' if rest > 1 else ''})" if rest > 0 else ""


def population_findings(inv: Inventory, wanted: Any, who_text: str) -> Iterator[Finding]:
    idx = RbacIndex.of(inv)
    evaluated = 0
    for binding in idx.bindings:
        populations = [p for p in binding.principals if wanted(p)]
        if not populations:
            continue
        evaluated += 1
        subject = inv.subject(binding.key, binding.obj)
        names = ", ".join(str(p) for p in populations)
        extra = beyond_discovery(idx, binding)
        evidence = {
            "binding": str(binding),
            "role": str(binding.role),
            "subjects": [str(p) for p in populations],
        }
        if extra:
            yield failed(
                subject,
                f"grants {names} {binding.role} {binding.scope}: {extra[0]}{_more(extra)}",
                **evidence,
                beyond_defaults=extra,
            )
        else:
            yield passed(subject, f"grants {names} only health, discovery and self-review access", **evidence)
    if not evaluated:
        yield passed(Subject.cluster(), f"no binding names {who_text}")


@check(
    id="RBAC-012",
    area="rbac",
    severity="critical",
    title="Anonymous requests get nothing beyond health and discovery",
    rationale="""Anything bound to `system:anonymous` or `system:unauthenticated` is granted to
    whoever can reach the API server, with no credential at all. Scanners find such clusters within
    hours of them appearing; crypto-mining campaigns (Tesla, and the mass compromises Aqua and
    Microsoft reported) start from API servers that let anonymous users list or create pods. The
    defaults grant anonymous users only health checks, version and, on kubeadm, the cluster-info
    ConfigMap.""",
    remediation="""Delete the binding, or bind the role to an authenticated group instead:

```sh
kubectl delete clusterrolebinding <name>
```

Where the API server need not serve anonymous health checks, also run it with
`--anonymous-auth=false` (or, from 1.32, an AuthenticationConfiguration limiting anonymous access
to the health endpoints).""",
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
        DEFAULT_ROLES_DOCS,
        GKE_BULLETIN,
    ),
    inputs=RBAC_INPUTS,
)
def anonymous_bindings(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from population_findings(
        inv, lambda p: p.is_anonymous, "system:anonymous or system:unauthenticated"
    )


@check(
    id="RBAC-013",
    area="rbac",
    severity="high",
    title="All-authenticated and all-service-account groups get nothing beyond the defaults",
    rationale="""`system:authenticated` is everybody with any credential: on GKE that includes
    every Google account in the world (the "Sys:All" findings of 2024, Google bulletin
    GCP-2024-003). `system:serviceaccounts` is every pod of every namespace. A role bound to either
    is granted to the least trusted workload and the least trusted user of the cluster.""",
    remediation="""Bind roles to named groups from your identity provider, or to specific service
accounts; keep only the default `system:basic-user`, `system:discovery`,
`system:public-info-viewer` and `system:service-account-issuer-discovery` bindings for these
groups.""",
    references=(GKE_BULLETIN, DEFAULT_ROLES_DOCS),
    inputs=RBAC_INPUTS,
)
def everybody_bindings(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    def wanted(p: Principal) -> bool:
        return p.kind == "Group" and p.name in (AUTHENTICATED_GROUP, "system:serviceaccounts")

    yield from population_findings(inv, wanted, "system:authenticated or system:serviceaccounts")


# -- default service accounts and dangling bindings ---------------------------------------------


@check(
    id="RBAC-014",
    area="rbac",
    severity="medium",
    title="Default service accounts hold no role bindings",
    rationale="""Every pod that does not name a service account runs as its namespace's `default`
    one. A binding to `default` is therefore granted to every workload in the namespace, present and
    future, including the ones nobody reviewed (the classic Helm 2 install gave
    `kube-system:default` cluster-admin).""",
    remediation="""Create a dedicated service account for the workload that needs the role, bind
the role to it, and set `serviceAccountName` in the pod template; delete the binding to `default`:

```yaml
apiVersion: v1
kind: ServiceAccount
metadata: {name: report-reader, namespace: shop}
---
# in the Deployment's pod template
spec: {serviceAccountName: report-reader}
```""",
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
        RBAC_GOOD_PRACTICES,
    ),
    inputs=("clusterrolebindings", "rolebindings", "serviceaccounts", "clusterroles", "roles"),
)
def default_service_account_bindings(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = RbacIndex.of(inv)
    namespaces = {
        s.namespace for s in (inv.subject("serviceaccounts", o) for o in inv.items("serviceaccounts"))
    }
    bound = {
        p.namespace
        for b in idx.bindings
        for p in b.principals
        if p.kind == "ServiceAccount" and p.name == "default"
    }
    for namespace in sorted(namespaces | bound):
        subject = Subject("ServiceAccount", namespace, "default")
        bindings = [
            b
            for b in idx.bindings_of(Principal("ServiceAccount", "default", namespace))
            if beyond_discovery(idx, b)
        ]
        if not bindings:
            yield passed(subject, "is bound to no role")
            continue
        described = [f"{b} → {b.role} ({b.scope})" for b in bindings]
        yield failed(
            subject,
            f"is bound by {', '.join(described)}: every pod of {namespace} without its own service "
            "account gets these rights",
            bindings=described,
        )


@check(
    id="RBAC-015",
    area="rbac",
    severity="medium",
    title="Every binding refers to a role that exists",
    rationale="""A binding to a role that does not exist grants nothing today, but the subjects
    get whatever the next person (or Helm chart) to create a role of that name puts into it: a
    dangling binding is a pre-signed grant. Dangling bindings are also what uninstalls leave
    behind, so they point at RBAC nobody owns any more.""",
    remediation="""Delete the binding if the role is gone for good, or recreate the role it expects:

```sh
kubectl delete rolebinding <name> -n <namespace>
```""",
    references=(RBAC_DOCS,),
    inputs=RBAC_INPUTS,
)
def dangling_bindings(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = RbacIndex.of(inv)
    for binding in idx.bindings:
        subject = inv.subject(binding.key, binding.obj)
        evidence = {"role": str(binding.role), "subjects": [str(p) for p in binding.principals]}
        if binding.role.kind not in ("ClusterRole", "Role"):
            yield failed(subject, f"refers to a role of unknown kind {binding.role.kind!r}", **evidence)
        elif idx.role(binding.role) is None:
            who = ", ".join(evidence["subjects"]) or "no subjects"
            yield failed(
                subject,
                f"refers to {binding.role}, which does not exist: whoever creates it grants {who}",
                **evidence,
            )
        else:
            yield passed(subject, f"refers to existing {binding.role}", **evidence)


def service_account_rights(idx: RbacIndex, namespace: str, name: str) -> list[str]:
    """What a service account's token can do beyond discovery, one line per binding reaching it
    (by name, or through the all-service-accounts and all-authenticated groups)."""
    rights = []
    for binding, principal in idx.bindings_reaching_service_account(namespace, name):
        if not beyond_discovery(idx, binding):
            continue
        via = "" if principal.kind == "ServiceAccount" else f" (as member of {principal.name})"
        role = role_text(idx, binding.role) if idx.is_admin_equivalent(binding.role) else str(binding.role)
        rights.append(f"{role} {binding.scope} through {binding}{via}")
    return rights

"""Exposure: what an outsider can reach, and what a foothold in a pod is worth.

JW Player's clusters were mined for Monero through a Weave Scope load balancer nobody meant to be
public; Tesla's and Weight Watchers' through Kubernetes consoles without a password; Kubeflow
clusters through dashboards exposed straight to the internet. Each time the second half of the
story was the same: the exposed workload was privileged, mounted the node or carried a powerful
service account token, so one open port became the cluster.

Workload findings name the Deployment/DaemonSet/… (its pod template), not every pod; but no
template holds the ephemeral containers `kubectl debug` adds to a controller-owned pod, so that
pod is judged itself, on those containers alone. Node agents that need host access (kube-proxy,
CNI and CSI node plugins, log shippers) in system namespaces are not failed by the privilege
checks; EXP-009 lists them with what they hold.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from checks.exposure_index import (
    ENTRY_KINDS,
    INGRESS_CONTROLLER_IMAGES,
    PLATFORM_COMPONENT,
    TEMPLATE_KEYS,
    WEB_PORTS,
    AdminMatch,
    EntryPoint,
    ExposureIndex,
    Template,
    node_agent,
    reads_aws_scheme,
)
from checks.podspec import (
    bool_flag,
    command_tokens,
    container_name,
    escalation_reason,
    host_mounts,
    host_namespaces,
    image_matches,
    is_windows,
    parse_image,
    privileged_reasons,
    root_reason,
)
from checks.rbac import service_account_rights
from checks.rbac_index import RbacIndex
from k8saudit.inventory import Inventory
from k8saudit.model import (
    NO_ITEMS,
    Finding,
    Status,
    Subject,
    failed,
    judged,
    not_applicable,
    passed,
    shared_evidence,
    unknown,
    warned,
)
from k8saudit.readers import dicts
from k8saudit.registry import Context, check

POD_SECURITY_STANDARDS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
SECURITY_CONTEXT_DOCS = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
POD_SECURITY_ADMISSION = "https://kubernetes.io/docs/concepts/security/pod-security-admission/"
FAILURE_STORIES = "https://k8s.af/"
KUBEFLOW_MINING = "https://www.microsoft.com/en-us/security/blog/2020/06/10/misconfigured-kubeflow-workloads-are-a-security-risk/"
LB_FIREWALL_DOCS = (
    "https://kubernetes.io/docs/tasks/access-application-cluster/configure-cloud-provider-firewall/"
)
INTERNAL_LB_DOCS = "https://kubernetes.io/docs/concepts/services-networking/service/#internal-load-balancer"
RBAC_INPUTS = ("clusterroles", "roles", "clusterrolebindings", "rolebindings")


# -- shared helpers ---------------------------------------------------------------------------------


def unreadable(inv: Inventory, keys: tuple[str, ...]) -> list[str]:
    return [key for key in keys if not inv.readable(key)]


def unread(inv: Inventory, keys: tuple[str, ...], what: str) -> Iterator[Finding]:
    """One `unknown` naming the kinds that could not be read, so a partial answer never looks whole."""
    missing = unreadable(inv, keys)
    if missing:
        yield unknown(
            Subject.cluster(), f"{what} not evaluated: {inv.unreadable_reasons(missing)}", unreadable=missing
        )


def templates_unread(inv: Inventory) -> Iterator[Finding]:
    yield from unread(inv, TEMPLATE_KEYS, "pod specs of these kinds were")


def agent_of(template: Template, container: dict[str, Any], ctx: Context) -> str | None:
    if template.platform_owned:
        return PLATFORM_COMPONENT
    return node_agent(template.namespace, str(container.get("image", "")), ctx.config.system_namespaces)


def template_agent(template: Template, ctx: Context) -> str | None:
    """The node agent a pod belongs to: any of its containers is a recognised one."""
    for _, container in template.containers:
        agent = agent_of(template, container, ctx)
        if agent:
            return agent
    return None


def with_exposure(
    evidence: dict[str, Any], idx: ExposureIndex, template: Template, clean: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`evidence`, with the entry points that expose the template added when there are any.
    Given `clean` (the same keys, every value empty, one shared dict), an unexposed template
    whose lists are all empty gets that instead: most templates, each with a finding per check."""
    entries = idx.exposed.get(template.ident)
    if entries:
        evidence["exposed_by"] = [e.describe() for e in entries]
    elif clean is not None and not any(evidence.values()):
        return clean
    return evidence


def _exposed_suffix(idx: ExposureIndex, template: Template) -> str:
    entries = idx.exposed.get(template.ident, [])
    return f" — and it is exposed by {entries[0].describe()}" if entries else ""


# -- EXP-001: admin interfaces behind exposed services --------------------------------------------


def _match_status(match: AdminMatch, entry: EntryPoint) -> str:
    if match.auth.open:
        return "warn" if entry.guard else "fail"
    return "pass" if entry.guard else "warn"


def _match_message(inv: Inventory, entry: EntryPoint, match: AdminMatch, count: int) -> str:
    if entry.guard:
        where = f"behind {entry.guard}"
    elif entry.unsure:
        where = f"but whether to the internet cannot be told ({entry.unsure})"
    else:
        where = "to anyone who can reach it"
    message = (
        f"exposes {match.interface.name} ({match.template.subject(inv)}, {match.image}) {where}: "
        f"{match.auth.reason}; a visitor gets {match.interface.risk}"
    )
    return f"{message} (and {count - 1} more admin interface(s))" if count > 1 else message


def _match_evidence(inv: Inventory, match: AdminMatch) -> dict[str, Any]:
    return {
        "interface": match.interface.name,
        "workload": str(match.template.subject(inv)),
        "container": match.container,
        "image": match.image,
        "ports": list(match.ports),
        "authentication": "none" if match.auth.open else "login",
        "reason": match.auth.reason,
        "matched_by": match.matched_by,
    }


@check(
    id="EXP-001",
    area="exposure",
    severity="critical",
    title="No admin interface is reachable from outside without authentication",
    rationale="""Cluster tooling with a web UI or API (Weave Scope, the Kubernetes Dashboard, Argo
    Workflows in server auth mode, Kubeflow, Jupyter, Tiller, Prometheus, Grafana, Kibana, etcd, a
    Docker daemon) often has no login, or one that was switched off. Behind a LoadBalancer, a
    NodePort, an Ingress or a Gateway API route it is found by internet scanners within hours:
    JW Player's Weave Scope load balancer, Tesla's and Weight Watchers' open Kubernetes consoles
    and the 2020 Kubeflow campaign all ended in crypto miners running on the victims' nodes.""",
    remediation="""Keep admin UIs off the internet: make the Service `ClusterIP` and reach it with
`kubectl port-forward`, or put it behind an authenticating proxy (OAuth2 Proxy, IAP, your SSO)
on an internal load balancer. Switch authentication back on where it was turned off
(`--auth-mode=client` for Argo, no `--enable-skip-login` for the Dashboard, a token for Jupyter,
`--web.config.file` for Prometheus/Alertmanager). Client certificates at ingress-nginx count only
with `auth-tls-verify-client: "on"`: `optional` lets clients without one through. A Gateway API
route is judged by its Gateways: authentication your implementation adds by policy (an Envoy
Gateway SecurityPolicy, an Istio AuthorizationPolicy) is not read, so waive the finding it covers
with that reason, or detach the route from a public Gateway:

```yaml
apiVersion: v1
kind: Service
metadata: {name: weave-scope-app, namespace: weave}
spec:
  type: ClusterIP   # was LoadBalancer
```""",
    references=(FAILURE_STORIES, KUBEFLOW_MINING, INTERNAL_LB_DOCS),
    inputs=("services",),
)
def exposed_admin_interfaces(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = ExposureIndex.of(inv)
    if not idx.entry_points and all(inv.readable(key) for key in ENTRY_KINDS):
        yield passed(
            Subject.cluster(),
            "no LoadBalancer, NodePort or externalIPs Service, no Ingress and no Gateway route",
        )
    # A Service may select pods of a kind that could not be read: no entry point passes then.
    hidden = unreadable(inv, TEMPLATE_KEYS)
    unseen = f"workloads behind it may be unseen: {inv.unreadable_reasons(hidden)}" if hidden else ""
    for entry in idx.entry_points:
        yield _entry_finding(inv, idx, entry, hidden, unseen)
    yield from unread(inv, (*ENTRY_KINDS, *TEMPLATE_KEYS), "exposure through these kinds was")


def _entry_finding(
    inv: Inventory, idx: ExposureIndex, entry: EntryPoint, hidden: list[str], unseen: str
) -> Finding:
    """EXP-001's verdict on one entry point; `unseen` says why some of its backends may be
    missing (the kinds `hidden` could not be read), "" when none can be."""
    subject = inv.subject(entry.key, entry.obj)
    matches = idx.admin_matches(entry)
    base = {"exposure": entry.how, "guard": entry.guard or None}
    if not matches:
        backends = [str(t.subject(inv)) for t in entry.backends]
        if unseen:
            return unknown(
                subject,
                f"no known admin interface among the workloads read, but {unseen}",
                **base,
                backends=backends,
                unreadable=hidden,
            )
        return passed(subject, "exposes no known admin interface", **base, backends=backends)
    ranked = sorted(matches, key=lambda m: ("fail", "warn", "pass").index(_match_status(m, entry)))
    worst = ranked[0]
    status = _match_status(worst, entry)
    message = _match_message(inv, entry, worst, len(matches))
    evidence = {**base, "interfaces": [_match_evidence(inv, m) for m in ranked]}
    if entry.unsure:  # public or not decides between fail and warn, or warn and pass
        return unknown(subject, message, **evidence)
    if status == "pass" and unseen:
        return unknown(subject, f"{message}; other {unseen}", **evidence, unreadable=hidden)
    if status in ("fail", "warn"):
        # What `scan --probe` may GET to turn the suspicion into evidence (k8saudit/probe.py).
        evidence["probe_targets"] = [{**p, "interface": worst.interface.name} for p in entry.probe[:20]]
    return judged(Status(status), subject, message, evidence)


# -- EXP-002: public load balancers -----------------------------------------------------------------

INTERNAL_HINTS = {
    "aws": 'service.beta.kubernetes.io/aws-load-balancer-internal: "true"',  # the in-tree provider
    "gce": 'networking.gke.io/load-balancer-type: "Internal"',
    "azure": 'service.beta.kubernetes.io/azure-load-balancer-internal: "true"',
    "openstack": 'service.beta.kubernetes.io/openstack-internal-load-balancer: "true"',
}


# What the AWS Load Balancer Controller and EKS Auto Mode read instead of the in-tree annotation.
AWS_SCHEME_HINT = "service.beta.kubernetes.io/aws-load-balancer-scheme: internal"
GENERIC_HINT = "the cloud provider's internal load balancer annotation"


def internal_hint(cloud: str, service: dict[str, Any]) -> str:
    """The annotation that would make this Service's load balancer internal, for whoever makes it."""
    if reads_aws_scheme(service):
        return AWS_SCHEME_HINT
    return INTERNAL_HINTS.get(cloud, GENERIC_HINT)


def cloud_of(inv: Inventory) -> str:
    """aws, gce, azure, openstack … from the provider or the nodes' providerID, "" if unknown."""
    by_provider = {"eks": "aws", "gke": "gce", "aks": "azure"}
    if inv.provider.name in by_provider:
        return by_provider[inv.provider.name]
    for node in inv.items("nodes"):
        provider_id = str((node.get("spec") or {}).get("providerID", ""))
        if "://" in provider_id:
            return provider_id.split("://", 1)[0]
    return ""


def _is_ingress_controller(template: Template) -> bool:
    return any(
        image_matches(parse_image(str(c.get("image", ""))), INGRESS_CONTROLLER_IMAGES)
        for _, c in template.containers
    )


@check(
    id="EXP-002",
    area="exposure",
    severity="high",
    title="LoadBalancer Services are internal or restricted to known source ranges",
    rationale="""A Service of type LoadBalancer gets a public address by default on most clouds
    (the AWS Load Balancer Controller, from v2.2, is the exception: the NLBs it makes are internal
    unless marked internet-facing, though one made by an older version keeps its scheme). Unless
    it carries the internal annotation of whoever makes the load balancer (the in-tree AWS
    provider reads `aws-load-balancer-internal` and ignores `aws-load-balancer-scheme`, which only
    the controller reads) or `loadBalancerSourceRanges`, whatever it
    fronts is on the internet: JW Player's Weave Scope was public only because its load
    balancer was not made internal. Public traffic should enter through the ingress controller,
    where TLS, authentication and rate limits live; a direct public load balancer bypasses all of
    that.""",
    remediation="""Make the load balancer internal, or restrict who may connect:

```yaml
metadata:
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-internal: "true"  # AWS, in-tree provider
    # service.beta.kubernetes.io/aws-load-balancer-scheme: internal  # AWS LB controller, EKS Auto Mode
    # networking.gke.io/load-balancer-type: "Internal"              # GKE
    # service.beta.kubernetes.io/azure-load-balancer-internal: "true"  # AKS
spec:
  loadBalancerSourceRanges: ["203.0.113.0/24"]   # office / VPN egress
```

If the service must be public, route it through the ingress controller instead of its own load
balancer (or waive this finding with the reason).""",
    references=(INTERNAL_LB_DOCS, LB_FIREWALL_DOCS, FAILURE_STORIES),
    inputs=("services",),
)
def public_load_balancers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = ExposureIndex.of(inv)
    balancers = [e for e in idx.entry_points if e.how == "LoadBalancer"]
    if not balancers:
        yield not_applicable(Subject.cluster(), "no Service of type LoadBalancer")
    cloud = cloud_of(inv)
    for entry in balancers:
        subject = inv.subject(entry.key, entry.obj)
        ports = sorted(
            {
                p.get("port")
                for p in dicts((entry.obj.get("spec") or {}).get("ports"))
                if isinstance(p.get("port"), int)
            }
        )
        evidence = {
            "ports": ports,
            "addresses": sorted({p["host"] for p in entry.probe}) or NO_ITEMS,
            "guard": entry.guard or None,
        }
        if entry.guard:
            yield judged(Status.PASS, subject, f"not public: {entry.guard}", evidence)
        elif (
            entry.backends
            and all(_is_ingress_controller(t) for t in entry.backends)
            and set(ports) <= WEB_PORTS
        ):
            controller = entry.backends[0].subject(inv)
            yield passed(
                subject,
                f"public entry point of the ingress controller ({controller}) on web ports only",
                **evidence,
            )
        else:
            opened = (entry.obj.get("spec") or {}).get("loadBalancerSourceRanges") or []
            why = (
                "loadBalancerSourceRanges allows the whole internet"
                if opened
                else "no loadBalancerSourceRanges and no internal annotation"
            )
            behind = ", ".join(str(t.subject(inv)) for t in entry.backends[:3]) or "no selected workload"
            hint = internal_hint(cloud, entry.obj)
            yield failed(
                subject,
                f"public load balancer on port(s) {', '.join(map(str, ports))} ({why}) in front of {behind}; "
                f"make it internal ({hint}) or restrict its source ranges",
                **evidence,
                internal_annotation=hint,
            )


# -- EXP-003: Kubernetes Dashboard login switches ----------------------------------------------------

DASHBOARD_IMAGES = (
    "kubernetesui/dashboard",
    "kubernetesui/dashboard-web",
    "kubernetesui/dashboard-api",
    "kubernetes-dashboard-amd64",
    "kubernetes-dashboard",
)


def _service_account_of(spec: dict[str, Any]) -> str:
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


@functools.lru_cache(maxsize=1 << 14)
def _is_dashboard_image(image: str) -> bool:
    # Per image: every container of the cluster is asked, and they run a few hundred images.
    return image_matches(parse_image(image), DASHBOARD_IMAGES) is not None


@check(
    id="EXP-003",
    area="exposure",
    severity="critical",
    title="The Kubernetes Dashboard does not offer skip-login or insecure login",
    rationale="""With `--enable-skip-login` the Dashboard's login page gets a Skip button that
    signs the visitor in as the Dashboard's own service account; installs that also bound that
    account to cluster-admin handed the cluster to anyone who found the page, which is how
    Tesla's exposed console was used to mine crypto. `--enable-insecure-login` accepts tokens
    over plain HTTP, where anyone on the path can read them.""",
    remediation="""Remove both flags from the Dashboard container, give its service account only
the metrics-scraping role the chart ships with, and sign in with your own token:

```yaml
args:
  - --auto-generate-certificates
  - --namespace=kubernetes-dashboard
  # no --enable-skip-login, no --enable-insecure-login
```""",
    references=(
        "https://kubernetes.io/docs/tasks/access-application-cluster/web-ui-dashboard/",
        "https://github.com/kubernetes/dashboard",
        FAILURE_STORIES,
    ),
)
def dashboard_login(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    exposure = ExposureIndex.of(inv)
    rbac = RbacIndex.of(inv) if all(inv.readable(k) for k in RBAC_INPUTS) else None
    found = False
    for template in exposure.templates:
        dashboards = [
            c
            for role, c in template.containers
            if role == "container" and _is_dashboard_image(str(c.get("image", "")))
        ]
        if not dashboards:
            continue
        found = True
        yield _dashboard_finding(inv, exposure, rbac, template, dashboards)
    if not found:
        yield not_applicable(Subject.cluster(), "no Kubernetes Dashboard runs in the cluster")
    yield from templates_unread(inv)


def _dashboard_finding(
    inv: Inventory,
    exposure: ExposureIndex,
    rbac: RbacIndex | None,
    template: Template,
    dashboards: list[dict[str, Any]],
) -> Finding:
    subject = template.subject(inv)
    flags = []
    for container in dashboards:
        tokens = command_tokens(container)
        flags += [f for f in ("enable-skip-login", "enable-insecure-login") if bool_flag(tokens, f)]
    account = _service_account_of(template.spec)
    rights = service_account_rights(rbac, template.namespace, account) if rbac is not None else []
    evidence = with_exposure(
        {
            "flags": [f"--{f}" for f in flags],
            "service_account": f"{template.namespace}/{account}",
            "service_account_rights": rights,
        },
        exposure,
        template,
    )
    power = f"; its service account {template.namespace}/{account} holds {rights[0]}" if rights else ""
    exposed = _exposed_suffix(exposure, template)
    if "enable-skip-login" in flags:
        return failed(
            subject,
            "runs the Dashboard with --enable-skip-login: anyone can sign in as its service account"
            f"{power}{exposed}",
            **evidence,
        )
    if flags:
        return warned(
            subject,
            f"runs the Dashboard with --enable-insecure-login: tokens travel over plain HTTP{exposed}",
            **evidence,
        )
    return passed(subject, "the Dashboard requires a token or kubeconfig to sign in", **evidence)


# -- EXP-004 … EXP-007: what a foothold in a pod is worth --------------------------------------------


def _split_by_agent(
    template: Template, ctx: Context, items: list[tuple[dict[str, Any], str]]
) -> tuple[list[str], list[str]]:
    """(offending, node-agent) descriptions from (container, description) pairs; `NO_ITEMS`
    for none (most templates, each with a finding per check that keeps both lists)."""
    if not items:
        return NO_ITEMS, NO_ITEMS
    offending: list[str] = []
    agents: list[str] = []
    for container, text in items:
        agent = agent_of(template, container, ctx)
        (agents if agent else offending).append(f"{text} [{agent}]" if agent else text)
    return offending or NO_ITEMS, agents or NO_ITEMS


Problems = Callable[[Template, Context], list[tuple[dict[str, Any], str]]]

# The evidence of a clean, unexposed template (EXP-004..006, EXP-007): one dict for them all.
_NOTHING_FOUND = shared_evidence(findings=NO_ITEMS, node_agent_findings=NO_ITEMS)
_NO_ROOT = shared_evidence(root=NO_ITEMS, privilege_escalation=NO_ITEMS, node_agent_findings=NO_ITEMS)


def _workload_findings(
    inv: Inventory,
    ctx: Context,
    problems: Problems,
    verdict: str,
    agent_verdict: str,
    clean: str,
    *,
    include_debugged_pods: bool = True,
) -> Iterator[Finding]:
    """Judge every pod template: `problems(template, ctx)` gives (container, description) pairs.
    Debugged pods' ephemeral containers too, unless the problems are pod settings (the template's)."""
    idx = ExposureIndex.of(inv)
    for template in idx.templates_and_debugged_pods() if include_debugged_pods else idx.templates:
        subject = template.subject(inv)
        offending, agents = _split_by_agent(template, ctx, problems(template, ctx))
        evidence = with_exposure(
            {"findings": offending, "node_agent_findings": agents}, idx, template, _NOTHING_FOUND
        )
        if offending:
            yield failed(
                subject, f"{verdict}: {'; '.join(offending)}{_exposed_suffix(idx, template)}", **evidence
            )
        elif agents:
            yield not_applicable(
                subject,
                f"recognised node agent {agent_verdict}: {'; '.join(agents)} (listed by EXP-009)",
                **evidence,
            )
        else:
            yield judged(Status.PASS, subject, clean, evidence)
    yield from templates_unread(inv)


def privileged_problems(template: Template, ctx: Context) -> list[tuple[dict[str, Any], str]]:
    return [
        (c, f"{role} {container_name(c)} ({', '.join(reasons)})")
        for role, c in template.containers
        if (reasons := privileged_reasons(template.spec, c))
    ]


def host_namespace_problems(template: Template, ctx: Context) -> list[tuple[dict[str, Any], str]]:
    shared = host_namespaces(template.spec)
    if not shared:
        return []
    # Host namespaces are a pod setting: the pod is a node agent if any of its containers is one.
    containers = [c for _, c in template.containers]
    owner = next((c for c in containers if agent_of(template, c, ctx)), containers[0] if containers else {})
    return [(owner, ", ".join(f"{field}: true" for field in shared))]


def host_path_problems(template: Template, ctx: Context) -> list[tuple[dict[str, Any], str]]:
    sensitive = [m for m in host_mounts(template.spec) if m.why is not None]
    if not sensitive:
        return []
    by_name = {container_name(c): c for _, c in template.containers}
    return [(by_name.get(m.container, {}), f"{m.describe()}: {m.why}") for m in sensitive]


@check(
    id="EXP-004",
    area="exposure",
    severity="critical",
    title="Workloads run no privileged containers",
    rationale="""A privileged container (or one given SYS_ADMIN, SYS_MODULE, SYS_PTRACE or ALL
    capabilities) is root on the node: it can load kernel modules, mount the host disk and read
    every other pod's Secrets. Whoever gets code execution in it (through an exposed UI, a
    vulnerable dependency) owns the node and, through the kubelet's credentials, a good part of
    the cluster. The JW Player write-up's first lesson: never give untrusted workloads the node.""",
    remediation="""Drop `privileged` and added capabilities; if a specific capability is truly
needed, add only that one. Enforce it with Pod Security Admission on application namespaces:

```yaml
securityContext:
  privileged: false
  capabilities: {drop: ["ALL"]}
---
# namespace label
pod-security.kubernetes.io/enforce: baseline
```""",
    references=(POD_SECURITY_STANDARDS, SECURITY_CONTEXT_DOCS, POD_SECURITY_ADMISSION),
)
def privileged_containers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _workload_findings(
        inv,
        ctx,
        privileged_problems,
        "runs privileged containers",
        "running privileged",
        "no privileged container",
    )


@check(
    id="EXP-005",
    area="exposure",
    severity="high",
    title="Workloads do not share the node's PID, IPC or network namespace",
    rationale="""`hostPID` lets a pod see and signal (and with ptrace, enter) every process on
    the node; `hostIPC` exposes the node's shared memory; `hostNetwork` puts the pod on the
    node's interfaces, where it can reach services bound to localhost, sniff traffic and talk to
    the cloud metadata endpoint with the node's identity. Any of them turns a compromised
    application into a compromised node.""",
    remediation="""Remove `hostPID`, `hostIPC` and `hostNetwork` from the pod spec; expose ports
through a Service instead of the host network:

```yaml
spec:
  hostNetwork: false
  hostPID: false
  hostIPC: false
```""",
    references=(
        POD_SECURITY_STANDARDS,
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
    ),
)
def host_namespace_sharing(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _workload_findings(
        inv,
        ctx,
        host_namespace_problems,
        "shares host namespaces",
        "sharing host namespaces",
        "uses its own namespaces",
        include_debugged_pods=False,  # a pod setting: a debugged pod's is its template's
    )


@check(
    id="EXP-006",
    area="exposure",
    severity="critical",
    title="Workloads do not mount the node's root, runtime socket, /proc, /etc or kubelet data",
    rationale="""A hostPath mount of `/`, `/etc`, `/proc`, `/var/lib/kubelet` or a container
    runtime socket (`docker.sock`, `containerd.sock`, `crio.sock`, under `/run` or its `/var/run`
    symlink; on Windows the `docker_engine` and `containerd-containerd` named pipes or the `C:`
    drive) gives the container the node: the socket starts privileged containers, the kubelet
    directory holds every pod's Secrets and tokens, `/etc` and `/` hold credentials and systemd
    units, and k3s and RKE2 keep a cluster-admin kubeconfig under `/etc/rancher` and their CA
    keys and join token under `/var/lib/rancher/*/server`. Weave Scope's agent mounts the Docker
    socket, which is why its exposed UI could run commands anywhere.""",
    remediation="""Replace the hostPath with what the workload needs: a ConfigMap or Secret
volume, an emptyDir, a CSI volume; for logs, mount only the log directory read-only. Enforce
with Pod Security Admission `baseline`, which forbids hostPath volumes:

```yaml
volumes:
  - name: varlog
    hostPath: {path: /var/log, type: Directory}   # narrow, and mounted readOnly: true
```""",
    references=(
        "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
        POD_SECURITY_STANDARDS,
        FAILURE_STORIES,
    ),
)
def sensitive_host_paths(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _workload_findings(
        inv,
        ctx,
        host_path_problems,
        "mounts sensitive host paths",
        "mounting host paths",
        "mounts no sensitive host path",
    )


@check(
    id="EXP-007",
    area="exposure",
    severity="medium",
    title="Containers run as non-root and cannot gain privileges",
    rationale="""A container running as UID 0 is root on the node the moment it escapes (a
    kernel bug, a runtime CVE such as runc's CVE-2019-5736, a writable host mount), and files it
    writes on shared volumes are owned by root. Without `allowPrivilegeEscalation: false`, setuid
    binaries in the image turn a non-root process back into root; and that setting does not hold
    for a privileged container or one given SYS_ADMIN (Kubernetes documents it as always true
    there). The JW Player post-mortem lists "avoid running containers as root" among its lessons.
    Windows pods (by `spec.os`, or a node selector or affinity on `kubernetes.io/os`) are not
    applicable: they have no UID 0.""",
    remediation="""Run as a non-root user and switch off privilege escalation, at pod level for
the user and per container for escalation (container values override the pod's), without
`privileged` or an added SYS_ADMIN, which void it:

```yaml
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 10001}
  containers:
    - name: app
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: ["ALL"]}
```""",
    references=(
        SECURITY_CONTEXT_DOCS,
        POD_SECURITY_STANDARDS,
        "https://nvd.nist.gov/vuln/detail/CVE-2019-5736",
    ),
)
def root_containers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = ExposureIndex.of(inv)
    for template in idx.templates_and_debugged_pods():
        subject = template.subject(inv)
        if is_windows(template.spec):
            yield not_applicable(subject, "Windows pod: runAsUser and privilege escalation do not apply")
            continue
        root, escalation = [], []
        for role, container in template.containers:
            reason = root_reason(template.spec, container)
            if reason:
                root.append((container, f"{role} {container_name(container)}: {reason}"))
            elif may_escalate := escalation_reason(container):
                escalation.append((container, f"{role} {container_name(container)}: {may_escalate}"))
        root_offending, root_agents = _split_by_agent(template, ctx, root)
        esc_offending, esc_agents = _split_by_agent(template, ctx, escalation)
        evidence = with_exposure(
            {
                "root": root_offending,
                "privilege_escalation": esc_offending,
                "node_agent_findings": (root_agents + esc_agents) or NO_ITEMS,
            },
            idx,
            template,
            _NO_ROOT,
        )
        if root_offending:
            yield judged(
                Status.FAIL,
                subject,
                f"may run as root: {'; '.join(root_offending)}{_exposed_suffix(idx, template)}",
                evidence,
            )
        elif esc_offending:
            yield warned(
                subject, f"runs as non-root but may escalate: {'; '.join(esc_offending)}", **evidence
            )
        elif root_agents or esc_agents:
            yield not_applicable(
                subject,
                "recognised node agent running as root (listed by EXP-009): "
                + "; ".join(root_agents + esc_agents),
                **evidence,
            )
        else:
            yield judged(
                Status.PASS,
                subject,
                "every container runs as non-root without privilege escalation",
                evidence,
            )
    yield from templates_unread(inv)


# -- EXP-008: service account tokens in exposed workloads ----------------------------------------------


def token_mount(inv: Inventory, template: Template) -> tuple[bool, str]:
    """Whether an API token is mounted into the pod, and which setting decided it."""
    spec = template.spec
    for volume in dicts(spec.get("volumes")):
        for source in dicts((volume.get("projected") or {}).get("sources")):
            token = source.get("serviceAccountToken")
            # A token for another audience (IRSA's sts.amazonaws.com) is no API credential.
            if isinstance(token, dict) and not token.get("audience"):
                return True, f"projected serviceAccountToken volume {volume.get('name')}"
    pod_setting = spec.get("automountServiceAccountToken")
    if isinstance(pod_setting, bool):
        return pod_setting, f"pod automountServiceAccountToken: {str(pod_setting).lower()}"
    account = inv.get("serviceaccounts", template.namespace, _service_account_of(spec))
    sa_setting = (account or {}).get("automountServiceAccountToken")
    if isinstance(sa_setting, bool):
        return sa_setting, f"service account automountServiceAccountToken: {str(sa_setting).lower()}"
    return True, "automountServiceAccountToken unset: mounted by default"


@check(
    id="EXP-008",
    area="exposure",
    severity="high",
    title="Exposed workloads do not carry a service account token they do not need",
    rationale="""Remote code execution in an internet-facing pod gives the attacker whatever is
    in the pod; the auto-mounted service account token turns that into API access with the
    account's rights. In the Tesla and Weight Watchers cases the exposed console's credentials
    were the way from one pod to the whole cloud account. Most web workloads never call the
    Kubernetes API and should not carry a token at all.""",
    remediation="""Switch the token off for workloads that do not call the API, on the pod (or
the service account), and give those that do a dedicated, minimal service account:

```yaml
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
spec:
  serviceAccountName: web
  automountServiceAccountToken: false
```""",
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
        "https://kubernetes.io/docs/concepts/security/service-accounts/",
    ),
    inputs=("services", "serviceaccounts"),
)
def exposed_tokens(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = ExposureIndex.of(inv)
    rbac = RbacIndex.of(inv) if all(inv.readable(k) for k in RBAC_INPUTS) else None
    evaluated = False
    for template in idx.templates:
        entries = idx.exposed.get(template.ident)
        if not entries:
            continue
        evaluated = True
        subject = template.subject(inv)
        account = f"{template.namespace}/{_service_account_of(template.spec)}"
        mounted, why = token_mount(inv, template)
        evidence = {
            "service_account": account,
            "decided_by": why,
            "exposed_by": [e.describe() for e in entries],
        }
        if not mounted:
            yield passed(
                subject, f"exposed by {entries[0].describe()} without an API token ({why})", **evidence
            )
            continue
        prefix = (
            f"exposed by {entries[0].describe()} and mounts the token of ServiceAccount {account} ({why})"
        )
        if rbac is None:
            yield warned(subject, f"{prefix}; its rights are unknown (RBAC could not be read)", **evidence)
            continue
        rights = service_account_rights(rbac, template.namespace, _service_account_of(template.spec))
        evidence["rights"] = rights or NO_ITEMS
        if rights:
            yield failed(
                subject,
                f"{prefix}, which holds {rights[0]}"
                + (f" and {len(rights) - 1} more" if len(rights) > 1 else ""),
                **evidence,
            )
        else:
            yield judged(
                Status.WARN,
                subject,
                f"{prefix}; it holds no rights beyond discovery today, so switch automounting off",
                evidence,
            )
    exposure_inputs = (*ENTRY_KINDS, *TEMPLATE_KEYS)
    if not evaluated and not unreadable(inv, exposure_inputs):  # else an exposed one may be unseen
        yield passed(
            Subject.cluster(),
            "no workload is exposed by a LoadBalancer, NodePort, externalIPs, Ingress or Gateway route",
        )
    yield from unread(inv, exposure_inputs, "exposure through these kinds was")


# -- EXP-009: node agents and their host access -------------------------------------------------------


@check(
    id="EXP-009",
    area="exposure",
    severity="info",
    title="Node agents with host access are known components (inventory)",
    rationale="""kube-proxy, CNI and CSI node plugins, log shippers and node monitoring need host
    access by design, so the privilege checks do not fail them; but each is a path to the node if
    its image is compromised or outdated. This informational check lists every recognised node
    agent in the system namespaces with the host access it holds, so none is silently passed and
    the list can be compared with what the platform team expects.""",
    remediation="""Review the list: every agent should be one you installed on purpose, from the
upstream image, at a supported version. Remove agents nobody owns, and keep unrecognised
workloads out of system namespaces (they are judged by EXP-004 to EXP-007 like any other).""",
    references=(
        POD_SECURITY_STANDARDS,
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#privileged",
    ),
)
def node_agents(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    idx = ExposureIndex.of(inv)
    found = False
    for template in idx.templates:
        agent = template_agent(template, ctx)
        if agent is None:
            continue
        problems = (
            privileged_problems(template, ctx)
            + host_namespace_problems(template, ctx)
            + host_path_problems(template, ctx)
        )
        held = [text for _, text in problems]
        held += [
            f"{role} {container_name(c)} may run as root"
            for role, c in template.containers
            if not is_windows(template.spec) and root_reason(template.spec, c)
        ]
        if not held and template.platform_owned:
            continue  # hundreds of OpenShift's own deployments: only its host agents are news
        found = True
        subject = template.subject(inv)
        images = sorted({str(c.get("image", "")) for _, c in template.containers})
        if held:
            yield warned(
                subject,
                f"{agent} with host access: {'; '.join(held)}",
                agent=agent,
                images=images,
                host_access=held,
            )
        else:
            yield passed(subject, f"{agent} without host access", agent=agent, images=images)
    if not found:
        yield not_applicable(Subject.cluster(), "no recognised node agent in the system namespaces")
    yield from templates_unread(inv)


# -- EXP-010: how the API server itself is reached ---------------------------------------------------


@check(
    id="EXP-010",
    area="exposure",
    severity="medium",
    title="The API server is reached with TLS verification",
    rationale="""A kubeconfig with `insecure-skip-tls-verify` accepts any certificate: whoever can
    sit between the operator and the API server (a hostile Wi-Fi, a compromised proxy, a spoofed
    DNS record) reads the bearer token or impersonates the cluster. The setting is usually a
    workaround for a self-signed certificate that never got its CA distributed, and it spreads
    from one kubeconfig to the whole team's. The scan itself was made that way, so this cluster
    is being reached like that today.""",
    remediation="""Distribute the cluster's CA instead of skipping verification:

```yaml
clusters:
- name: prod
  cluster:
    server: https://api.prod.example.com:6443
    certificate-authority-data: LS0tLS1CRUdJTi...   # the cluster CA, base64
    # no insecure-skip-tls-verify
```

If the API server is reached by IP or through a name its certificate does not list, set
`tls-server-name` to a name it does list, or add the name to the certificate's SANs.""",
    references=(
        "https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/",
        "https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/",
    ),
)
def api_server_tls_verification(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    cluster = inv.cluster
    if cluster.insecure_skip_tls_verify:
        yield failed(
            Subject.cluster(),
            f"the scan reached {cluster.server or 'the API server'} with insecure-skip-tls-verify "
            f"(context {cluster.context or '?'}): any certificate is accepted, "
            "so credentials can be intercepted",
            context=cluster.context,
            server=cluster.server,
        )
    else:
        yield passed(
            Subject.cluster(),
            f"the scan verified the API server's certificate (context {cluster.context or '?'})",
        )

"""DNS: the cluster's name service — which server runs it, whether it survives losing a node or a
scale-down, how it is configured, and how hard workloads lean on it.

The incidents: Preply's partial DNS outage, when the CoreDNS autoscaler shrank CoreDNS from 3 to 2
replicas and kube-proxy failed to clear the conntrack entries of the deleted pod, so lookups kept
going to a pod that no longer existed; Zalando's 5-second DNS latencies (the conntrack insertion
race of parallel A/AAAA lookups), which made them move off kube-dns to node-local caching; Galo
Navarro's 10x latency hunt, which started from DNS queries; and the CPU-throttling stories of Buffer,
Omio and Zalando, which hit latency-critical components such as DNS hardest.
"""

from __future__ import annotations

import fnmatch
import json
import math
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from checks.advisories import (
    COREDNS_ISSUES,
    COREDNS_RELEASES_URL,
    Version,
    coredns_release_date,
    format_version,
    image_repository,
    image_version,
)
from checks.corefile import Corefile, CorefileError, ImportableFiles, ServerBlock, parse_corefile
from checks.etcd import join_names
from checks.ingress_controllers import flag_value
from checks.podspec import binary_of, command_tokens
from checks.workload_ha import (
    desired_replicas,
    pdb_finding,
    ready_replicas,
    spread_finding,
    template_labels,
)
from k8saudit.inventory import Inventory
from k8saudit.model import (
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
from k8saudit.readers import as_list, as_object, dicts, labels_of, name_of, namespace_of
from k8saudit.redact import REDACTED, pod_spec_of
from k8saudit.registry import Context, check

Obj = dict[str, Any]

# OpenShift's DNS operator runs CoreDNS here, from release-payload images named by digest.
OPENSHIFT_DNS_NAMESPACE = "openshift-dns"
DNS_NAMESPACES = frozenset({"kube-system", OPENSHIFT_DNS_NAMESPACE})
KUBE_DNS_LABEL = ("k8s-app", "kube-dns")
SYSTEM_PRIORITY_CLASSES = frozenset({"system-cluster-critical", "system-node-critical"})
AUTOSCALER_CONFIGMAP = "*dns-autoscaler"
AUTOSCALER_IMAGE = "cluster-proportional-autoscaler"
NODELOCAL_NAMES = frozenset({"node-local-dns", "nodelocaldns"})
NODELOCAL_IMAGE = "k8s-dns-node-cache"
RESOLV_CONF = "/etc/resolv.conf"
DEFAULT_NDOTS = 5
# Public recursive resolvers: forwarding the cluster's lookups to them bypasses the VPC/corporate
# resolver (private zones, split horizon, resolver logs) and shares their rate limits.
PUBLIC_RESOLVERS = frozenset(
    {
        "8.8.8.8",
        "8.8.4.4",
        "2001:4860:4860::8888",
        "2001:4860:4860::8844",
        "1.1.1.1",
        "1.0.0.1",
        "2606:4700:4700::1111",
        "2606:4700:4700::1001",
        "9.9.9.9",
        "149.112.112.112",
        "2620:fe::fe",
        "208.67.222.222",
        "208.67.220.220",
        "94.140.14.14",
        "94.140.15.15",
        "64.6.64.6",
        "64.6.65.6",
        "4.2.2.1",
        "4.2.2.2",
    }
)

DNS_DEBUG_DOCS = "https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/"
COREDNS_DOCS = "https://kubernetes.io/docs/tasks/administer-cluster/coredns/"
AUTOSCALE_DOCS = "https://kubernetes.io/docs/tasks/administer-cluster/dns-horizontal-autoscaling/"
CPA_REPO = "https://github.com/kubernetes-sigs/cluster-proportional-autoscaler"
NODELOCAL_DOCS = "https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/"
PREPLY = "https://medium.com/preply-engineering/dns-postmortem-e169efd45afd"
ZALANDO_TALK = "https://www.slideshare.net/try_except_/running-kubernetes-in-production-a-million-ways-to-crash-your-cluster-devopscon-munich-2018"
BUFFER = "https://erickhun.com/posts/kubernetes-faster-services-no-cpu-limits/"
PRIORITY_DOCS = (
    "https://kubernetes.io/docs/tasks/administer-cluster/guaranteed-scheduling-critical-addon-pods/"
)
PDB_DOCS = "https://kubernetes.io/docs/tasks/run-application/configure-pdb/"
SPREAD_DOCS = "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/"
LOOP_DOCS = "https://coredns.io/plugins/loop/#troubleshooting"
CACHE_DOCS = "https://coredns.io/plugins/cache/"
FORWARD_DOCS = "https://coredns.io/plugins/forward/"
HEALTH_DOCS = "https://coredns.io/plugins/health/"
READY_DOCS = "https://coredns.io/plugins/ready/"
DNS_POD_DOCS = "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config"


# -- finding the cluster DNS ---------------------------------------------------------------------


@dataclass
class DnsWorkload:
    """A Deployment or DaemonSet serving cluster DNS."""

    key: str
    obj: Obj
    server: str  # "coredns" or "kube-dns"
    container: Obj

    @property
    def image(self) -> str:
        return str(self.container.get("image", ""))

    @cached_property
    def version(self) -> Version | None:
        """The server's version from the image tag, only when the image is the server's own: a
        tag on another image (OpenShift's payload, a server found by its command) versions
        something else."""
        if self.openshift_managed or _server_of_image(self.image) != self.server:
            return None
        return image_version(self.image)

    @property
    def openshift_managed(self) -> bool:
        """Run by OpenShift's DNS operator, whose CoreDNS follows the OpenShift release."""
        return namespace_of(self.obj) == OPENSHIFT_DNS_NAMESPACE

    @property
    def version_text(self) -> str:
        return f"v{format_version(self.version)}" if self.version else "unknown version"

    @property
    def spec(self) -> Obj:
        return pod_spec_of(self.key, self.obj) or {}

    def describe(self, inv: Inventory) -> str:
        subject = inv.subject(self.key, self.obj)
        return f"{self.server} {self.version_text} ({subject.kind} {namespace_of(self.obj)}/{subject.name})"

    def evidence(self, inv: Inventory) -> dict[str, Any]:
        subject = inv.subject(self.key, self.obj)
        return {
            "server": self.server,
            "workload": f"{subject.kind} {namespace_of(self.obj)}/{subject.name}",
            "image": self.image,
        }


def _server_of_image(image: str) -> str | None:
    last = image_repository(image).rsplit("/", 1)[-1].lower()
    if "coredns" in last:
        return "coredns"
    if "k8s-dns-kube-dns" in last or last == "kube-dns":
        return "kube-dns"
    return None


def _server_of(container: Obj) -> str | None:
    """The DNS server a container runs: named by its image, else by the binary it starts
    (OpenShift's `dns` container runs `coredns` from an image that is only a digest)."""
    server = _server_of_image(str(container.get("image", "")))
    if server is None and binary_of(container) == "coredns":
        return "coredns"
    return server


def dns_workloads(inv: Inventory) -> list[DnsWorkload]:
    """Cluster DNS servers: CoreDNS or kube-dns workloads in the DNS namespaces, or labelled
    `k8s-app: kube-dns` anywhere (the label the kube-dns Service selects)."""
    return list(inv.derived(_dns_workloads))  # a dozen checks ask: one walk over the workloads


def _dns_workloads(inv: Inventory) -> list[DnsWorkload]:
    found: list[DnsWorkload] = []
    for key in ("deployments", "daemonsets"):
        for obj in inv.items(key):
            labels = template_labels(obj)
            if namespace_of(obj) not in DNS_NAMESPACES and labels.get(KUBE_DNS_LABEL[0]) != KUBE_DNS_LABEL[1]:
                continue
            for container in dicts((pod_spec_of(key, obj) or {}).get("containers")):
                server = _server_of(container)
                if server:
                    found.append(DnsWorkload(key, obj, server, container))
                    break
    return found


def _none_found(inv: Inventory) -> Finding:
    return not_applicable(Subject.cluster(), "no cluster DNS workload was found (see DNS-001)")


def _coredns(inv: Inventory) -> list[DnsWorkload]:
    return [w for w in dns_workloads(inv) if w.server == "coredns"]


# -- DNS-001 ------------------------------------------------------------------------------------


@check(
    id="DNS-001",
    area="dns",
    severity="high",
    title="Cluster DNS runs, and it is CoreDNS rather than the deprecated kube-dns",
    rationale="""Every Service lookup in the cluster goes through one DNS deployment; when it is
    missing or broken, everything that resolves names fails at once. kube-dns (dnsmasq plus
    sidecars) is deprecated and was replaced by CoreDNS as the Kubernetes default in 1.13;
    Zalando's 5-second DNS latencies were one of the reasons they moved off kube-dns.""",
    remediation="""Run CoreDNS as the cluster DNS (kubeadm, kops and most distributions install it). To
migrate from kube-dns, deploy CoreDNS with the same Service (`kube-dns`, same clusterIP) and translate
`stubDomains`/`upstreamNameservers` into the Corefile; on GKE consider Cloud DNS for GKE.""",
    references=(
        COREDNS_DOCS,
        "https://kubernetes.io/blog/2018/12/03/kubernetes-1-13-release-announcement/",
        ZALANDO_TALK,
    ),
    inputs=("deployments", "daemonsets"),
)
def cluster_dns_is_coredns(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        if inv.provider.name == "gke":
            yield not_applicable(
                Subject.cluster(),
                "no in-cluster DNS workload: on GKE this means Cloud DNS serves the cluster",
            )
        else:
            yield failed(
                Subject.cluster(),
                "no CoreDNS or kube-dns workload was found: nothing serves cluster DNS",
            )
        return
    for workload in workloads:
        subject = inv.subject(workload.key, workload.obj)
        evidence = {**workload.evidence(inv), "version": workload.version_text}
        if workload.server == "coredns":
            yield passed(subject, f"cluster DNS is CoreDNS {workload.version_text}", **evidence)
        elif inv.provider.name == "gke":
            yield warned(subject, "GKE's kube-dns serves cluster DNS: consider Cloud DNS for GKE", **evidence)
        else:
            yield failed(subject, "cluster DNS is kube-dns, deprecated in favour of CoreDNS", **evidence)


# -- DNS-002 ------------------------------------------------------------------------------------


def _cpu_cores(quantity: object) -> float | None:
    text = str(quantity or "").strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None


def schedulable_nodes(inv: Inventory) -> list[Obj]:
    return [n for n in inv.items("nodes") if not (n.get("spec") or {}).get("unschedulable")]


def cluster_cores(nodes: list[Obj]) -> float | None:
    """Total CPU capacity, or None when any node does not report it."""
    total = 0.0
    for node in nodes:
        cores = _cpu_cores(((node.get("status") or {}).get("capacity") or {}).get("cpu"))
        if cores is None:
            return None
        total += cores
    return total


def expected_dns_replicas(nodes: int, cores: float | None, ctx: Context) -> int:
    """At least 2, and one per `dns_nodes_per_replica` nodes or `dns_cores_per_replica` cores —
    the default linear parameters of the kube-dns/CoreDNS autoscaler (16 nodes, 256 cores)."""
    by_nodes = math.ceil(nodes / ctx.config.dns_nodes_per_replica)
    by_cores = math.ceil(cores / ctx.config.dns_cores_per_replica) if cores else 0
    return max(2, by_nodes, by_cores)


@check(
    id="DNS-002",
    area="dns",
    severity="high",
    title="Cluster DNS runs at least two replicas, more as the cluster grows",
    rationale="""A single DNS pod makes every lookup in the cluster depend on one pod and one node;
    too few pods for the cluster's size makes them a latency bottleneck, and DNS latency surfaces
    as timeouts everywhere (Zalando's 5 s lookups, Galo Navarro's 10x latency hunt). The expected
    count here follows the default linear ladder of the DNS autoscaler: at least 2, and one per 16
    nodes or 256 cores, whichever is more.""",
    remediation="""Raise the replica count (or let the DNS autoscaler manage it, see DNS-007):

```sh
kubectl -n kube-system scale deployment coredns --replicas=3
```""",
    references=(AUTOSCALE_DOCS, DNS_DEBUG_DOCS, ZALANDO_TALK),
    inputs=("deployments", "daemonsets", "nodes"),
)
def dns_replicas(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        yield _none_found(inv)
        return
    nodes = schedulable_nodes(inv)
    cores = cluster_cores(nodes)
    expected = expected_dns_replicas(len(nodes), cores, ctx)
    for workload in workloads:
        subject = inv.subject(workload.key, workload.obj)
        desired = desired_replicas(workload.key, workload.obj)
        ready = ready_replicas(workload.key, workload.obj)
        evidence = {
            **workload.evidence(inv),
            "desired": desired,
            "ready": ready,
            "nodes": len(nodes),
            "cores": cores,
            "expected": expected,
        }
        unit = "pod(s), one per node" if workload.key == "daemonsets" else "replica(s)"
        if desired < 2:
            yield failed(
                subject, f"runs only {desired} {unit}: one pod failure stops name resolution", **evidence
            )
        elif ready < 2:
            yield warned(subject, f"wants {desired} {unit} but only {ready} are ready", **evidence)
        elif workload.key != "daemonsets" and desired < expected:
            yield warned(
                subject,
                f"runs {desired} replicas for {len(nodes)} nodes; the linear ladder expects {expected}",
                **evidence,
            )
        else:
            yield passed(subject, f"runs {desired} {unit} for {len(nodes)} nodes", **evidence)


# -- DNS-003 / DNS-004 --------------------------------------------------------------------------


@check(
    id="DNS-003",
    area="dns",
    severity="high",
    title="DNS replicas are spread over nodes",
    rationale="""Two DNS replicas on one node are one replica with extra steps: the node's failure,
    drain or network trouble takes all name resolution down. The scheduler stacks pods unless told
    otherwise (Moonlight's outage), and Zalando's AWS incident shows that a whole instance family
    (t2) can lose network at once. The check reads where the pods really run, not just the
    template.""",
    remediation="""Spread DNS pods over nodes and zones in the pod template:

```yaml
spec:
  template:
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {k8s-app: kube-dns}}
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {k8s-app: kube-dns}}
```

then restart the deployment so the pods are rescheduled.""",
    references=(SPREAD_DOCS, ZALANDO_TALK),
    inputs=("deployments", "daemonsets"),
)
def dns_spread(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        yield _none_found(inv)
        return
    for workload in workloads:
        finding = spread_finding(inv, workload.key, workload.obj, workload.evidence(inv))
        yield _with_burstable_note(inv, finding)


def _with_burstable_note(inv: Inventory, finding: Finding) -> Finding:
    """Name the instance type when all replicas share a burstable (t2/t3) node."""
    placement = finding.evidence.get("pods_per_node") or {}
    if finding.status is not Status.FAIL or len(placement) != 1:
        return finding
    node = inv.get("nodes", "", next(iter(placement)))
    instance = labels_of(node or {}).get("node.kubernetes.io/instance-type", "")
    if instance.startswith(("t2.", "t3.", "t3a.", "t4g.")):
        finding.message += f"; it is a burstable {instance} instance"
        finding.evidence["instance_type"] = instance
    return finding


@check(
    id="DNS-004",
    area="dns",
    severity="medium",
    title="A PodDisruptionBudget protects cluster DNS",
    rationale="""Without a budget, a node drain during an upgrade or a cluster-autoscaler
    scale-down may evict every DNS pod at once; each eviction also leaves conntrack entries that
    keep sending lookups to a pod that is gone — the failure behind Preply's DNS outage. A budget
    that allows no eviction blocks drains instead.""",
    remediation="""```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: coredns, namespace: kube-system}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
```""",
    references=(PDB_DOCS, PREPLY),
    inputs=("deployments", "daemonsets", "poddisruptionbudgets"),
)
def dns_pdb(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        yield _none_found(inv)
        return
    for workload in workloads:
        yield pdb_finding(inv, workload.key, workload.obj, workload.evidence(inv))


# -- DNS-005 ------------------------------------------------------------------------------------


def priority_class_of(spec: Obj) -> str | None:
    """A pod spec's priorityClassName, or None when it has none or one that is not a string."""
    priority = spec.get("priorityClassName")
    return priority if isinstance(priority, str) else None


@check(
    id="DNS-005",
    area="dns",
    severity="medium",
    title="Cluster DNS runs with a system-critical priority class",
    rationale="""When nodes run short of resources, pods without priority are preempted or
    evicted first and may not be rescheduled ahead of application pods. A DNS pod evicted under
    pressure turns resource trouble on one node into resolution failures across the cluster;
    `system-cluster-critical` keeps it scheduled ahead of workloads.""",
    remediation="""```yaml
spec:
  template:
    spec:
      priorityClassName: system-cluster-critical
```""",
    references=(PRIORITY_DOCS,),
    inputs=("deployments", "daemonsets"),
)
def dns_priority(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        yield _none_found(inv)
        return
    for workload in workloads:
        subject = inv.subject(workload.key, workload.obj)
        priority = priority_class_of(workload.spec)
        evidence = {**workload.evidence(inv), "priorityClassName": priority}
        if priority in SYSTEM_PRIORITY_CLASSES:
            yield passed(subject, f"runs with priority class {priority}", **evidence)
        elif priority:
            yield warned(
                subject,
                f"runs with custom priority class {priority}, not system-cluster-critical",
                **evidence,
            )
        else:
            yield failed(
                subject, "has no priority class: it is evicted and preempted like any workload", **evidence
            )


# -- DNS-006 ------------------------------------------------------------------------------------


def _resources(container: Obj) -> tuple[Obj, Obj]:
    resources = as_object(container.get("resources"))
    return as_object(resources.get("requests")), as_object(resources.get("limits"))


@check(
    id="DNS-006",
    area="dns",
    severity="medium",
    title="DNS containers request CPU and memory, cap memory, and do not cap CPU",
    rationale="""Without requests the scheduler packs DNS pods onto busy nodes and they are the
    first evicted; without a memory limit a cache growing under a query flood can take the node's
    memory with it. A CPU limit, on the other hand, throttles DNS through the CFS quota at exactly
    the moments of peak lookups — the CFS throttling Buffer, Omio and Zalando traced their
    latency to; Buffer removed CPU limits from latency-critical services and Zalando disabled
    CFS quotas altogether.""",
    remediation="""```yaml
resources:
  requests: {cpu: 100m, memory: 70Mi}
  limits: {memory: 170Mi}   # no cpu limit
```""",
    references=(
        BUFFER,
        ZALANDO_TALK,
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    ),
    inputs=("deployments", "daemonsets"),
)
def dns_resources(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        yield _none_found(inv)
        return
    for workload in workloads:
        yield _resources_finding(inv, workload)


def _resources_finding(inv: Inventory, workload: DnsWorkload) -> Finding:
    subject = inv.subject(workload.key, workload.obj)
    missing: list[str] = []
    cpu_limits: list[str] = []
    for container in dicts(workload.spec.get("containers")):
        name = str(container.get("name", "?"))
        requests, limits = _resources(container)
        missing += [
            f"{name}: no {what}"
            for what, ok in (
                ("memory limit", "memory" in limits),
                ("memory request", "memory" in requests or "memory" in limits),
                ("cpu request", "cpu" in requests or "cpu" in limits),
            )
            if not ok
        ]
        if "cpu" in limits:
            cpu_limits.append(f"{name}: cpu limit {limits['cpu']}")
    evidence = {**workload.evidence(inv), "missing": missing, "cpu_limits": cpu_limits}
    if missing:
        return failed(subject, "; ".join(missing + cpu_limits), **evidence)
    if cpu_limits:
        return warned(
            subject, f"{'; '.join(cpu_limits)}: CFS throttling adds latency to every lookup", **evidence
        )
    return passed(subject, "requests CPU and memory, caps memory, leaves CPU uncapped", **evidence)


# -- DNS-007 ------------------------------------------------------------------------------------


@dataclass(slots=True)
class AutoscalerConfig:
    subject: Subject
    source: str
    mode: str | None  # "linear" or "ladder"
    raw: str | None


def _autoscaler_deployments(inv: Inventory) -> list[Obj]:
    return [
        d
        for d in inv.in_namespace("deployments", "kube-system")
        if any(
            AUTOSCALER_IMAGE in str(c.get("image", ""))
            for c in dicts((pod_spec_of("deployments", d) or {}).get("containers"))
        )
    ]


def _autoscaler_words(deployment: Obj) -> list[str]:
    words: list[str] = []
    for c in dicts((pod_spec_of("deployments", deployment) or {}).get("containers")):
        if AUTOSCALER_IMAGE in str(c.get("image", "")):
            words += [w for w in [*as_list(c.get("command")), *as_list(c.get("args"))] if isinstance(w, str)]
    return words


def autoscaler_configs(inv: Inventory) -> list[AutoscalerConfig]:
    """DNS autoscaler parameters: from its ConfigMap, else the autoscaler's --default-params."""
    configs: list[AutoscalerConfig] = []
    seen: set[str] = set()
    for cm in inv.in_namespace("configmaps", "kube-system"):
        if fnmatch.fnmatchcase(name_of(cm), AUTOSCALER_CONFIGMAP):
            data = cm.get("data") or {}
            mode = next((m for m in ("linear", "ladder") if m in data), None)
            configs.append(
                AutoscalerConfig(
                    inv.subject("configmaps", cm),
                    f"ConfigMap kube-system/{name_of(cm)}",
                    mode,
                    data.get(mode) if mode else None,
                )
            )
            seen.add(name_of(cm))
    for deployment in _autoscaler_deployments(inv):
        words = _autoscaler_words(deployment)
        if (flag_value(words, "--configmap") or "") in seen:
            continue
        params = flag_value(words, "--default-params")
        mode, raw = _mode_of(params)
        configs.append(
            AutoscalerConfig(
                inv.subject("deployments", deployment),
                f"--default-params of {name_of(deployment)}",
                mode,
                raw,
            )
        )
    return configs


def _mode_of(params: str | None) -> tuple[str | None, str | None]:
    try:
        parsed = json.loads(params) if params else None
    except ValueError:
        return None, params
    if isinstance(parsed, dict):
        for mode in ("linear", "ladder"):
            if mode in parsed:
                return mode, json.dumps(parsed[mode])
    return None, params


# The floor is judged on clusters of at least two nodes (one node cannot spread replicas anyway);
# such a cluster has at least two cores too, as the autoscaler rounds each node's CPU up.
MULTI_NODE = 2
LADDERS = ("coresToReplicas", "nodesToReplicas")
PER_REPLICA = ("coresPerReplica", "nodesPerReplica")


def autoscaler_floor(mode: str, params: dict[str, Any]) -> int:
    """The fewest replicas the cluster-proportional-autoscaler can choose with these params on a
    multi-node cluster, following its linear and ladder controllers. Raises ValueError for
    parameters the autoscaler rejects."""
    if mode == "linear":
        lowest, _ = _linear_bounds(params)
        return max(lowest, 2) if params.get("preventSinglePointFailure") is True else lowest
    return max(_ladder_lows(params).values())


def autoscaler_replicas(mode: str, params: dict[str, Any], nodes: int, cores: float | None) -> int | None:
    """Replicas the autoscaler would choose for this cluster, None when that needs the cluster's
    cores and they are unknown."""
    if mode == "ladder":
        return _ladder_replicas(params, nodes, cores)
    lowest, highest = _linear_bounds(params)
    by_nodes = math.ceil(nodes / float(params["nodesPerReplica"])) if params.get("nodesPerReplica") else 0
    by_cores = (
        math.ceil(cores / float(params["coresPerReplica"])) if params.get("coresPerReplica") and cores else 0
    )
    wanted = max(by_nodes, by_cores)
    replicas = max(min(wanted, highest) if highest else wanted, lowest)
    # The controller lifts its result to 2 after applying `max`: a `max` of 1 does not undo it.
    if params.get("preventSinglePointFailure") is True and nodes > 1:
        replicas = max(replicas, 2)
    return replicas


def _linear_bounds(params: dict[str, Any]) -> tuple[int, int]:
    """(min, max) of linear parameters as the controller reads them: `min` defaults to 1, a `max`
    of 0 means none, and parameters it rejects raise ValueError."""
    lowest, highest = int(params.get("min") or 0), int(params.get("max") or 0)
    if min(lowest, highest, *(float(params.get(key) or 0) for key in PER_REPLICA)) < 0:
        raise ValueError("min, max, coresPerReplica and nodesPerReplica cannot be negative")
    lowest = lowest or 1
    if highest and highest < lowest:
        raise ValueError(f"max {highest} is below min {lowest}")
    if not any(params.get(key) for key in PER_REPLICA):
        raise ValueError("neither coresPerReplica nor nodesPerReplica is set")
    return lowest, highest


def _ladder_lows(params: dict[str, Any]) -> dict[str, int]:
    """The fewest replicas each ladder gives on a multi-node cluster. The controller takes the
    larger of the two lookups, so the autoscaler never goes below the larger of these. (Cores and
    nodes grow together, so the true floor may be higher: this never overstates it.)"""
    return {key: _lowest_step(_ladder(params, key)) for key in LADDERS}


def _ladder(params: dict[str, Any], key: str) -> list[tuple[int, int]]:
    """A ladder's (threshold, replicas) steps, sorted by threshold as the controller sorts them."""
    steps = params.get(key) or []
    if not isinstance(steps, list):
        raise ValueError(f"{key} is not a list of steps")
    for step in steps:
        if not (
            isinstance(step, list)
            and len(step) == 2
            and all(type(value) is int and value >= 0 for value in step)
        ):
            raise ValueError(f"{key} step {step!r} is not a pair of whole numbers")
    return sorted((threshold, replicas) for threshold, replicas in steps)


def _ladder_lookup(steps: list[tuple[int, int]], count: int) -> int:
    """The controller's lookup: the last step whose threshold `count` reaches; below the first
    threshold the first step still applies, and an omitted ladder asks for 1 replica."""
    if not steps:
        return 1
    replicas = steps[0][1]
    for threshold, step_replicas in steps:
        if threshold > count:
            break
        replicas = step_replicas
    return replicas


def _lowest_step(steps: list[tuple[int, int]]) -> int:
    """Fewest replicas a ladder gives for any count of at least MULTI_NODE: the step in effect
    there and every step above it."""
    above = [replicas for threshold, replicas in steps if threshold > MULTI_NODE]
    return min([_ladder_lookup(steps, MULTI_NODE), *above])


def _ladder_replicas(params: dict[str, Any], nodes: int, cores: float | None) -> int | None:
    by_cores = _ladder(params, "coresToReplicas")
    if by_cores and cores is None:
        return None
    return max(
        _ladder_lookup(by_cores, math.ceil(cores or 0)),
        _ladder_lookup(_ladder(params, "nodesToReplicas"), nodes),
    )


@check(
    id="DNS-007",
    area="dns",
    severity="medium",
    title="The DNS autoscaler cannot shrink DNS to a single replica",
    rationale="""The cluster-proportional autoscaler resizes DNS as nodes come and go. At Preply
    it shrank CoreDNS from 3 to 2 replicas when the cluster got smaller, and stale conntrack entries
    kept sending lookups to the deleted pod: a 26-minute partial DNS outage. In linear mode with
    `preventSinglePointFailure` off and no `min`, a quiet night on a small cluster scales DNS to
    one replica; in ladder mode (which ignores both settings) the same happens when the cores and
    the nodes ladders both step down to one replica, as the autoscaler takes the larger of the two.
    Without any autoscaler, a fixed replica count falls behind as a big cluster grows. DNS run as a
    DaemonSet (OpenShift's dns-default) needs none: it has one pod per node by design.""",
    remediation="""Keep a floor of two (three for production) replicas in the autoscaler's ConfigMap:

```yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns-autoscaler, namespace: kube-system}
data:
  linear: '{"coresPerReplica":256,"nodesPerReplica":16,"min":3,"preventSinglePointFailure":true}'
```

In ladder mode, which has no `min`, let one ladder ask for two or more replicas from 2 nodes (or
cores) up, as in `"nodesToReplicas":[[1,1],[2,2]]`. Give CoreDNS `health { lameduck 5s }` too, so
pods removed by a scale-down finish in-flight queries.""",
    references=(AUTOSCALE_DOCS, CPA_REPO, PREPLY),
    inputs=("configmaps", "deployments", "nodes"),
)
def dns_autoscaler(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    nodes = schedulable_nodes(inv)
    cores = cluster_cores(nodes)
    configs = autoscaler_configs(inv)
    if not configs:
        yield _without_autoscaler(inv, len(nodes), ctx)
        return
    for config in configs:
        yield _autoscaler_finding(config, len(nodes), cores)


def _without_autoscaler(inv: Inventory, nodes: int, ctx: Context) -> Finding:
    workloads = dns_workloads(inv)
    replicas = [desired_replicas(w.key, w.obj) for w in workloads if w.key == "deployments"]
    daemonsets = [
        f"DaemonSet {namespace_of(w.obj)}/{name_of(w.obj)}" for w in workloads if w.key == "daemonsets"
    ]
    evidence = {"nodes": nodes, "dns_replicas": replicas, "dns_daemonsets": daemonsets}
    if daemonsets and not replicas:
        # A DaemonSet's pod count is the node count: there is nothing for an autoscaler to do.
        return passed(
            Subject.cluster(),
            f"cluster DNS runs as {join_names(daemonsets)}, one pod per node: it scales with the nodes, "
            "no autoscaler needed",
            **evidence,
        )
    if nodes < ctx.config.dns_autoscaler_min_nodes:
        return passed(
            Subject.cluster(),
            f"no DNS autoscaler, fine at {nodes} nodes (replica count judged by DNS-002)",
            **evidence,
        )
    if not replicas and not inv.readable("daemonsets"):
        return unknown(
            Subject.cluster(),
            "no DNS autoscaler and no DNS Deployment; DNS may run as a DaemonSet, which needs none, "
            f"but {inv.unreadable_reason('daemonsets')}",
            **evidence,
        )
    return warned(
        Subject.cluster(),
        f"no DNS autoscaler on a {nodes}-node cluster: DNS replicas stay fixed as it grows",
        **evidence,
    )


def _autoscaler_finding(config: AutoscalerConfig, nodes: int, cores: float | None) -> Finding:
    evidence: dict[str, Any] = {"source": config.source, "mode": config.mode, "params": config.raw}
    # The subject already names a ConfigMap; parameters from a command line say where they are.
    origin = "" if config.subject.kind == "ConfigMap" else f" ({config.source})"
    if config.raw == REDACTED:
        return unknown(config.subject, "the autoscaler parameters were redacted", **evidence)
    if config.mode is None or config.raw is None:
        return failed(
            config.subject,
            f"neither linear nor ladder parameters{origin}: the autoscaler cannot scale DNS",
            **evidence,
        )
    try:
        params = json.loads(config.raw)
        if not isinstance(params, dict):
            raise ValueError("not a JSON object")
        floor = autoscaler_floor(config.mode, params)
        replicas = autoscaler_replicas(config.mode, params, nodes, cores)
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        return failed(
            config.subject,
            f"invalid {config.mode} parameters{origin}, the autoscaler rejects them: {exc}",
            **evidence,
        )
    evidence.update(floor=floor, replicas_for_this_cluster=replicas)
    if floor < 2:
        return failed(
            config.subject,
            f"the autoscaler may shrink DNS to {floor} replica{'' if floor == 1 else 's'}{origin} "
            f"({_floor_reason(config.mode, params)})",
            **evidence,
        )
    now = f"; {replicas} for this cluster" if replicas is not None else ""
    return passed(
        config.subject, f"the autoscaler keeps at least {floor} DNS replicas{origin}{now}", **evidence
    )


def _floor_reason(mode: str, params: dict[str, Any]) -> str:
    """The parameters that let the autoscaler go below two replicas."""
    if mode == "linear":
        spf = params.get("preventSinglePointFailure")
        return (
            f"min: {params.get('min', 'unset')}, "
            f"preventSinglePointFailure: {str(spf).lower() if spf is not None else 'unset'}"
        )
    lows = ", ".join(f"{key} down to {low}" for key, low in _ladder_lows(params).items())
    ignored = [key for key in ("min", "max", "preventSinglePointFailure") if key in params]
    return lows + (f"; ladder mode ignores {', '.join(ignored)}" if ignored else "")


# -- DNS-008 ------------------------------------------------------------------------------------

# Taints the DaemonSet controller tolerates on its own for every DaemonSet pod.
_DAEMONSET_AUTO_TOLERATED = frozenset(
    {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable",
        "node.kubernetes.io/network-unavailable",
    }
)


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    key = taint.get("key")
    if isinstance(key, str) and key in _DAEMONSET_AUTO_TOLERATED:
        return True
    for toleration in tolerations:
        if not isinstance(toleration, dict):
            continue
        if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration.get("key") == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get(
            "value", ""
        ):
            return True
    return False


def daemonset_can_run_on(spec: Obj, node: Obj) -> bool:
    """Whether a DaemonSet's node selector and tolerations admit a node (node affinity is not
    evaluated: it only narrows placement deliberately)."""
    labels = labels_of(node)
    if any(labels.get(k) != v for k, v in as_object(spec.get("nodeSelector")).items()):
        return False
    # Asked for every DaemonSet and node pair: the lists are read as they are, never copied.
    tolerations = as_list(spec.get("tolerations"))
    return all(
        tolerates(tolerations, taint)
        for taint in as_list((node.get("spec") or {}).get("taints"))
        if isinstance(taint, dict) and taint.get("effect") in ("NoSchedule", "NoExecute")
    )


def _nodelocal_daemonsets(inv: Inventory) -> list[Obj]:
    return [
        ds
        for ds in inv.items("daemonsets")
        if name_of(ds) in NODELOCAL_NAMES
        or any(
            NODELOCAL_IMAGE in str(c.get("image", ""))
            for c in dicts((pod_spec_of("daemonsets", ds) or {}).get("containers"))
        )
    ]


@check(
    id="DNS-008",
    area="dns",
    severity="medium",
    title="NodeLocal DNSCache runs on every node",
    rationale="""Without a node-local cache, every lookup crosses the network to a CoreDNS pod
    through kube-proxy's conntrack NAT, where parallel A/AAAA queries race and get dropped (the
    5-second timeouts behind Zalando's DNS redesign, which moved them to node-local caching) and
    stale entries outlive deleted DNS pods (Preply). NodeLocal DNSCache answers on the node and
    skips conntrack — but once kubelets point at it, a node it does not run on has no DNS at all,
    so it must cover every node (taints included).""",
    remediation="""Deploy NodeLocal DNSCache (the `node-local-dns` DaemonSet from the Kubernetes addons, or
your distribution's option, e.g. kops `spec.kubeDNS.nodeLocalDNS.enabled: true`) and let it tolerate
every taint:

```yaml
spec:
  template:
    spec:
      priorityClassName: system-node-critical
      tolerations:
      - operator: Exists
```""",
    references=(NODELOCAL_DOCS, ZALANDO_TALK, PREPLY),
    inputs=("daemonsets", "nodes"),
)
def nodelocal_dns(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    daemonsets = _nodelocal_daemonsets(inv)
    nodes = [n for n in inv.items("nodes") if labels_of(n).get("kubernetes.io/os", "linux") == "linux"]
    if not daemonsets:
        yield warned(
            Subject.cluster(),
            f"no NodeLocal DNSCache: every lookup from {len(nodes)} nodes crosses conntrack to CoreDNS",
            nodes=len(nodes),
        )
        return
    for ds in daemonsets:
        yield _nodelocal_finding(inv, ds, nodes)


def _nodelocal_finding(inv: Inventory, ds: Obj, nodes: list[Obj]) -> Finding:
    subject = inv.subject("daemonsets", ds)
    spec = pod_spec_of("daemonsets", ds) or {}
    excluded = sorted(name_of(n) for n in nodes if not daemonset_can_run_on(spec, n))
    status = ds.get("status") or {}
    desired, ready = int(status.get("desiredNumberScheduled") or 0), int(status.get("numberReady") or 0)
    evidence = {"nodes": len(nodes), "desired": desired, "ready": ready, "excluded_nodes": excluded}
    if excluded:
        return failed(
            subject,
            f"cannot run on {len(excluded)} of {len(nodes)} nodes (taints or node selector): "
            f"{', '.join(excluded[:5])}{' …' if len(excluded) > 5 else ''}",
            **evidence,
        )
    if desired < len(nodes):
        return failed(subject, f"scheduled on {desired} of {len(nodes)} nodes", **evidence)
    if ready < desired:
        return warned(subject, f"{ready} of {desired} pods are ready", **evidence)
    return passed(subject, f"runs on all {len(nodes)} nodes", **evidence)


# -- DNS-009 ------------------------------------------------------------------------------------


def _corefile_features(corefile: Corefile | None) -> set[str]:
    """Corefile features some known issues depend on."""
    if corefile is None:
        return set()
    features = set()
    for server in corefile.servers:
        if any(key.startswith("quic://") for key in server.keys):
            features.add("quic")
        for directive in server.plugins("forward"):
            if any(arg.startswith("tls://") for arg in directive.args[1:]):
                features.add("tls-forward")
    return features


@check(
    id="DNS-009",
    area="dns",
    severity="medium",
    title="CoreDNS is a recent release without known issues",
    rationale="""Clusters keep the CoreDNS their installer shipped long after the control plane
    moved on, and DNS fixes — cache poisoning (CVE-2019-19794), forwarding regressions, memory
    exhaustion — never arrive. Giant Swarm's post-mortems start with "old issues solved in newer
    versions". The release date is read from a table of CoreDNS releases; over a year old warns,
    over two fails.""",
    remediation="""Upgrade CoreDNS to a current release compatible with your Kubernetes version (kubeadm
upgrades it with the control plane; on kops/EKS/AKS bump the addon), checking the Corefile with
`corefile-tool` or the release notes for removed plugin options.""",
    references=(
        COREDNS_RELEASES_URL,
        "https://github.com/coredns/corefile-migration",
        "https://github.com/coredns/coredns/issues/3547",
    ),
    inputs=("deployments", "daemonsets"),
)
def coredns_version(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    workloads = dns_workloads(inv)
    if not workloads:
        yield _none_found(inv)
        return
    features = _corefile_features(_parsed_corefile(inv)) if inv.readable("configmaps") else None
    for workload in workloads:
        subject = inv.subject(workload.key, workload.obj)
        if workload.server != "coredns":
            yield not_applicable(subject, "kube-dns, not CoreDNS (see DNS-001)")
            continue
        yield _version_finding(subject, workload, ctx, features, inv)


def _version_finding(
    subject: Subject, workload: DnsWorkload, ctx: Context, features: set[str] | None, inv: Inventory
) -> Finding:
    evidence = workload.evidence(inv)
    version = workload.version
    if version is None:
        return unknown(
            subject, f"cannot read the CoreDNS version: {_unversioned_because(workload)}", **evidence
        )
    issues = [
        a
        for a in COREDNS_ISSUES
        if a.affects(version) and (not a.condition or features is None or a.condition in features)
    ]
    dated = coredns_release_date(version)
    today = ctx.now.date()
    age = (today - dated[0]).days if dated else None
    evidence.update(
        version=format_version(version),
        released=dated[0].isoformat() if dated else None,
        release_date_exact=dated[1] if dated else None,
        age_days=age,
        issues=[a.to_evidence() for a in issues],
    )
    described = _age_text(version, dated, today)
    if issues:
        return failed(subject, f"{described}; affected by {', '.join(a.id for a in issues)}", **evidence)
    if age is not None and age > ctx.config.coredns_fail_age_days:
        return failed(
            subject,
            f"{described}: over {ctx.config.coredns_fail_age_days // 365} years without DNS fixes",
            **evidence,
        )
    if age is not None and age > ctx.config.coredns_warn_age_days:
        return warned(subject, f"{described}: due for an upgrade", **evidence)
    return passed(subject, described, **evidence)


def _unversioned_because(workload: DnsWorkload) -> str:
    if workload.openshift_managed:
        return (
            f"OpenShift's DNS operator runs it from the release payload (image {workload.image!r}), "
            "so it follows the OpenShift release"
        )
    if _server_of_image(workload.image) is None:
        return f"it runs from image {workload.image!r}, whose tag is not CoreDNS's"
    return f"image {workload.image!r} has no version tag"


def _age_text(version: Version, dated: tuple[date, bool] | None, today: date) -> str:
    if dated is None:
        return f"CoreDNS v{format_version(version)} is newer than k8saudit's release table"
    released, exact = dated
    days = max((today - released).days, 0)
    ago = f"{days / 365.25:.1f} years" if days >= 730 else f"{days // 30} months"
    when = f"released {released.isoformat()}" if exact else f"released before {released.isoformat()}"
    return f"CoreDNS v{format_version(version)} ({when}, {ago} ago)"


# -- Corefile checks (DNS-010 … DNS-013) --------------------------------------------------------


@dataclass(slots=True)
class CorefileSource:
    subject: Subject
    text: str | None
    problem: str | None  # why the text is missing
    files: ImportableFiles | None = None  # what the Corefile's imports can read

    def parse(self) -> Corefile:
        """The Corefile with the files it imports (`text` must not be None)."""
        return parse_corefile(str(self.text), self.files)


def corefile_sources(inv: Inventory) -> list[CorefileSource]:
    """The Corefile of each CoreDNS deployment: the ConfigMap it mounts, else kube-system/coredns."""
    sources: list[CorefileSource] = []
    seen: set[tuple[str, str]] = set()
    for workload in _coredns(inv):
        namespace = namespace_of(workload.obj)
        names = [
            str(as_object(v.get("configMap")).get("name"))
            for v in dicts(workload.spec.get("volumes"))
            if as_object(v.get("configMap")).get("name")
        ] or ["coredns"]
        for name in names:
            cm = inv.get("configmaps", namespace, name)
            if cm is not None and "Corefile" not in (cm.get("data") or {}):
                continue
            if (namespace, name) in seen:
                break
            seen.add((namespace, name))
            subject = Subject("ConfigMap", namespace, name)
            if cm is None:
                sources.append(CorefileSource(subject, None, f"ConfigMap {namespace}/{name} was not found"))
            else:
                text = (cm.get("data") or {}).get("Corefile")
                redacted = text == REDACTED
                sources.append(
                    CorefileSource(
                        subject,
                        None if redacted else text,
                        "its values were redacted" if redacted else None,
                        importable_files(inv, workload),
                    )
                )
            break
    return sources


# Where CoreDNS manifests (kubeadm, k3s, AKS, EKS) mount the Corefile, and CoreDNS finds it.
DEFAULT_COREFILE = "/etc/coredns/Corefile"


def importable_files(inv: Inventory, workload: DnsWorkload) -> ImportableFiles:
    """The ConfigMap keys the CoreDNS container sees as files: what its Corefile can import
    (AKS's and k3s's `coredns-custom`, mounted at /etc/coredns/custom)."""
    namespace = namespace_of(workload.obj)
    volumes = {
        str(v.get("name")): as_object(v.get("configMap"))
        for v in dicts(workload.spec.get("volumes"))
        if as_object(v.get("configMap")).get("name")
    }
    directories: set[str] = set()
    files: dict[str, str | None] = {}
    for mount in dicts(workload.container.get("volumeMounts")):
        volume = volumes.get(str(mount.get("name")))
        mount_path = mount.get("mountPath")
        if volume is None or not isinstance(mount_path, str) or mount.get("subPath"):
            continue  # a subPath mount is one file, not a directory whose content is known
        directory = posixpath.normpath(mount_path)
        directories.add(directory)
        configmap = inv.get("configmaps", namespace, str(volume.get("name")))
        for path, text in _projected_files(volume, configmap):
            files[posixpath.normpath(posixpath.join(directory, path))] = text
    corefile = flag_value(command_tokens(workload.container), "-conf") or DEFAULT_COREFILE
    return ImportableFiles(posixpath.dirname(posixpath.normpath(corefile)), frozenset(directories), files)


def _projected_files(volume: Obj, configmap: Obj | None) -> list[tuple[str, str | None]]:
    """(path in the volume, text) of the ConfigMap's keys: every key, or the volume's `items`.
    A missing (optional) ConfigMap is an empty directory; a redacted value is an unknown text."""
    data = as_object((configmap or {}).get("data"))
    pairs = [(str(key), value) for key, value in data.items()]
    if items := dicts(volume.get("items")):
        keys = [(i.get("key"), i.get("path")) for i in items]
        pairs = [(str(path or key), data[key]) for key, path in keys if isinstance(key, str) and key in data]
    return [(path, value if isinstance(value, str) and value != REDACTED else None) for path, value in pairs]


def _parsed_corefile(inv: Inventory) -> Corefile | None:
    for source in corefile_sources(inv):
        if source.text is not None:
            try:
                return source.parse()
            except CorefileError:
                return None
    return None


def _corefile_findings(inv: Inventory, judge: Any) -> Iterator[Finding]:
    """Run `judge(subject, corefile) -> Finding` over every CoreDNS Corefile, handling the
    cases where there is nothing to judge."""
    if not _coredns(inv):
        yield not_applicable(Subject.cluster(), "no CoreDNS in the cluster (see DNS-001)")
        return
    for source in corefile_sources(inv):
        if source.text is None:
            yield unknown(source.subject, f"cannot read the Corefile: {source.problem}")
            continue
        try:
            corefile = source.parse()
        except CorefileError as exc:
            yield failed(
                source.subject,
                f"the Corefile does not parse ({exc}): CoreDNS would not load it",
                error=str(exc),
            )
            continue
        if not corefile.servers:
            yield unknown(
                source.subject,
                f"every server block comes from imported files ({', '.join(corefile.imports)}), "
                "which could not be read",
                imports=corefile.imports,
            )
            continue
        finding = judge(source.subject, corefile)
        if corefile.imports:
            finding.evidence["imports"] = corefile.imports
        if corefile.imported:
            finding.evidence["imported_files"] = corefile.imported
        yield finding


def _unread_imports(corefile: Corefile) -> str:
    """A note for messages that speak for every server block: those of files the Corefile
    imports (k3s's `import /etc/coredns/custom/*.server`) were not seen."""
    if not corefile.imports:
        return ""
    return f"; server blocks imported from {', '.join(corefile.imports)} were not read"


def _forward_targets(server: ServerBlock) -> list[str]:
    """Upstreams of `forward` (and the pre-1.5 `proxy`) plugins of a server block."""
    return [arg for d in [*server.plugins("forward"), *server.plugins("proxy")] for arg in d.args[1:]]


def _forwards(server: ServerBlock) -> bool:
    return bool(server.plugins("forward") or server.plugins("proxy"))


@check(
    id="DNS-010",
    area="dns",
    severity="high",
    title="CoreDNS detects forwarding loops when it forwards to the node's resolv.conf",
    rationale="""`forward . /etc/resolv.conf` sends lookups to the node's resolver. On nodes where
    that is a local stub such as systemd-resolved (127.0.0.53), the stub sends them straight back
    to CoreDNS: queries loop until CoreDNS exhausts memory and crash-loops, and the whole cluster
    loses DNS. The `loop` plugin detects this at start-up and stops CoreDNS with a clear error
    instead of a silent meltdown.""",
    remediation="""Keep `loop` in every server block that forwards to `/etc/resolv.conf`, and point the
kubelet at the real upstream list on systemd-resolved nodes (`resolvConf: /run/systemd/resolve/resolv.conf`
in the KubeletConfiguration):

```
.:53 {
    forward . /etc/resolv.conf
    loop
    ...
}
```""",
    references=(LOOP_DOCS, DNS_DEBUG_DOCS + "#known-issues"),
    inputs=("configmaps", "deployments", "daemonsets"),
)
def corefile_loop(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _corefile_findings(inv, _loop_finding)


def _loop_finding(subject: Subject, corefile: Corefile) -> Finding:
    risky = [s for s in corefile.servers if RESOLV_CONF in _forward_targets(s)]
    unguarded = [s.label for s in risky if not s.has("loop")]
    evidence = {"forwarding_to_resolv_conf": [s.label for s in risky], "without_loop": unguarded}
    if unguarded:
        return failed(
            subject,
            f"server block {', '.join(unguarded)} forwards to {RESOLV_CONF} without the loop plugin",
            **evidence,
        )
    unread = _unread_imports(corefile)
    if risky:
        return passed(subject, f"forwards to {RESOLV_CONF} with the loop plugin on guard{unread}", **evidence)
    return passed(subject, f"forwards to explicit upstreams, not {RESOLV_CONF}{unread}", **evidence)


@check(
    id="DNS-011",
    area="dns",
    severity="medium",
    title="CoreDNS caches the answers it forwards",
    rationale="""Without the `cache` plugin every external lookup goes upstream again: with the
    default `ndots:5` each name costs several queries, and an uncached cluster multiplies its load
    on the upstream resolver (which rate-limits — the AWS VPC resolver allows 1024 packets per
    second per interface) and its own latency. DNS latency was the common thread of the Zalando,
    Preply and Galo Navarro incidents.""",
    remediation="""Add `cache` to every server block that forwards:

```
.:53 {
    forward . /etc/resolv.conf
    cache 30
    ...
}
```""",
    references=(
        CACHE_DOCS,
        "https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html#vpc-dns-limits",
    ),
    inputs=("configmaps", "deployments", "daemonsets"),
)
def corefile_cache(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _corefile_findings(inv, _cache_finding)


def _cache_finding(subject: Subject, corefile: Corefile) -> Finding:
    forwarding = [s for s in corefile.servers if _forwards(s)]
    uncached = [s.label for s in forwarding if not s.has("cache")]
    evidence = {"forwarding_blocks": [s.label for s in forwarding], "without_cache": uncached}
    if uncached:
        return failed(
            subject, f"server block {', '.join(uncached)} forwards without the cache plugin", **evidence
        )
    return passed(subject, f"every forwarding server block caches{_unread_imports(corefile)}", **evidence)


def _upstream_host(target: str) -> str:
    """`tls://1.1.1.1:853` -> `1.1.1.1`; `[2606:4700::1111]:53` -> `2606:4700::1111`."""
    host = target.split("://", 1)[1] if "://" in target else target
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@check(
    id="DNS-012",
    area="dns",
    severity="low",
    title="CoreDNS forwards to the platform's resolvers, not to public ones",
    rationale="""Forwarding cluster lookups to public resolvers (8.8.8.8, 1.1.1.1, …) bypasses the
    VPC or corporate resolver: private hosted zones and split-horizon names stop resolving,
    internal names leak to a third party, lookups leave the network (and its egress controls),
    and the cluster shares the public resolver's rate limits. It is often a leftover from
    debugging an upstream problem.""",
    remediation="""Forward to the node's resolvers (the VPC resolver on AWS) or your own DNS servers:

```
forward . /etc/resolv.conf
```""",
    references=(FORWARD_DOCS, "https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html"),
    inputs=("configmaps", "deployments", "daemonsets"),
)
def corefile_public_upstreams(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _corefile_findings(inv, _public_finding)


def _public_finding(subject: Subject, corefile: Corefile) -> Finding:
    public = sorted(
        {
            f"{s.label} -> {t}"
            for s in corefile.servers
            for t in _forward_targets(s)
            if _upstream_host(t) in PUBLIC_RESOLVERS
        }
    )
    evidence = {"public_upstreams": public}
    if public:
        return warned(subject, f"forwards to public resolvers: {', '.join(public)}", **evidence)
    return passed(subject, f"forwards to no public resolver{_unread_imports(corefile)}", **evidence)


@check(
    id="DNS-013",
    area="dns",
    severity="medium",
    title="CoreDNS reports health and readiness, and drains before it stops",
    rationale="""The `health` and `ready` plugins are what the kubelet's probes and the Service
    endpoints rely on: without `ready` a starting pod gets traffic before its caches and
    Kubernetes watch are synced; without `health` a wedged pod is never restarted. Without
    `lameduck` in `health`, a pod removed by a rollout or an autoscaler scale-down stops answering
    while clients and conntrack still send it queries — the failure mode of Preply's outage.""",
    remediation="""```
.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    ...
}
```""",
    references=(HEALTH_DOCS, READY_DOCS, PREPLY),
    inputs=("configmaps", "deployments", "daemonsets"),
)
def corefile_health(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _corefile_findings(inv, _health_finding)


def _health_finding(subject: Subject, corefile: Corefile) -> Finding:
    missing = [p for p in ("health", "ready") if not corefile.plugin_anywhere(p)]
    health = next((d for s in corefile.servers for d in s.plugins("health")), None)
    lameduck = health is not None and (health.sub("lameduck") is not None)
    evidence = {"missing": missing, "lameduck": lameduck}
    if missing:
        return warned(
            subject,
            f"the Corefile has no {' and no '.join(missing)} plugin{_unread_imports(corefile)}",
            **evidence,
        )
    if not lameduck:
        return warned(
            subject, "health has no lameduck: pods stop answering before clients stop asking", **evidence
        )
    return passed(subject, "health (with lameduck) and ready are configured", **evidence)


# -- DNS-014 ------------------------------------------------------------------------------------


def _ndots(spec: Obj) -> int | None:
    for option in (spec.get("dnsConfig") or {}).get("options") or []:
        if isinstance(option, dict) and option.get("name") == "ndots":
            try:
                return int(str(option.get("value")))
            except ValueError:
                return None
    return None


@check(
    id="DNS-014",
    area="dns",
    severity="info",
    title="Workloads that resolve external names lower ndots from the default 5",
    rationale="""Pods using the cluster DNS get `ndots:5` and a search list of three or more
    domains: a name with fewer than five dots, such as `api.stripe.com`, is first tried as
    `api.stripe.com.<ns>.svc.cluster.local`, `…svc.cluster.local`, `…cluster.local` and the node's
    search domains, for A and AAAA each, before the real lookup — 6 to 10 queries instead of 2.
    For workloads that mostly call external hosts this multiplies DNS load, conntrack entries and
    latency; it is what turns a busy service into a DNS hammer. Informational: only you know which
    workloads call out.""",
    remediation="""For workloads that mostly resolve external names, lower ndots (or use fully qualified
names with a trailing dot):

```yaml
spec:
  template:
    spec:
      dnsConfig:
        options:
        - name: ndots
          value: "2"
```""",
    references=(
        DNS_POD_DOCS,
        "https://pracucci.com/kubernetes-dns-resolution-ndots-options-and-why-it-may-affect-application-performances.html",
    ),
    inputs=("deployments", "daemonsets", "statefulsets", "pods"),
)
def workload_ndots(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    any_template = False
    for key, obj, spec in inv.pod_templates():
        any_template = True
        yield _ndots_finding(inv, key, obj, spec)
    if not any_template:
        yield not_applicable(Subject.cluster(), "no workload in the cluster")


_INHERITED_NDOTS = f"inherits ndots:{DEFAULT_NDOTS}: each external name costs several search-path queries"
# Most workloads' evidence, word for word: one dict for them all.
_ALL_DEFAULTS = shared_evidence(dnsPolicy="ClusterFirst", hostNetwork=False, ndots=None)


def _ndots_finding(inv: Inventory, key: str, obj: Obj, spec: Obj) -> Finding:
    subject = inv.subject(key, obj)
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = bool(spec.get("hostNetwork"))
    ndots = _ndots(spec)
    evidence = {"dnsPolicy": policy, "hostNetwork": host_network, "ndots": ndots}
    if evidence == _ALL_DEFAULTS:
        evidence = _ALL_DEFAULTS
    if policy in ("Default", "None") or (policy == "ClusterFirst" and host_network):
        return passed(subject, f"does not use the cluster search path (dnsPolicy {policy})", **evidence)
    if ndots is None:
        return judged(Status.WARN, subject, _INHERITED_NDOTS, evidence)
    if ndots > 2:
        return warned(subject, f"sets ndots:{ndots}: external names still walk the search path", **evidence)
    return passed(subject, f"sets ndots:{ndots}", **evidence)

"""Resilience: the other lessons of the incidents in the seeds.

Zalando's CronJob that created pods until the API server was OOM-killed, and their image-policy
webhook that blocked every deployment; Buffer's and Zalando's CPU throttling from a kernel bug;
Moonlight's scheduler that stacked Redis replicas on one node that then panicked; Flant's Redis
failover that lost data for want of proper readiness probes; MindTickle's EKS migration that
broke egress until the VPC CNI's external SNAT was switched on; a Fluent Bit that silently
stopped shipping logs; Giant Swarm's "protect critical add-ons" and "use Prometheus with
Alertmanager". Each check says which one it guards against.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

from checks.cron import CronError, describe_interval, min_interval
from checks.dns import SYSTEM_PRIORITY_CLASSES, daemonset_can_run_on, dns_workloads, priority_class_of
from checks.etcd import join_names
from checks.ingress_controllers import detect_controllers
from checks.kernel import CFS_CVE, CFS_FIX_COMMIT, KernelVerdict, cfs_kernel_verdict
from checks.podspec import env_value, has_cpu_limit, has_env, image_matches, parse_image
from checks.workload_ha import (
    desired_replicas,
    pdb_allowed_disruptions,
    ready_replicas,
    spread_rules_by_strength,
    template_labels,
)
from k8saudit.inventory import Inventory, Placement, label_selector_matches
from k8saudit.model import (
    NO_ITEMS,
    Finding,
    Status,
    Subject,
    failed,
    judged,
    not_applicable,
    passed,
    unknown,
    warned,
)
from k8saudit.readers import as_count, as_list, as_object, dicts, labels_of, name_of, namespace_of
from k8saudit.redact import REDACTED
from k8saudit.registry import Context, check

Obj = dict[str, Any]

ZALANDO_TALK = (
    "https://www.slideshare.net/try_except_/"
    "running-kubernetes-in-production-a-million-ways-to-crash-your-cluster-devopscon-munich-2018"
)
GIANT_SWARM_TALK = (
    "https://www.slideshare.net/puja108/"
    "hardening-kubernetes-setups-war-stories-from-the-trenches-of-production-puja-abbassi-giant-swarm"
)
BUFFER_POST = "https://erickhun.com/posts/kubernetes-faster-services-no-cpu-limits/"
CFS_ISSUE = "https://github.com/kubernetes/kubernetes/issues/67577"
K8S_CRONJOBS = "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/"
K8S_JOB_DEADLINE = (
    "https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup"
)
K8S_OBJECT_QUOTA = "https://kubernetes.io/docs/concepts/policy/resource-quotas/#object-count-quota"
K8S_ANTI_AFFINITY = "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity"
K8S_SPREAD = "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/"
K8S_PROBES = (
    "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/"
)
K8S_PDB = "https://kubernetes.io/docs/tasks/run-application/configure-pdb/"
K8S_DISRUPTIONS = "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/"
K8S_WEBHOOK_PRACTICES = (
    "https://kubernetes.io/docs/concepts/cluster-administration/admission-webhooks-good-practices/"
)
K8S_WEBHOOK_KUBE_SYSTEM = (
    "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/"
    "#avoiding-operating-on-the-kube-system-namespace"
)
K8S_CRITICAL_PODS = (
    "https://kubernetes.io/docs/tasks/administer-cluster/guaranteed-scheduling-critical-addon-pods/"
)
K8S_PRIORITY = "https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/"
AWS_EXTERNAL_SNAT = "https://docs.aws.amazon.com/eks/latest/userguide/external-snat.html"
AWS_CNI_README = "https://github.com/aws/amazon-vpc-cni-k8s#aws_vpc_k8s_cni_externalsnat"
K8S_LOGGING = "https://kubernetes.io/docs/concepts/cluster-administration/logging/"
PROMETHEUS_ALERTING = "https://prometheus.io/docs/alerting/latest/overview/"

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


# -- shared helpers -------------------------------------------------------------------------------


def template_of(obj: Obj) -> tuple[dict[str, str], Obj]:
    """(pod template labels, pod template spec) of a Deployment/StatefulSet/DaemonSet."""
    return template_labels(obj), template_spec(obj)


def template_spec(obj: Obj) -> Obj:
    return as_object(as_object((obj.get("spec") or {}).get("template")).get("spec"))


def containers_of(spec: Obj) -> list[Obj]:
    return dicts(spec.get("containers"))


def images_of(spec: Obj) -> list[str]:
    return [str(c.get("image", "")) for c in containers_of(spec)]


def running_pods(inv: Inventory, key: str, workload: Obj) -> list[Placement]:
    """(pod, node, phase) of the workload's pods running or about to run on a node."""
    return [entry for entry in inv.live_placements_of(key, workload) if entry[2] in ("Running", "Pending")]


def _matches_any(text: str, markers: tuple[str, ...]) -> bool:
    return _marker_search(markers)(text) is not None


@functools.lru_cache(maxsize=64)
def _marker_search(markers: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One regex per marker set: asked for every workload, its scan runs in C instead of a
    generator testing one marker at a time."""
    return re.compile("|".join(re.escape(marker) for marker in markers)).search


DNS_MARKERS = ("coredns", "kube-dns", "node-local-dns", "nodelocaldns")
# Gateways whose data plane is the edge but that the ingress checks do not model as controllers,
# by image path, matched like theirs on whole path parts (`kong` is Kong, never `kong-demo`).
GATEWAY_IMAGE_PATHS = (
    "kong",
    "kong/kong-gateway",
    "emissaryingress/emissary",
    "datawire/emissary",
    "datawire/ambassador",
)
EXPORTER_ONLY = ("exporter", "prometheus-adapter", "prometheus-operator", "config-reloader")
MONITORING_MARKERS = ("prometheus", "alertmanager", "thanos", "kube-state-metrics", "vmagent", "vmalert")


class ComponentNames(NamedTuple):
    """What recognising a well-known component reads of a workload, lower-cased."""

    identifying: str  # its name and images
    # The same minus the parts naming exporters and operators (node-exporter is not Prometheus,
    # the prometheus-operator is not a Prometheus server).
    monitoring: str
    runs_gateway: bool  # one of its images is in GATEWAY_IMAGE_PATHS


def component_names(obj: Obj) -> ComponentNames:
    # Both from one read of the name and images, once per workload (`_component_names`): the
    # add-on roles read both and RES-012 the second; reading them per check cost 0.06 s more at
    # 100k pods.
    name = name_of(obj)
    images = images_of(template_spec(obj))
    lowered = name.lower()
    parts = [] if _matches_any(lowered, EXPORTER_ONLY) else [lowered]
    for image in images:
        part = _image_unless_exporter(image)
        if part is not None:
            parts.append(part)
    runs_gateway = any(_is_gateway_image(image) for image in images)
    return ComponentNames(" ".join([name, *images]).lower(), " ".join(parts), runs_gateway)


@functools.lru_cache(maxsize=1 << 14)
def _image_unless_exporter(image: str) -> str | None:
    # Per image: every workload is asked, and a cluster runs a few hundred images.
    lowered = image.lower()
    return None if _matches_any(lowered, EXPORTER_ONLY) else lowered


@functools.lru_cache(maxsize=1 << 14)
def _is_gateway_image(image: str) -> bool:
    return image_matches(parse_image(image), GATEWAY_IMAGE_PATHS) is not None


def addon_role(inv: Inventory, key: str, obj: Obj) -> str | None:
    """Why a workload of `key` is a critical add-on ("DNS", "ingress controller", …), or None."""
    names = component_names(obj)
    return _role(obj, names, _is_ingress_controller(inv, key, obj, names))


def _is_ingress_controller(inv: Inventory, key: str, obj: Obj, names: ComponentNames) -> bool:
    """Recognised as the ingress checks recognise controllers (image paths, name labels), or a
    gateway they do not model; never by a substring, which `myorg/nginx-ingress-test-fixtures`
    or `traefik/whoami` would match."""
    return names.runs_gateway or workload_id(key, obj) in ingress_controller_ids(inv)


def _role(obj: Obj, names: ComponentNames, ingress_controller: bool) -> str | None:
    text = names.identifying
    if _matches_any(text, DNS_MARKERS) and "autoscaler" not in text:  # the DNS autoscaler is not DNS
        return "DNS"
    if ingress_controller:
        return "ingress controller"
    if namespace_of(obj) == "kube-system":
        return "kube-system add-on"
    if _matches_any(names.monitoring, MONITORING_MARKERS):
        return "monitoring"
    return None


ADDON_KEYS = ("deployments", "daemonsets", "statefulsets")


def critical_addons(
    inv: Inventory, keys: Iterable[str], skip: frozenset[tuple[str, str, str]] = frozenset()
) -> Iterator[tuple[str, Obj, str]]:
    """(key, workload, role) of the critical add-ons among the workloads of `keys` (ADDON_KEYS)."""
    roles = inv.derived(_addon_roles)
    for key in keys:
        for obj, role in roles[key]:
            if (key, namespace_of(obj), name_of(obj)) not in skip:
                yield key, obj, role


def _addon_roles(inv: Inventory) -> dict[str, list[tuple[Obj, str]]]:
    """Every workload judged once for the checks that ask which ones are critical add-ons."""
    named = inv.derived(_component_names)
    return {
        key: [
            (obj, role)
            for obj, names in named[key]
            if (role := _role(obj, names, _is_ingress_controller(inv, key, obj, names)))
        ]
        for key in ADDON_KEYS
    }


def _component_names(inv: Inventory) -> dict[str, list[tuple[Obj, ComponentNames]]]:
    """The names of every workload of ADDON_KEYS: read by the add-on roles and by RES-012."""
    return {key: [(obj, component_names(obj)) for obj in inv.items(key)] for key in ADDON_KEYS}


def workload_id(key: str, obj: Obj) -> tuple[str, str, str]:
    return key, namespace_of(obj), name_of(obj)


def dns_workload_ids(inv: Inventory) -> frozenset[tuple[str, str, str]]:
    """Cluster DNS workloads: the DNS area judges their spread, PDB, priority and readiness."""
    return frozenset(workload_id(w.key, w.obj) for w in dns_workloads(inv))


def edge_workload_ids(inv: Inventory) -> frozenset[tuple[str, str, str]]:
    """DNS and ingress controller workloads: their spread and PDBs are judged by DNS-003/004 and
    ING-008/009, so the resilience checks leave them out rather than count them twice."""
    return dns_workload_ids(inv) | ingress_controller_ids(inv)


def ingress_controller_ids(inv: Inventory) -> frozenset[tuple[str, str, str]]:
    """The ingress controller workloads the ingress checks detect (ING-*)."""
    return inv.derived(_ingress_controller_ids)


def _ingress_controller_ids(inv: Inventory) -> frozenset[tuple[str, str, str]]:
    return frozenset(workload_id(c.key, c.obj) for c in detect_controllers(inv))


# -- RES-001: CronJobs that cannot pile up ---------------------------------------------------------

FREQUENT = timedelta(hours=1)  # "often enough that overlapping runs pile up before anyone notices"


def _cronjob_finding(inv: Inventory, cronjob: Obj) -> Finding:
    subject = inv.subject("cronjobs", cronjob)
    spec = cronjob.get("spec") or {}
    schedule = str(spec.get("schedule", ""))
    if spec.get("suspend") is True:
        return passed(subject, "suspended: starts no runs", schedule=schedule)
    try:
        interval = min_interval(schedule)
    except CronError as exc:
        return unknown(subject, f"the schedule cannot be evaluated: {exc}", schedule=schedule)
    policy = str(spec.get("concurrencyPolicy") or "Allow")
    starting = spec.get("startingDeadlineSeconds")
    active = as_object(as_object(spec.get("jobTemplate")).get("spec")).get("activeDeadlineSeconds")
    every = describe_interval(interval)
    evidence = {
        "schedule": schedule,
        "runs_every": every,
        "concurrency_policy": policy,
        "starting_deadline_seconds": starting,
        "active_deadline_seconds": active,
    }
    if interval > FREQUENT:
        return passed(subject, f"runs every {every}: too seldom for runs to pile up", **evidence)
    if policy == "Allow" and active is None:
        return failed(
            subject,
            f"runs every {every} with concurrencyPolicy Allow and no activeDeadlineSeconds: slow or hung "
            "runs overlap without bound, each one adding pods",
            **evidence,
        )
    gaps = []
    if policy == "Allow" and active is not None and active > interval.total_seconds():
        gaps.append(f"runs may overlap: activeDeadlineSeconds {active}s exceeds the {every} interval")
    if active is None:
        gaps.append(f"no activeDeadlineSeconds: a hung run holds the schedule ({policy}) forever")
    if starting is None:
        gaps.append(
            "no startingDeadlineSeconds: after 100 missed start times (controller or API outage) the "
            "CronJob stops being scheduled"
        )
    if gaps:
        return warned(subject, f"runs every {every}; " + "; ".join(gaps), **evidence)
    return passed(subject, f"runs every {every}, concurrencyPolicy {policy}, both deadlines set", **evidence)


@check(
    id="RES-001",
    area="resilience",
    severity="high",
    title="Frequent CronJobs cannot pile up runs",
    rationale="""Zalando's API server was OOM-killed by a CronJob: its `concurrencyPolicy: Forbid`
    sat at the wrong level of the manifest, so the every-15-minutes job kept starting new runs
    while old ones still ran, each creating pods, until the control plane fell over and took
    ingress routing with it. A frequent CronJob needs a concurrency policy that forbids or
    replaces overlapping runs, a deadline that kills hung runs, and a starting deadline so an
    outage does not stop it for good.""",
    remediation="""Forbid (or replace) overlapping runs and bound each run:

```yaml
spec:
  schedule: "*/15 9-19 * * Mon-Fri"
  concurrencyPolicy: Forbid          # spec level, not inside the pod template
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      activeDeadlineSeconds: 600     # kill a run that hangs
      backoffLimit: 2
```""",
    references=(K8S_CRONJOBS, K8S_JOB_DEADLINE, ZALANDO_TALK),
    inputs=("cronjobs",),
)
def cronjobs_cannot_pile_up(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    cronjobs = inv.items("cronjobs")
    if not cronjobs:
        yield not_applicable(Subject.cluster(), "no CronJobs")
        return
    for cronjob in cronjobs:
        yield _cronjob_finding(inv, cronjob)


# -- RES-002: pod count quotas --------------------------------------------------------------------

POD_QUOTA_KEYS = ("pods", "count/pods")


def _pod_quota(quota: Obj) -> str | None:
    hard = as_object((quota.get("spec") or {}).get("hard"))
    for key in POD_QUOTA_KEYS:
        if key in hard:
            return f"{key}={hard[key]}"
    return None


@check(
    id="RES-002",
    area="resilience",
    severity="medium",
    title="Namespaces cap their pod count with a ResourceQuota",
    rationale="""A runaway controller, a CronJob gone wrong or a bad Helm loop can create pods
    faster than anyone can react; every pod is objects in etcd and watch traffic for the API
    server. Zalando's CronJob incident ended with an OOM-killed API server and their first
    lesson was a pod-count quota per namespace, which turns a runaway into a quota error in one
    namespace instead of a cluster-wide outage.""",
    remediation="""Give every workload namespace a pod-count ceiling well above its normal use:

```yaml
apiVersion: v1
kind: ResourceQuota
metadata: {name: pod-count, namespace: shop}
spec:
  hard:
    pods: "1500"
```""",
    references=(K8S_OBJECT_QUOTA, ZALANDO_TALK),
    inputs=("namespaces", "resourcequotas"),
)
def namespaces_cap_pods(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    for namespace in inv.items("namespaces"):
        name = name_of(namespace)
        subject = inv.subject("namespaces", namespace)
        if name in SYSTEM_NAMESPACES:
            yield not_applicable(
                subject, "system namespace: a quota here can block the cluster's own add-ons"
            )
            continue
        quotas = inv.in_namespace("resourcequotas", name)
        limiting = [q for q in quotas if _pod_quota(q)]
        unscoped = [q for q in limiting if not _is_scoped(q)]
        described = [f"{name_of(q)}: {_pod_quota(q)}" for q in limiting]
        if not limiting:
            yield failed(
                subject, "no ResourceQuota limits the number of pods", quotas=[name_of(q) for q in quotas]
            )
        elif not unscoped:
            yield warned(
                subject,
                f"the pod count is only limited within a scope ({join_names(described)}): "
                "other pods are unbounded",
                quotas=described,
            )
        else:
            yield passed(subject, f"pod count capped ({join_names(described)})", quotas=described)


def _is_scoped(quota: Obj) -> bool:
    spec = quota.get("spec") or {}
    return bool(spec.get("scopes") or spec.get("scopeSelector"))


# -- RES-003: CPU-limited workloads on kernels with the CFS bug ------------------------------------


def _node_verdicts(inv: Inventory) -> dict[str, KernelVerdict | None]:
    """Each node's CFS verdict; None for non-Linux nodes (no CFS scheduler to worry about)."""
    verdicts: dict[str, KernelVerdict | None] = {}
    for node in inv.items("nodes"):
        info = as_object((node.get("status") or {}).get("nodeInfo"))
        linux = str(info.get("operatingSystem") or "linux") == "linux"
        verdicts[name_of(node)] = cfs_kernel_verdict(str(info.get("kernelVersion", ""))) if linux else None
    return verdicts


def _live_nodes(inv: Inventory, key: str, workload: Obj) -> set[str]:
    return {node for _, node, _ in inv.live_placements_of(key, workload)}


def _nodes_by_kernel(
    nodes: set[str], verdicts: dict[str, KernelVerdict | None]
) -> tuple[list[str], list[str]]:
    """(nodes whose kernel has the CFS bug, nodes whose kernel may have it or that were not
    collected), each sorted; non-Linux nodes are in neither."""
    affected, unclear = [], []
    for node in sorted(nodes):
        if node not in verdicts:
            unclear.append(node)
        elif (verdict := verdicts[node]) is not None and verdict.affected is not False:
            (affected if verdict.affected else unclear).append(node)
    return affected, unclear


def _kernel_of(node: str, verdicts: dict[str, KernelVerdict | None]) -> str:
    verdict = verdicts.get(node)
    return f"{node}: {verdict.reason if verdict else 'node not collected'}"


@check(
    id="RES-003",
    area="resilience",
    severity="medium",
    title="CPU-limited workloads do not run on kernels with the CFS throttling bug",
    rationale="""Kernels without the 2019 CFS bandwidth fix (upstream 5.4, backported to 4.14.154,
    4.19.84 and 5.3.9) throttle containers with a CPU limit long before they use it. Buffer found
    most of their services throttled far below their limits and cut landing-page latency 22-fold
    by removing the limits; Zalando turned CFS quotas off for the same reason. VER-007 names the
    nodes to upgrade; this check names the workloads paying for it now.""",
    remediation="""Upgrade the nodes' kernel (VER-007). Until then, drop the CPU limit of
latency-sensitive workloads and keep the request, or keep them off the old nodes:

```yaml
resources:
  requests: {cpu: 500m, memory: 512Mi}
  limits: {memory: 512Mi}       # no cpu limit while the kernel throttles early
```""",
    references=(BUFFER_POST, CFS_ISSUE, CFS_FIX_COMMIT, CFS_CVE, ZALANDO_TALK),
    inputs=("nodes", "pods"),
)
def cpu_limited_workloads_on_cfs_bug_kernels(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    verdicts = _node_verdicts(inv)
    evaluated = 0
    for key, workload, spec in inv.pod_templates():
        if not has_cpu_limit(spec):
            continue
        nodes = _live_nodes(inv, key, workload)
        if not nodes:
            continue  # nothing runs now: nothing is throttled
        evaluated += 1
        subject = inv.subject(key, workload)
        affected, unclear = _nodes_by_kernel(nodes, verdicts)
        evidence = {
            "nodes": len(nodes),
            "affected_nodes": affected[:10] or NO_ITEMS,
            "unclear_nodes": unclear[:10] or NO_ITEMS,
        }
        if affected:
            yield judged(
                Status.FAIL,
                subject,
                f"has a CPU limit and runs on {len(affected)} node(s) whose kernel throttles it early: "
                + join_names(_kernel_of(n, verdicts) for n in affected),
                evidence,
            )
        elif unclear:
            yield warned(
                subject,
                f"has a CPU limit and runs on {len(unclear)} node(s) whose kernel may lack the fix: "
                + join_names(_kernel_of(n, verdicts) for n in unclear),
                **evidence,
            )
        else:
            yield passed(
                subject, f"has a CPU limit; its {len(nodes)} node(s) run kernels with the fix", **evidence
            )
    if not evaluated:
        yield not_applicable(Subject.cluster(), "no running pod has a CPU limit")


# -- RES-004: replicas spread across nodes --------------------------------------------------------


def _spread_finding(inv: Inventory, key: str, workload: Obj, replicas: int, pods_readable: bool) -> Finding:
    subject = inv.subject(key, workload)
    hard, soft = spread_rules_by_strength(key, workload)
    pods = running_pods(inv, key, workload) if pods_readable else []
    nodes = sorted({node for _, node, _ in pods})
    evidence: dict[str, Any] = {"replicas": replicas, "rules": (hard + soft) or NO_ITEMS, "nodes": nodes[:20]}
    stacked = len(nodes) == 1 and len(pods) >= 2
    if stacked:
        where = f"{'both' if len(pods) == 2 else f'all {len(pods)}'} running pods are on node {nodes[0]}"
    elif nodes:
        where = f"pods currently run on {len(nodes)} nodes"
    else:
        where = "no running pods" if pods_readable else "placement not visible"
    if not hard and not soft:
        return judged(
            Status.FAIL,
            subject,
            f"{replicas} replicas without pod anti-affinity or topology spread, so one node failure can "
            f"take them all ({where})",
            evidence,
        )
    if stacked:
        rules = join_names(hard) if hard else f"only soft spreading ({join_names(soft)})"
        return warned(subject, f"{where} despite {rules}", **evidence)
    return judged(
        Status.PASS, subject, f"{replicas} replicas spread by {join_names(hard + soft)}; {where}", evidence
    )


@check(
    id="RES-004",
    area="resilience",
    severity="high",
    title="Multi-replica workloads spread their replicas across nodes",
    rationale="""Replicas only protect against a node failure if they are on different nodes. The
    scheduler does not guarantee that on its own: at Moonlight it kept placing Redis and API pods
    on the same busy node until that node's kernel panicked and took every replica down at once,
    and only pod anti-affinity ended the outages. Several replicas on one node are one failure
    domain.""",
    remediation="""Spread replicas over nodes (and zones) with a topology spread constraint or pod
anti-affinity that selects the workload's own pods:

```yaml
spec:
  template:
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: redis}}
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {app: redis}}
```""",
    references=(K8S_SPREAD, K8S_ANTI_AFFINITY, "https://k8s.af/"),
    inputs=("deployments", "statefulsets"),
)
def replicas_spread(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    pods_readable = inv.readable("pods") and inv.readable("replicasets")
    elsewhere = edge_workload_ids(inv)
    evaluated = 0
    for key in ("deployments", "statefulsets"):
        for workload in inv.items(key):
            replicas = desired_replicas(key, workload)
            if replicas < 2 or workload_id(key, workload) in elsewhere:
                continue
            evaluated += 1
            yield _spread_finding(inv, key, workload, replicas, pods_readable)
    if not evaluated:
        yield not_applicable(
            Subject.cluster(),
            "no Deployment or StatefulSet besides DNS and ingress controllers (DNS-003, ING-009) runs "
            "more than one replica",
        )


# -- RES-005: readiness probes --------------------------------------------------------------------


class SelectorIndex:
    """Objects that select pods by label (Services, PDBs), found from a pod template's labels.

    Each object is filed under one of its `matchLabels` items, so finding the objects that select
    a template costs a lookup per template label instead of a scan of the namespace; objects
    selecting by expressions only (or everything) are checked for every template of their
    namespace.
    """

    def __init__(self, objects: Iterable[Obj], selector_of: Callable[[Obj], object]) -> None:
        # (object, its selector): the selector is worked out once, not once per template asking.
        self._by_item: dict[tuple[str, str, str], list[tuple[Obj, dict]]] = defaultdict(list)
        self._unindexed: dict[str, list[tuple[Obj, dict]]] = defaultdict(list)
        for obj in objects:
            selector = selector_of(obj)
            if not isinstance(selector, dict):
                continue  # a null selector selects nothing
            match_labels = selector.get("matchLabels")
            if match_labels and isinstance(match_labels, dict):
                key, value = min(match_labels.items())
                self._by_item[(namespace_of(obj), key, str(value))].append((obj, selector))
            else:
                self._unindexed[namespace_of(obj)].append((obj, selector))

    def selecting(self, namespace: str, labels: dict[str, str]) -> list[Obj]:
        # One loop, no candidate list: asked for every workload of the cluster.
        by_item = self._by_item
        found = []
        for k, v in labels.items():
            for obj, selector in by_item.get((namespace, k, v if type(v) is str else str(v)), ()):
                if label_selector_matches(selector, labels):
                    found.append(obj)
        for obj, selector in self._unindexed.get(namespace, ()):
            if label_selector_matches(selector, labels):
                found.append(obj)
        return found


def service_selector(service: Obj) -> object:
    """A Service's selector as a LabelSelector; selector-less Services select no pods."""
    selector = (service.get("spec") or {}).get("selector")
    return {"matchLabels": selector} if isinstance(selector, dict) and selector else None


def pdb_selector(pdb: Obj) -> object:
    return (pdb.get("spec") or {}).get("selector")


def _mounts_volume_claims(spec: Obj) -> bool:
    return any(isinstance(v, dict) and v.get("persistentVolumeClaim") for v in as_list(spec.get("volumes")))


def _missing_readiness(spec: Obj) -> list[str]:
    """Names of serving containers without a readiness probe (all containers when none has ports)."""
    containers = containers_of(spec)
    serving = [c for c in containers if c.get("ports")] or containers
    return [str(c.get("name", "?")) for c in serving if not c.get("readinessProbe")]


@check(
    id="RES-005",
    area="resilience",
    severity="high",
    title="Service backends and stateful workloads have readiness probes",
    rationale="""Without a readiness probe a pod is "ready" the moment its process starts: Services
    send it traffic before it can answer, rolling updates and node drains move on before the new
    replica has caught up, and a freshly restarted database member is treated as a healthy
    primary. Flant lost Redis data during a failover partly because the readiness probes could not
    tell a replica that had not finished syncing from one that had.""",
    remediation="""Give every serving container a readiness probe that checks the thing clients
need (for a database: synced and accepting writes, not just a listening port):

```yaml
containers:
- name: redis
  readinessProbe:
    exec:
      command: [sh, -c, "redis-cli info replication | grep -Eq 'role:master|master_link_status:up'"]
    periodSeconds: 5
    failureThreshold: 3
```""",
    references=(
        K8S_PROBES,
        "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-probes",
    ),
    inputs=("services", "deployments", "statefulsets", "daemonsets"),
)
def readiness_probes(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    index = SelectorIndex(inv.items("services"), service_selector)
    dns = dns_workload_ids(inv)  # CoreDNS readiness is DNS-013's
    evaluated = 0
    for key in ("deployments", "statefulsets", "daemonsets"):
        for workload in inv.items(key):
            if workload_id(key, workload) in dns:
                continue
            labels, spec = template_of(workload)
            services = index.selecting(namespace_of(workload), labels)
            stateful = key == "statefulsets" or _mounts_volume_claims(spec)
            if not services and not stateful:
                continue
            evaluated += 1
            subject = inv.subject(key, workload)
            names = [name_of(s) for s in services]
            why = f"backs Service {join_names(names)}" if services else "stateful (keeps data in volumes)"
            missing = _missing_readiness(spec)
            evidence = {"services": names, "stateful": stateful, "missing": missing or NO_ITEMS}
            if missing:
                which = (
                    f"containers {join_names(missing)} have"
                    if len(missing) > 1
                    else f"container {missing[0]} has"
                )
                yield judged(Status.FAIL, subject, f"{why} but {which} no readiness probe", evidence)
            else:
                yield judged(
                    Status.PASS, subject, f"{why}; serving containers have readiness probes", evidence
                )
    if not evaluated:
        yield not_applicable(Subject.cluster(), "no workload backs a Service or keeps state")


# -- RES-006: PodDisruptionBudgets for critical add-ons ---------------------------------------------


@check(
    id="RES-006",
    area="resilience",
    severity="high",
    title="Critical add-ons have a PodDisruptionBudget",
    rationale="""Node drains (upgrades, autoscaler scale-downs, spot reclaims) evict pods without
    regard for what they are unless a PodDisruptionBudget says how many must stay up. Without one,
    draining two nodes can take down every CoreDNS replica or every ingress controller at once,
    which is the whole cluster's DNS or ingress. Giant Swarm's hardening advice after hundreds of
    post-mortems is to protect Kubernetes and its critical add-ons first.""",
    remediation="""Run critical add-ons with at least two replicas and a budget that allows one
disruption at a time:

```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: coredns, namespace: kube-system}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
```""",
    references=(K8S_PDB, K8S_DISRUPTIONS, GIANT_SWARM_TALK),
    inputs=("deployments", "statefulsets", "poddisruptionbudgets"),
)
def critical_addons_have_pdbs(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    index = SelectorIndex(inv.items("poddisruptionbudgets"), pdb_selector)
    evaluated = 0
    for key, workload, role in critical_addons(inv, ("deployments", "statefulsets"), edge_workload_ids(inv)):
        evaluated += 1
        subject = inv.subject(key, workload)
        replicas = desired_replicas(key, workload)
        if replicas == 0:
            yield not_applicable(subject, f"{role} scaled to zero")
            continue
        labels, _ = template_of(workload)
        budgets = index.selecting(namespace_of(workload), labels)
        evidence = {"role": role, "replicas": replicas, "pdbs": [name_of(b) for b in budgets] or NO_ITEMS}
        if budgets:
            yield passed(
                subject, f"{role} covered by PodDisruptionBudget {join_names(evidence['pdbs'])}", **evidence
            )
        elif replicas == 1:
            # A singleton (often a leader-elected controller) cannot be protected by a budget
            # without blocking drains; the fix is a second replica, so this is a warning.
            yield warned(
                subject,
                f"{role} with a single replica and no PodDisruptionBudget: any drain takes it down; "
                "run two replicas with a budget if anything depends on it",
                **evidence,
            )
        else:
            yield judged(
                Status.FAIL,
                subject,
                f"{role} with {replicas} replicas and no PodDisruptionBudget: "
                "a drain may evict them all at once",
                evidence,
            )
    if not evaluated:
        yield not_applicable(
            Subject.cluster(),
            "no critical add-on Deployment or StatefulSet besides DNS and ingress controllers "
            "(whose budgets DNS-004 and ING-008 judge)",
        )


# -- RES-007: PDBs that allow no disruption -------------------------------------------------------


def workloads_by_budget(inv: Inventory, budgets: list[Obj]) -> dict[int, list[tuple[str, Obj]]]:
    """(key, workload) pairs each budget selects, keyed by id(budget): one pass over workloads."""
    index = SelectorIndex(budgets, pdb_selector)
    selected: dict[int, list[tuple[str, Obj]]] = defaultdict(list)
    for key in ("deployments", "statefulsets"):
        for workload in inv.items(key):
            labels, _ = template_of(workload)
            for budget in index.selecting(namespace_of(workload), labels):
                selected[id(budget)].append((key, workload))
    return selected


@check(
    id="RES-007",
    area="resilience",
    severity="medium",
    title="PodDisruptionBudgets allow at least one disruption",
    rationale="""A budget with `minAvailable` equal to the replica count (or `maxUnavailable: 0`)
    allows zero voluntary disruptions forever: every node drain for an upgrade or a scale-down
    hangs on it until someone deletes the budget by hand, usually in a hurry during the
    maintenance window. Cluster upgrades that stall half-way are a recurring theme of the failure
    stories.""",
    remediation="""Let one pod go at a time, and run enough replicas to afford it:

```yaml
spec:
  maxUnavailable: 1          # instead of minAvailable: <replicas>
  selector: {matchLabels: {app: checkout}}
```""",
    references=(K8S_PDB, K8S_DISRUPTIONS, "https://k8s.af/"),
    inputs=("poddisruptionbudgets", "deployments", "statefulsets"),
)
def pdbs_allow_disruption(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    budgets = inv.items("poddisruptionbudgets")
    if not budgets:
        yield not_applicable(Subject.cluster(), "no PodDisruptionBudgets")
        return
    selected = workloads_by_budget(inv, budgets)
    elsewhere = edge_workload_ids(inv)
    evaluated = 0
    for pdb in budgets:
        covered = selected.get(id(pdb), [])
        if covered and all(workload_id(key, w) in elsewhere for key, w in covered):
            continue  # a DNS or ingress controller budget: DNS-004 and ING-008 judge it
        evaluated += 1
        subject = inv.subject("poddisruptionbudgets", pdb)
        spec = pdb.get("spec") or {}
        # Replicas from the workloads' specs (status lags during rollouts); status as a fallback.
        workloads = [f"{inv.subject(key, w).kind} {name_of(w)}" for key, w in selected.get(id(pdb), [])]
        expected = sum(desired_replicas(key, w) for key, w in selected.get(id(pdb), []))
        if not workloads:
            expected = as_count((pdb.get("status") or {}).get("expectedPods"))
        budget = {k: spec[k] for k in ("minAvailable", "maxUnavailable") if k in spec}
        evidence = {"budget": budget, "expected_pods": expected, "workloads": workloads}
        if expected == 0:
            yield not_applicable(subject, "selects no running workload", **evidence)
            continue
        allowed = pdb_allowed_disruptions(pdb, expected)
        described = ", ".join(f"{k} {v}" for k, v in budget.items()) or "no budget"
        if allowed is None:
            yield unknown(subject, f"budget {described} cannot be evaluated", **evidence)
        elif allowed == 0:
            yield failed(
                subject,
                f"{described} for {expected} pod(s) allows no disruption: every node drain blocks on it",
                **evidence,
            )
        else:
            yield passed(subject, f"{described} lets {allowed} of {expected} pod(s) be disrupted", **evidence)
    if not evaluated:
        yield not_applicable(Subject.cluster(), "only DNS and ingress budgets, judged by DNS-004 and ING-008")


# -- RES-008: fail-closed admission webhooks --------------------------------------------------------

WEBHOOK_KEYS = ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")


def namespace_labels(inv: Inventory, namespace: str) -> dict[str, str]:
    """A namespace's labels; the automatic name label when the Namespace was not collected."""
    obj = inv.get("namespaces", "", namespace)
    labels = dict(labels_of(obj)) if obj else {}
    labels.setdefault("kubernetes.io/metadata.name", namespace)
    return labels


def ready_endpoint_count(inv: Inventory, namespace: str, name: str) -> int | None:
    """Ready addresses behind a Service (None when Endpoints could not be read)."""
    if not inv.readable("endpoints"):
        return None
    endpoints = inv.get("endpoints", namespace, name)
    if endpoints is None:
        return 0
    return sum(len(subset.get("addresses") or []) for subset in endpoints.get("subsets") or [])


def _intercepts_pods(hook: Obj) -> bool:
    return any(_rule_matches_pod_creation(rule) for rule in dicts(hook.get("rules")))


def _rule_matches_pod_creation(rule: Obj) -> bool:
    """Whether the API server sends a Pod CREATE (core group "", v1, namespaced) to this rule.

    A rule on `apiGroups: [apps]` never sees one: the ReplicaSet controller's pods are created in
    the core group, so such a webhook cannot block its own replacement pods."""
    return (
        _names_or_wildcard(rule.get("apiGroups"), "")
        and _names_or_wildcard(rule.get("apiVersions"), "v1")
        and _names_or_wildcard(rule.get("operations"), "CREATE")
        and rule.get("scope") != "Cluster"
        and any(_covers_pods(resource) for resource in as_list(rule.get("resources")))
    )


def _names_or_wildcard(values: object, wanted: str) -> bool:
    listed = as_list(values)
    return "*" in listed or wanted in listed


def _covers_pods(resource: object) -> bool:
    """`pods`, `*`, and, as the API server matches them, `pods/*` and `*/*`: a `/*` covers the
    resource itself as well as its subresources. `pods/status` or `*/scale` do not."""
    if not isinstance(resource, str):
        return False
    name, _, subresource = resource.partition("/")
    return name in ("pods", "*") and subresource in ("", "*")


def _only_cluster_scoped(hook: Obj) -> bool:
    rules = dicts(hook.get("rules"))
    return bool(rules) and all(rule.get("scope") == "Cluster" for rule in rules)


def webhook_problems(inv: Inventory, hook: Obj) -> list[tuple[str, str]]:
    """(level "fail"/"warn"/"unknown", phrase) for one fail-closed webhook entry."""
    problems: list[tuple[str, str]] = []
    service = as_object(hook.get("clientConfig")).get("service")
    namespace_selector = hook.get("namespaceSelector") or {}
    # An objectSelector or CEL matchConditions may well spare system pods; we cannot evaluate them.
    scoped_otherwise = bool(hook.get("objectSelector") or hook.get("matchConditions"))
    if isinstance(service, dict):
        ns, svc = str(service.get("namespace", "")), str(service.get("name", ""))
        ready = ready_endpoint_count(inv, ns, svc)
        if inv.readable("services") and inv.get("services", ns, svc) is None:
            problems.append(("fail", f"its backend Service {ns}/{svc} does not exist"))
        elif ready is None:
            problems.append(("unknown", f"the ready endpoints of {ns}/{svc} could not be read"))
        elif ready == 0:
            problems.append(
                ("fail", f"backend {ns}/{svc} has no ready endpoint, so every matching request fails")
            )
        elif ready == 1:
            problems.append(("warn", f"backend {ns}/{svc} has a single ready endpoint"))
        if (
            _intercepts_pods(hook)
            and not scoped_otherwise
            and label_selector_matches(namespace_selector, namespace_labels(inv, ns))
        ):
            problems.append(
                ("fail", f"it intercepts pod creation in its own namespace {ns}, so it cannot restart itself")
            )
    if (
        not _only_cluster_scoped(hook)
        and not scoped_otherwise
        and label_selector_matches(namespace_selector, namespace_labels(inv, "kube-system"))
    ):
        problems.append(("warn", "it does not exclude kube-system"))
    return problems


@check(
    id="RES-008",
    area="resilience",
    severity="high",
    title="Fail-closed admission webhooks are highly available and spare kube-system",
    rationale="""With `failurePolicy: Fail`, every API request a webhook matches is rejected while
    its backend is down or unreachable. Zalando's image-policy webhook started rejecting every
    image after an innocent rebuild, and nothing could be deployed until it was fixed; a webhook
    whose only pod is gone, or that must admit its own replacement pods, keeps the cluster in that
    state. Excluding kube-system keeps DNS, CNI and the control plane's add-ons recoverable while
    a webhook is broken.""",
    remediation="""Run the webhook backend with at least two replicas (spread, with a PDB), and
exclude kube-system and the webhook's own namespace:

```yaml
webhooks:
- name: image-policy.example.com
  failurePolicy: Fail
  timeoutSeconds: 5
  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [kube-system, image-policy]
```""",
    references=(K8S_WEBHOOK_PRACTICES, K8S_WEBHOOK_KUBE_SYSTEM, ZALANDO_TALK),
    inputs=WEBHOOK_KEYS,
)
def fail_closed_webhooks(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    evaluated = 0
    for key in WEBHOOK_KEYS:
        for configuration in inv.items(key):
            evaluated += 1
            subject = inv.subject(key, configuration)
            hooks = [h for h in configuration.get("webhooks") or [] if isinstance(h, dict)]
            closed = [h for h in hooks if (h.get("failurePolicy") or "Fail") == "Fail"]
            if not closed:
                yield passed(subject, "every webhook fails open (failurePolicy Ignore)", webhooks=len(hooks))
                continue
            levels: set[str] = set()
            sentences: list[str] = []
            for hook in closed:
                problems = webhook_problems(inv, hook)
                levels.update(level for level, _ in problems)
                if problems:
                    sentences.append(
                        f"{hook.get('name', '?')}: " + ", ".join(phrase for _, phrase in problems)
                    )
            evidence = {"fail_closed": [str(h.get("name", "?")) for h in closed], "problems": sentences}
            text = "; ".join(sentences)
            if "fail" in levels:
                yield failed(subject, f"fail-closed webhook(s): {text}", **evidence)
            elif "warn" in levels:
                yield warned(subject, f"fail-closed webhook(s): {text}", **evidence)
            elif "unknown" in levels:
                yield unknown(subject, text, **evidence)
            else:
                yield passed(
                    subject,
                    f"{len(closed)} fail-closed webhook(s) with redundant backends, kube-system spared",
                    **evidence,
                )
    if not evaluated:
        yield not_applicable(Subject.cluster(), "no admission webhooks are configured")


# -- RES-009: priority classes for critical add-ons -------------------------------------------------


@check(
    id="RES-009",
    area="resilience",
    severity="medium",
    title="Critical add-ons run with a system priority class",
    rationale="""When a node runs short of memory or the cluster is full, the kubelet evicts and the
    scheduler preempts the lowest-priority pods first. Without a priority class, CoreDNS, the CNI,
    kube-proxy or the ingress controller rank with any batch job and can be the ones pushed out,
    turning one team's resource spike into a cluster-wide outage. Giant Swarm lists protecting the
    Kubernetes components and critical add-ons among the first hardening steps.""",
    remediation="""Give cluster-wide add-ons `system-cluster-critical` and per-node agents
(CNI, kube-proxy, log shippers) `system-node-critical`:

```yaml
spec:
  template:
    spec:
      priorityClassName: system-cluster-critical
```""",
    references=(K8S_CRITICAL_PODS, K8S_PRIORITY, GIANT_SWARM_TALK),
    inputs=("deployments", "daemonsets", "statefulsets"),
)
def critical_addons_priority(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    values = {name_of(pc): pc.get("value") for pc in inv.items("priorityclasses")}
    evaluated = 0
    dns = dns_workload_ids(inv)  # DNS-005 judges cluster DNS
    for key, workload, role in critical_addons(inv, ("deployments", "daemonsets", "statefulsets"), dns):
        evaluated += 1
        subject = inv.subject(key, workload)
        priority = priority_class_of(template_spec(workload))
        evidence = {
            "role": role,
            "priority_class": priority,
            "priority": values.get(priority) if priority else 0,
        }
        if priority in SYSTEM_PRIORITY_CLASSES:
            yield judged(Status.PASS, subject, f"{role} runs as {priority}", evidence)
        elif priority and role in ("ingress controller", "monitoring"):
            yield passed(subject, f"{role} runs with priority class {priority}", **evidence)
        elif priority:
            yield warned(
                subject,
                f"{role} runs with priority class {priority}, below the system classes: it can be preempted "
                "by anything ranked higher",
                **evidence,
            )
        else:
            yield failed(
                subject, f"{role} has no priority class: it is evicted like any ordinary pod", **evidence
            )
    if not evaluated:
        yield not_applicable(Subject.cluster(), "no critical add-on besides cluster DNS (judged by DNS-005)")


# -- RES-010: AWS VPC CNI external SNAT ------------------------------------------------------------

EXTERNAL_SNAT = "AWS_VPC_K8S_CNI_EXTERNALSNAT"


def _env_setting(spec: Obj, name: str) -> tuple[bool, str | None]:
    """(is the variable set in any container, its literal value or None when it comes from elsewhere)."""
    for container in containers_of(spec):
        if has_env(container, name):
            return True, env_value(container, name)
    return False, None


def _nodes_without_public_ip(inv: Inventory) -> tuple[int, int]:
    nodes = inv.items("nodes")
    private = sum(
        1
        for n in nodes
        if not any(a.get("type") == "ExternalIP" for a in (n.get("status") or {}).get("addresses") or [])
    )
    return private, len(nodes)


@check(
    id="RES-010",
    area="resilience",
    severity="info",
    title="AWS VPC CNI source NAT matches how traffic leaves the VPC",
    rationale="""By default the AWS VPC CNI rewrites the source address of pod traffic leaving the
    VPC to the node's primary IP. When nodes sit in private subnets and egress goes through a NAT
    gateway (or a VPN, Direct Connect or peering), that second translation breaks connections in
    odd ways: MindTickle's EKS migration saw calls outside the cluster fail with retransmissions
    until AWS support had them set `AWS_VPC_K8S_CNI_EXTERNALSNAT=true`. Whether a NAT gateway is
    used is not visible from the API; nodes without public IPs are the hint.""",
    remediation="""If pods reach the internet or other networks through a NAT gateway or private
links, let the VPC do the NAT:

```sh
kubectl -n kube-system set env daemonset/aws-node AWS_VPC_K8S_CNI_EXTERNALSNAT=true
```""",
    references=(AWS_EXTERNAL_SNAT, AWS_CNI_README, "https://k8s.af/"),
    inputs=("daemonsets", "nodes"),
)
def aws_cni_external_snat(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    cni = inv.get("daemonsets", "kube-system", "aws-node")
    if cni is None:
        yield not_applicable(Subject.cluster(), "the AWS VPC CNI (kube-system/aws-node) is not installed")
        return
    subject = inv.subject("daemonsets", cni)
    spec = template_spec(cni)
    is_set, value = _env_setting(spec, EXTERNAL_SNAT)
    private, total = _nodes_without_public_ip(inv)
    evidence = {"externalsnat": value, "nodes_without_public_ip": private, "nodes": total}
    if is_set and (value is None or value == REDACTED):
        yield unknown(subject, f"{EXTERNAL_SNAT} is set from a reference or was redacted", **evidence)
    elif (value or "").lower() == "true":
        yield passed(subject, f"{EXTERNAL_SNAT}=true: the VPC's NAT translates pod egress", **evidence)
    elif private and private == total:
        yield warned(
            subject,
            f"{EXTERNAL_SNAT} is {value or 'unset'} (the CNI SNATs pod egress) while no node has a "
            "public IP, so egress goes through a NAT gateway or private link: set it to true unless "
            "you rely on node-IP SNAT",
            **evidence,
        )
    else:
        yield passed(
            subject,
            f"{EXTERNAL_SNAT} is {value or 'unset'} and {total - private} of {total} nodes have public IPs: "
            "the CNI's own SNAT fits public subnets",
            **evidence,
        )


# -- RES-011: log shippers ------------------------------------------------------------------------

LOG_SHIPPER_MARKERS = (
    "fluent-bit",
    "fluentbit",
    "fluentd",
    "vector",
    "promtail",
    "filebeat",
    "grafana-agent",
    "alloy",
    "logstash",
    "ama-logs",
    "omsagent",
    "stackdriver-logging",
    "splunk",
    "sumologic",
    "datadog",
    "newrelic-logging",
    "elastic-agent",
    "otel-collector",
    "opentelemetry-collector",
)


def is_log_shipper(daemonset: Obj) -> bool:
    spec = template_spec(daemonset)
    return _matches_any(" ".join([name_of(daemonset), *images_of(spec)]).lower(), LOG_SHIPPER_MARKERS)


@check(
    id="RES-011",
    area="resilience",
    severity="medium",
    title="A log shipper runs, ready, on every node",
    rationale="""Container logs live on the node only until rotation or until the node is gone;
    without a shipper they vanish with the evidence of the incident. A shipper that is not ready
    on some nodes loses exactly those nodes' logs: in one of the seed stories Fluent Bit silently
    stopped shipping from one node and production logs went missing until the team replaced it.
    Every team in the seeds reached its root cause through logs and metrics.""",
    remediation="""Run a log shipper as a DaemonSet that tolerates every taint, and alert when
`numberReady` drops below `desiredNumberScheduled`:

```yaml
spec:
  template:
    spec:
      priorityClassName: system-node-critical
      tolerations: [{operator: Exists}]
```""",
    references=(K8S_LOGGING, "https://k8s.af/", GIANT_SWARM_TALK),
    inputs=("daemonsets", "nodes"),
)
def log_shippers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    shippers = [ds for ds in inv.items("daemonsets") if is_log_shipper(ds)]
    if not shippers:
        yield failed(
            Subject.cluster(),
            "no log shipper DaemonSet (Fluent Bit, Fluentd, Vector, Promtail, Filebeat, Alloy, …): "
            "container logs die with their node",
        )
        return
    for daemonset in shippers:
        subject = inv.subject("daemonsets", daemonset)
        desired, ready = desired_replicas("daemonsets", daemonset), ready_replicas("daemonsets", daemonset)
        spec = template_spec(daemonset)
        eligible = [n for n in inv.items("nodes") if daemonset_can_run_on(spec, n)]
        evidence = {
            "desired": desired,
            "ready": ready,
            "eligible_nodes": len(eligible),
            "nodes": len(inv.items("nodes")),
        }
        if desired == 0:
            yield failed(subject, "is scheduled on no node: no logs are shipped", **evidence)
        elif ready < desired:
            yield failed(
                subject,
                f"only {ready} of {desired} pods are ready: logs from {desired - ready} node(s) are lost",
                **evidence,
            )
        elif len(eligible) < len(inv.items("nodes")):
            skipped = len(inv.items("nodes")) - len(eligible)
            yield warned(
                subject,
                f"all {ready} pods ready, but {skipped} node(s) are excluded by taints or the node selector "
                "and ship no logs",
                **evidence,
            )
        else:
            yield passed(subject, f"{ready} of {desired} pods ready, on every node", **evidence)


# -- RES-012: monitoring and alerting -------------------------------------------------------------

# Markers in workload names and images (exporters and operators are left out first).
METRICS_MARKERS = (
    "prometheus",
    "vmagent",
    "vmsingle",
    "victoria-metrics",
    "grafana-agent",
    "alloy",
)
ALERTING_MARKERS = ("alertmanager", "vmalert")
SAAS_AGENTS = ("datadog", "newrelic", "dynatrace", "sysdig", "instana", "splunk-otel")
_MONITORING_COMPONENT_MARKERS = ALERTING_MARKERS + SAAS_AGENTS + METRICS_MARKERS
OPERATOR_CRDS = {
    "prometheuses.monitoring.coreos.com": "Prometheus",
    "alertmanagers.monitoring.coreos.com": "Alertmanager",
}


def _label(inv: Inventory, key: str, workload: Obj) -> str:
    return f"{inv.subject(key, workload).kind} {namespace_of(workload)}/{name_of(workload)}"


def _monitoring_components(inv: Inventory) -> tuple[list[str], list[str]]:
    """(metrics collectors, alerting components) among the workloads, as "Kind ns/name"."""
    metrics, alerting = [], []
    named = inv.derived(_component_names)
    for key in ("deployments", "statefulsets", "daemonsets"):
        for workload, names in named[key]:
            text = names.monitoring
            mentions = _matches_any(text, _MONITORING_COMPONENT_MARKERS)  # most mention none: one search
            if mentions and _matches_any(text, ALERTING_MARKERS):
                alerting.append(_label(inv, key, workload))
            elif mentions and _matches_any(text, SAAS_AGENTS):
                label = _label(inv, key, workload)
                metrics.append(label)
                alerting.append(label)  # the vendor's platform evaluates the alerts
            elif (mentions and _matches_any(text, METRICS_MARKERS)) or namespace_of(workload) == "gmp-system":
                metrics.append(_label(inv, key, workload))  # gmp-system: GKE's managed Prometheus collectors
    return metrics, alerting


@check(
    id="RES-012",
    area="resilience",
    severity="medium",
    title="A monitoring stack with alerting is running",
    rationale="""Every incident in the seeds was found and explained through metrics: Buffer saw
    throttling, Preply saw 5xx errors in Prometheus, JW Player noticed a crypto-miner through load
    alerts only after days. Giant Swarm's first best practice is Prometheus with Alertmanager.
    Without metrics nobody sees an incident building, and metrics without alerting only tell the
    story afterwards.""",
    remediation="""Install a metrics stack with alerting, for example kube-prometheus-stack, and
route Alertmanager to the on-call rotation:

```sh
helm install monitoring prometheus-community/kube-prometheus-stack -n monitoring --create-namespace
```""",
    references=(
        PROMETHEUS_ALERTING,
        "https://github.com/prometheus-operator/kube-prometheus",
        GIANT_SWARM_TALK,
    ),
    inputs=("deployments", "statefulsets", "daemonsets"),
)
def monitoring_stack(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    metrics, alerting = _monitoring_components(inv)
    crds = (
        [kind for crd in inv.items("customresourcedefinitions") if (kind := OPERATOR_CRDS.get(name_of(crd)))]
        if inv.readable("customresourcedefinitions")
        else []
    )
    evidence = {"metrics": metrics[:10], "alerting": alerting[:10], "operator_crds": crds}
    subject = Subject.cluster()
    if metrics and alerting:
        yield passed(
            subject, f"metrics: {join_names(metrics, 3)}; alerting: {join_names(alerting, 3)}", **evidence
        )
    elif metrics:
        yield warned(
            subject,
            f"metrics are collected ({join_names(metrics, 3)}) but no Alertmanager or equivalent runs: "
            "nobody is paged",
            **evidence,
        )
    elif crds:
        yield warned(
            subject,
            f"prometheus-operator CRDs ({join_names(crds)}) are installed but no Prometheus or "
            "Alertmanager runs",
            **evidence,
        )
    elif not inv.readable("customresourcedefinitions"):
        yield unknown(
            subject,
            "no monitoring workload found, and " + inv.unreadable_reason("customresourcedefinitions"),
            **evidence,
        )
    else:
        yield failed(
            subject, "no monitoring stack found (no Prometheus, Alertmanager or monitoring agent)", **evidence
        )

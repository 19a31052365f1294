"""Nodes: the machines everything runs on, and what they are allowed to run.

Zalando lost API-server-to-etcd connectivity on T2 instances during an EC2 "non-intrusive
maintenance"; JW Player and Moonlight watched nodes pinned at 100% CPU take their workloads down
with them. Burstable instances under a control plane or a cluster's DNS and ingress turn a CPU
credit balance into an availability dependency. The other checks here look for nodes that are
already unhealthy, that run an operating system nobody patches any more, and control planes that
ordinary workloads can crowd out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from k8saudit.inventory import Inventory, Obj, finished, phase_of
from k8saudit.model import Finding, Status, Subject, failed, judged, not_applicable, passed, unknown, warned
from k8saudit.readers import annotations_of, as_object, dicts, labels_of, meta, name_of, namespace_of
from k8saudit.registry import Context, check

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
# The cloud provider built into k3s and RKE2, which runs when no real one is configured, labels
# every node with the distribution's name as its instance type, whatever machine it is (a t3 too).
PLACEHOLDER_INSTANCE_TYPES = frozenset({"k3s", "rke2"})
CONTROL_PLANE_ROLE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
# Taints only the platform's own pods tolerate. Besides the role taints, k3s and RKE2 document
# `CriticalAddonsOnly=true:NoExecute` for dedicated servers and `node-role.kubernetes.io/etcd:NoExecute`
# for etcd-only nodes: NoExecute is stronger than NoSchedule, it also evicts what already runs.
ISOLATING_TAINT_KEYS = frozenset(
    {*CONTROL_PLANE_ROLE_LABELS, "node-role.kubernetes.io/etcd", "CriticalAddonsOnly"}
)
ISOLATING_TAINT_EFFECTS = ("NoSchedule", "NoExecute")
CONTROL_PLANE_COMPONENTS = frozenset({"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler"})
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
CRITICAL_PRIORITY_CLASSES = frozenset({"system-cluster-critical", "system-node-critical"})

# Burstable / shared-core instance families: CPU beyond a baseline is paid for with credits (AWS T,
# Azure B) or borrowed from a shared core (GCP e2 shared-core, f1, g1).
_BURSTABLE = (
    re.compile(r"^t(1|2|3|3a|4g)\.", re.IGNORECASE),  # AWS
    re.compile(r"^(e2-(micro|small|medium)|f1-micro|g1-small)$", re.IGNORECASE),  # GCP
    re.compile(r"^standard_b\d+[a-z]*(_v\d+)?$", re.IGNORECASE),  # Azure B-series
)
# AWS T3, T3a and T4g start in unlimited credit mode unless launched in standard mode: past their
# baseline they keep full speed and the surplus credits are billed. T1/T2 (standard by default),
# Azure B-series and GCP shared-core machines are held to their baseline.
_UNLIMITED_BY_DEFAULT = re.compile(r"^t(3|3a|4g)\.", re.IGNORECASE)
BURSTABLE_REFERENCES = (
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances.html",
    "https://cloud.google.com/compute/docs/general-purpose-machines#sharedcore",
    "https://learn.microsoft.com/en-us/azure/virtual-machines/sizes-b-series-burstable",
)
ZALANDO_SLIDES = (
    "https://www.slideshare.net/try_except_/"
    "running-kubernetes-in-production-a-million-ways-to-crash-your-cluster-devopscon-munich-2018"
)

DNS_LABEL_VALUES = frozenset({"kube-dns", "coredns"})
INGRESS_NAMES = frozenset(
    {
        "ingress-nginx",
        "nginx-ingress",
        "nginx-ingress-controller",
        "traefik",
        "haproxy-ingress",
        "kubernetes-ingress",
        "contour",
        "skipper-ingress",
        "kong",
        "emissary-ingress",
        "istio-ingressgateway",
    }
)
_INGRESS_IMAGES = re.compile(
    r"(ingress-nginx/controller|/nginx-ingress(-controller)?$|(^|/)traefik$|haproxy-ingress$|"
    r"kubernetes-ingress$|(^|/)skipper$|(^|/)kong$|(^|/)contour$)"
)


def instance_type_label(node: Obj) -> str | None:
    """The node's instance-type label as set, placeholder or machine type."""
    labels = labels_of(node)
    for label in INSTANCE_TYPE_LABELS:
        if labels.get(label):
            return str(labels[label])
    return None


def instance_type(node: Obj) -> str | None:
    """The machine type the node runs on, or None when no label names one."""
    label = instance_type_label(node)
    return None if label is None or label.lower() in PLACEHOLDER_INSTANCE_TYPES else label


def is_burstable(kind: str) -> bool:
    return any(pattern.match(kind) for pattern in _BURSTABLE)


def has_role_label(node: Obj) -> bool:
    labels = labels_of(node)
    return (
        any(label in labels for label in CONTROL_PLANE_ROLE_LABELS)
        or labels.get("kubernetes.io/role") == "master"
    )


def runs_control_plane_pods(inv: Inventory, node: Obj) -> bool:
    return name_of(node) in inv.derived(_control_plane_pod_nodes)


def _control_plane_pod_nodes(inv: Inventory) -> frozenset[str]:
    """Nodes running a kube-system control-plane pod: one pass over kube-system, not one per node."""
    nodes = set()
    for pod in inv.in_namespace("pods", "kube-system"):
        labels = labels_of(pod)
        if (
            labels.get("component") in CONTROL_PLANE_COMPONENTS
            or labels.get("k8s-app") in CONTROL_PLANE_COMPONENTS
        ) and isinstance(node := (pod.get("spec") or {}).get("nodeName"), str):
            nodes.add(node)
    return frozenset(nodes)


def is_control_plane(inv: Inventory, node: Obj) -> bool:
    """A node that hosts the control plane: by its role label, or because it runs the static pods."""
    return has_role_label(node) or runs_control_plane_pods(inv, node)


def _owner_kind(pod: Obj) -> str:
    for ref in meta(pod).get("ownerReferences") or ():
        if isinstance(ref, dict) and ref.get("controller"):
            return str(ref.get("kind", ""))
    return ""


def _repository(image: str) -> str:
    image = image.split("@", 1)[0]
    head, _, tail = image.rpartition(":")
    return head if head and "/" not in tail else image


@functools.lru_cache(maxsize=1 << 14)
def _is_ingress_image(image: str) -> bool:
    # Per image, not per pod: every pod of the cluster is asked, and they run a few hundred images.
    return _INGRESS_IMAGES.search(_repository(image)) is not None


def critical_addon_role(pod: Obj) -> str | None:
    """Why losing this pod hurts the whole cluster (DNS, ingress, system-critical), or None.

    Asked of every running pod: the names are tested one by one and the containers walked in
    place, no set or list built per pod (0.27 -> 0.16 s over 100k pods)."""
    labels = labels_of(pod)
    k8s_app, name, app = labels.get("k8s-app"), labels.get("app.kubernetes.io/name"), labels.get("app")
    if k8s_app in DNS_LABEL_VALUES or name in DNS_LABEL_VALUES or app in DNS_LABEL_VALUES:
        return "DNS"
    if k8s_app in INGRESS_NAMES or name in INGRESS_NAMES or app in INGRESS_NAMES:
        return "ingress"
    spec = pod.get("spec") or {}
    for container in dicts(spec.get("containers")):
        if _is_ingress_image(str(container.get("image", ""))):
            return "ingress"
    priority = spec.get("priorityClassName")
    # DaemonSet pods (kube-proxy, CNI agents) run on every node: they make no node special.
    if (
        isinstance(priority, str)
        and priority in CRITICAL_PRIORITY_CLASSES
        and _owner_kind(pod) != "DaemonSet"
    ):
        return "system-critical"
    return None


def critical_addons_on(inv: Inventory, node: Obj) -> list[str]:
    return list(inv.derived(_critical_addons_by_node).get(name_of(node), ()))


def _critical_addons_by_node(inv: Inventory) -> dict[str, list[str]]:
    """Node name -> its critical add-ons, sorted: every pod judged once for all the node checks."""
    found: dict[str, list[str]] = {}
    for pod, node, _ in inv.live_placements():
        role = critical_addon_role(pod)
        if role:
            found.setdefault(node, []).append(f"{role}: {namespace_of(pod)}/{name_of(pod)}")
    return {node: sorted(addons) for node, addons in found.items()}


def _no_instance_types(inv: Inventory) -> Finding | None:
    """The cluster's not-applicable finding when no node's labels name its machine type."""
    nodes = inv.items("nodes")
    if any(instance_type(n) for n in nodes):
        return None
    placeholder = next((label for n in nodes if (label := instance_type_label(n))), None)
    if placeholder:
        return not_applicable(
            Subject.cluster(), f"no node's instance type is known: {_placeholder_phrase(placeholder)}"
        )
    return not_applicable(
        Subject.cluster(), "no node carries an instance-type label (bare metal or no cloud provider)"
    )


def _placeholder_phrase(label: str) -> str:
    return (
        f"the instance-type label holds {label!r}, the placeholder k3s and RKE2 set when no cloud "
        "provider is configured, not a machine type"
    )


def _instance_finding(subject: Subject, node: Obj, role: str, severe: bool, extra: dict) -> Finding:
    kind = instance_type(node)
    evidence = {"instance_type": kind, **extra}
    if kind is None:
        label = instance_type_label(node)
        why = _placeholder_phrase(label) if label else "the node has no instance-type label"
        return unknown(subject, why, **evidence)
    if not is_burstable(kind):
        return passed(subject, f"{role} on {kind}, a fixed-performance instance type", **evidence)
    if _UNLIMITED_BY_DEFAULT.match(kind):
        # Throttled only if launched in standard mode, which the cluster cannot see: a warning.
        return warned(
            subject,
            f"{role} on {kind}, a burstable instance type: past its CPU baseline it is billed for "
            "surplus credits in the default unlimited mode, and throttled in standard mode "
            "(the node's credit mode is not visible in the cluster)",
            **evidence,
        )
    message = (
        f"{role} on {kind}, a burstable/shared-core instance type: once CPU credits run out it is throttled"
    )
    return (failed if severe else warned)(subject, message, **evidence)


@check(
    id="NODE-001",
    area="nodes",
    severity="high",
    title="Control-plane nodes are not on burstable instance types",
    rationale="""etcd and the API server need steady CPU and network: on a burstable instance, a
    credit balance drained by a compaction, a busy controller or a noisy neighbour throttles them
    and the whole cluster stalls. Zalando's API servers sporadically lost etcd during an EC2
    maintenance that AWS confirmed hit only T2 instances; JW Player and Moonlight show how fast a
    node pinned at 100% CPU takes its workloads down. T3, T3a and T4g start in unlimited credit
    mode (billed, not throttled, past the baseline) and only warn: their mode is not visible
    in the cluster.""",
    remediation="""Move control-plane nodes to a fixed-performance family (AWS m/c, GCP n2/e2-standard,
Azure D-series). With kops:

```sh
kops edit ig control-plane-eu-central-1a   # spec.machineType: m6i.large
kops update cluster --yes && kops rolling-update cluster --yes
```""",
    references=(
        *BURSTABLE_REFERENCES,
        ZALANDO_SLIDES,
        "https://kubernetes.io/docs/setup/best-practices/cluster-large/",
    ),
    inputs=("nodes",),
)
def control_plane_instance_types(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if inv.provider.managed_control_plane:
        yield not_applicable(
            Subject.cluster(), f"{inv.provider.name.upper()} runs the control plane on its own machines"
        )
        return
    if (not_judged := _no_instance_types(inv)) is not None:
        yield not_judged
        return
    nodes = [n for n in inv.items("nodes") if is_control_plane(inv, n)]
    if not nodes:
        yield not_applicable(Subject.cluster(), "no control-plane node is registered in the cluster")
        return
    for node in nodes:
        yield _instance_finding(inv.subject("nodes", node), node, "control-plane node", True, {})


@check(
    id="NODE-002",
    area="nodes",
    severity="medium",
    title="Nodes running DNS, ingress or system-critical add-ons are not burstable",
    rationale="""CoreDNS, the ingress controller and other cluster-critical add-ons serve every
    workload: when the node they run on exhausts its CPU credits, every service sees DNS timeouts
    and ingress 5xx at once. JW Player's and Moonlight's nodes at 100% CPU took everything on them
    down; a t2 or B-series node turns a quiet week's credit balance into the same outage.""",
    remediation="""Pin critical add-ons to a fixed-performance node pool and keep them off burstable
nodes:

```yaml
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: node.kubernetes.io/instance-type, operator: NotIn, values: [t3.medium, t3.large]}
```""",
    references=(
        *BURSTABLE_REFERENCES,
        "https://kubernetes.io/docs/tasks/administer-cluster/guaranteed-scheduling-critical-addon-pods/",
    ),
    inputs=("nodes", "pods"),
)
def critical_addon_instance_types(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if (not_judged := _no_instance_types(inv)) is not None:
        yield not_judged
        return
    evaluated = 0
    for node in inv.items("nodes"):
        if is_control_plane(inv, node):
            continue  # judged by NODE-001
        addons = critical_addons_on(inv, node)
        if not addons:
            continue  # judged by NODE-003
        evaluated += 1
        kinds = sorted({a.split(":", 1)[0] for a in addons})
        role = f"node running {' and '.join(kinds)} pods ({len(addons)})"
        yield _instance_finding(inv.subject("nodes", node), node, role, True, {"addons": addons[:10]})
    if not evaluated:
        yield not_applicable(Subject.cluster(), "no worker node runs DNS, ingress or system-critical pods")


@check(
    id="NODE-003",
    area="nodes",
    severity="low",
    title="Worker nodes are not on burstable instance types",
    rationale="""Burstable instances are sized for idle-most-of-the-time machines; a Kubernetes
    node packed to its requests is rarely idle. Once credits run out every pod on the node runs at
    the baseline (10–40% of a core on small sizes), which looks like an application slowdown
    nobody can reproduce. Zalando's advice after its T2 incident: treat T2 instances with care.""",
    remediation="""Use burstable nodes only for dev or batch pools; give production node pools a
fixed-performance instance family, or at least enable unlimited credit mode and alert on
`CPUSurplusCreditBalance` so throttling never comes as a surprise.""",
    references=(*BURSTABLE_REFERENCES, ZALANDO_SLIDES),
    inputs=("nodes", "pods"),
)
def worker_instance_types(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if (not_judged := _no_instance_types(inv)) is not None:
        yield not_judged
        return
    evaluated = 0
    for node in inv.items("nodes"):
        if is_control_plane(inv, node) or critical_addons_on(inv, node):
            continue  # judged by NODE-001 / NODE-002
        evaluated += 1
        yield _instance_finding(inv.subject("nodes", node), node, "worker node", False, {})
    if not evaluated:
        yield not_applicable(Subject.cluster(), "every node is a control-plane node or runs critical add-ons")


# -- NODE-004: node health ---------------------------------------------------------------------

PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


def conditions_of(node: Obj) -> dict[str, dict]:
    return {str(c.get("type")): c for c in dicts((node.get("status") or {}).get("conditions"))}


@check(
    id="NODE-004",
    area="nodes",
    severity="high",
    title="Nodes are Ready and under no memory, disk, PID or network pressure",
    rationale="""A NotReady node's pods are evicted after the toleration timeout and pile onto the
    survivors; a node under memory or disk pressure is already evicting pods. Zalando once had
    most of its nodes flip to NotReady at the same time, and Moonlight's outage grew from pods
    rescheduled onto nodes that were already at their limit.""",
    remediation="""Find out why the kubelet reports the condition (`kubectl describe node NAME`,
then the kubelet and runtime logs on the node); cordon and drain a node you cannot fix quickly
and replace it. Recurring pressure means the node's reservations are too small:

```yaml
# KubeletConfiguration
kubeReserved: {cpu: 200m, memory: 512Mi}
evictionHard: {memory.available: 500Mi, nodefs.available: 10%}
```""",
    references=(
        "https://kubernetes.io/docs/concepts/architecture/nodes/#condition",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/",
    ),
    inputs=("nodes",),
)
def node_conditions(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    for node in inv.items("nodes"):
        subject = inv.subject("nodes", node)
        conditions = conditions_of(node)
        ready = conditions.get("Ready")
        if ready is None:
            yield unknown(subject, "the node reports no Ready condition")
            continue
        problems = []
        if ready.get("status") == "False":
            problems.append("is NotReady")
        elif ready.get("status") != "True":
            problems.append("has Ready status Unknown (its kubelet stopped reporting)")
        pressure = [t for t in PRESSURE_CONDITIONS if (conditions.get(t) or {}).get("status") == "True"]
        if pressure:
            problems.append(f"reports {', '.join(pressure)}")
        evidence = {
            "conditions": {
                t: {k: c.get(k) for k in ("status", "reason", "message", "lastTransitionTime") if c.get(k)}
                for t, c in conditions.items()
                if t == "Ready" or t in PRESSURE_CONDITIONS
            }
        }
        if problems:
            yield failed(subject, f"node {' and '.join(problems)}", **evidence)
        else:
            yield judged(Status.PASS, subject, "node is Ready with no pressure condition", evidence)


# -- NODE-005: operating system support ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OsRelease:
    name: str
    pattern: re.Pattern[str]
    end_of_support: date | None  # None: a rolling release, updated with the node image
    extended_until: date | None = None  # paid or community extended security support
    extended_name: str = "extended security support"


def _os(
    name: str, pattern: str, eos: date | None, extended: date | None = None, extended_name: str = ""
) -> OsRelease:
    return OsRelease(
        name, re.compile(pattern, re.IGNORECASE), eos, extended, extended_name or "extended security support"
    )


def _ubuntu(version: str, eos: date, esm: date) -> OsRelease:
    return _os(f"Ubuntu {version}", rf"^ubuntu {re.escape(version)}", eos, esm, "Ubuntu Pro ESM")


def _debian(version: int, eos: date, lts: date) -> OsRelease:
    return _os(f"Debian {version}", rf"^debian gnu/linux {version}\b", eos, lts, "Debian LTS")


OS_RELEASES: tuple[OsRelease, ...] = (
    _os("CoreOS Container Linux", r"container linux by coreos", date(2020, 5, 26)),
    _os("Flatcar Container Linux", r"^flatcar", None),
    _os("Fedora CoreOS", r"^fedora coreos", None),
    _os("Bottlerocket", r"^bottlerocket", None),
    _os("Container-Optimized OS", r"^container-optimized os", None),
    _os("Talos Linux", r"^talos", None),
    _os("Red Hat Enterprise Linux CoreOS", r"^red hat enterprise linux coreos", None),
    _os("Amazon Linux AMI", r"^amazon linux ami", date(2023, 12, 31)),
    _os("Amazon Linux 2023", r"^amazon linux 2023", date(2029, 6, 30)),
    _os("Amazon Linux 2", r"^amazon linux 2\b", date(2026, 6, 30)),
    _ubuntu("14.04", date(2019, 4, 2), date(2024, 4, 2)),
    _ubuntu("16.04", date(2021, 4, 2), date(2026, 4, 2)),
    _ubuntu("18.04", date(2023, 5, 31), date(2028, 4, 1)),
    _ubuntu("20.04", date(2025, 5, 31), date(2030, 4, 2)),
    _ubuntu("22.04", date(2027, 4, 1), date(2032, 4, 9)),
    _ubuntu("24.04", date(2029, 5, 31), date(2036, 5, 31)),
    _ubuntu("26.04", date(2031, 4, 30), date(2036, 4, 30)),
    _debian(9, date(2020, 7, 6), date(2022, 6, 30)),
    _debian(10, date(2022, 9, 10), date(2024, 6, 30)),
    _debian(11, date(2024, 8, 14), date(2026, 8, 31)),
    _debian(12, date(2026, 6, 10), date(2028, 6, 30)),
    _debian(13, date(2028, 8, 9), date(2030, 6, 30)),
    _os("CentOS Linux 7", r"^centos linux 7\b", date(2024, 6, 30)),
    _os("CentOS Linux 8", r"^centos linux 8\b", date(2021, 12, 31)),
    _os("CentOS Stream 8", r"^centos stream 8\b", date(2024, 5, 31)),
    _os("CentOS Stream 9", r"^centos stream 9\b", date(2027, 5, 31)),
    _os(
        "RHEL 7", r"^red hat enterprise linux( server)? 7\.", date(2024, 6, 30), date(2028, 6, 30), "paid ELS"
    ),
    _os("RHEL 8", r"^red hat enterprise linux 8\.", date(2029, 5, 31)),
    _os("RHEL 9", r"^red hat enterprise linux 9\.", date(2032, 5, 31)),
    _os("Rocky Linux 8", r"^rocky linux 8\.", date(2029, 5, 31)),
    _os("Rocky Linux 9", r"^rocky linux 9\.", date(2032, 5, 31)),
    _os("AlmaLinux 8", r"^almalinux 8\.", date(2029, 5, 31)),
    _os("AlmaLinux 9", r"^almalinux 9\.", date(2032, 5, 31)),
)


def os_release(os_image: str) -> OsRelease | None:
    text = os_image.strip()
    for release in OS_RELEASES:
        if release.pattern.search(text):
            return release
    return None


def os_support_finding(subject: Subject, os_image: str, today: date, warn_days: int) -> Finding:
    evidence: dict[str, object] = {"os_image": os_image}
    release = os_release(os_image)
    if release is None:
        return unknown(
            subject, f"k8saudit does not know the support dates of {os_image or '(empty)'!r}", **evidence
        )
    if release.end_of_support is None:
        return passed(
            subject, f"{release.name} is a rolling release, supported while the image is updated", **evidence
        )
    evidence["end_of_support"] = release.end_of_support.isoformat()
    if release.extended_until:
        evidence["extended_support_until"] = release.extended_until.isoformat()
    if today > release.end_of_support:
        if release.extended_until and today <= release.extended_until:
            return warned(
                subject,
                f"{release.name} left standard support on {release.end_of_support.isoformat()}; "
                f"only {release.extended_name} remains, until {release.extended_until.isoformat()}",
                **evidence,
            )
        final = release.extended_until or release.end_of_support
        return judged(
            Status.FAIL, subject, f"{release.name} reached end of life on {final.isoformat()}", evidence
        )
    days_left = (release.end_of_support - today).days
    if days_left <= warn_days:
        return warned(
            subject,
            f"{release.name} leaves standard support in {days_left} days "
            f"({release.end_of_support.isoformat()})",
            **evidence,
        )
    return passed(
        subject, f"{release.name} is supported until {release.end_of_support.isoformat()}", **evidence
    )


@check(
    id="NODE-005",
    area="nodes",
    severity="medium",
    title="Nodes run a supported operating system release",
    rationale="""The node OS carries the kernel, the container runtime and every host library a
    container escape lands in; once out of support, their CVEs stay open. Zalando's failure list
    includes CoreOS Container Linux releases that would not boot, and Container Linux itself went
    end of life in May 2020, leaving clusters that never migrated on an unpatched base.""",
    remediation="""Build or select node images on a supported release (Amazon Linux 2023,
Bottlerocket, Ubuntu 24.04, Debian 13, Flatcar, ...), roll the node pools to it and delete the
old launch templates so autoscaling cannot bring the old image back.""",
    references=(
        "https://endoflife.date/ubuntu",
        "https://endoflife.date/debian",
        "https://endoflife.date/amazon-linux",
        "https://endoflife.date/centos",
        "https://endoflife.date/rhel",
        "https://www.flatcar.org/docs/latest/migrating-from-coreos/",
        ZALANDO_SLIDES,
    ),
    inputs=("nodes",),
)
def node_os_support(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    for node in inv.items("nodes"):
        os_image = str(as_object((node.get("status") or {}).get("nodeInfo")).get("osImage", ""))
        yield os_support_finding(
            inv.subject("nodes", node), os_image, ctx.now.date(), ctx.config.eol_warning_days
        )


# -- NODE-006: control planes kept for the control plane -----------------------------------------


def isolating_taint(node: Obj) -> str | None:
    """The first taint keeping ordinary workloads off the node, as `key:effect`, or None."""
    for taint in dicts((node.get("spec") or {}).get("taints")):
        key, effect = taint.get("key"), taint.get("effect")
        if isinstance(key, str) and key in ISOLATING_TAINT_KEYS and effect in ISOLATING_TAINT_EFFECTS:
            return f"{key}:{effect}"
    return None


def is_platform_namespace(inv: Inventory, namespace: str) -> bool:
    if namespace in SYSTEM_NAMESPACES:
        return True
    return inv.provider.owns_namespace(namespace)  # OpenShift's own control plane and operators


def ordinary_pods_on(inv: Inventory, node: Obj) -> list[str]:
    """Pods that are not part of the platform: outside its namespaces, not a DaemonSet's (those
    run on every node by design) and not static mirror pods."""
    found = []
    for pod in inv.pods_on_node(name_of(node)):
        if is_platform_namespace(inv, namespace_of(pod)) or _owner_kind(pod) == "DaemonSet":
            continue
        if "kubernetes.io/config.mirror" in annotations_of(pod):
            continue
        if finished(phase_of(pod)):
            continue
        found.append(f"{namespace_of(pod)}/{name_of(pod)}")
    return sorted(found)


@check(
    id="NODE-006",
    area="nodes",
    severity="high",
    title="Control-plane nodes do not run ordinary workloads",
    rationale="""Application pods on control-plane nodes compete with etcd and the API server for
    CPU, memory and disk I/O: one memory leak or CPU-hungry batch job there and the API server is
    OOM-killed or etcd misses its heartbeats, which is how Zalando's and Giant Swarm's control
    planes went down. A NoSchedule or NoExecute taint that only the platform tolerates is what
    keeps them apart: the control-plane role taint, or `CriticalAddonsOnly` on k3s and RKE2
    servers. A cluster whose every node is a control-plane node has nowhere else to run its
    workloads, and is not judged. Neither is one whose provider keeps the control plane out of
    the cluster; ROSA classic and ARO show theirs, and are judged (their `openshift-*` pods are the
    platform's).""",
    remediation="""Taint every control-plane node and move the workloads to worker pools:

```sh
kubectl taint nodes NODE node-role.kubernetes.io/control-plane=:NoSchedule
kubectl drain NODE --ignore-daemonsets   # then uncordon
```

On k3s and RKE2, dedicate the servers in `/etc/rancher/{k3s,rke2}/config.yaml`:

```yaml
node-taint: ["CriticalAddonsOnly=true:NoExecute"]
```

Remove `node-role.kubernetes.io/control-plane` and `CriticalAddonsOnly` tolerations from ordinary
workloads.""",
    references=(
        "https://kubernetes.io/docs/reference/labels-annotations-taints/#node-role-kubernetes-io-control-plane-taint",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",
        "https://docs.rke2.io/install/ha",
    ),
    inputs=("nodes", "pods"),
)
def control_plane_isolation(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    nodes = inv.items("nodes")
    # Visible control-plane nodes are judged even under a managed provider (ROSA classic and ARO
    # show theirs): ordinary pods tolerating their taints starve the same API server.
    control_planes = [n for n in nodes if is_control_plane(inv, n)]
    if not control_planes:
        yield not_applicable(
            Subject.cluster(),
            f"{inv.provider.name.upper()} runs the control plane on its own machines"
            if inv.provider.managed_control_plane
            else "no control-plane node is registered in the cluster",
        )
        return
    if len(control_planes) == len(nodes):
        layout = (
            "single-node cluster" if len(nodes) == 1 else f"every node ({len(nodes)}) is a control-plane node"
        )
        yield not_applicable(
            Subject.cluster(), f"{layout}: with no worker node, the control plane has to run the workloads"
        )
        return
    for node in control_planes:
        yield _isolation_finding(
            inv.subject("nodes", node), isolating_taint(node), ordinary_pods_on(inv, node)
        )


def _isolation_finding(subject: Subject, taint: str | None, workloads: list[str]) -> Finding:
    evidence = {"taint": taint, "ordinary_pods": len(workloads), "examples": workloads[:5]}
    if workloads and taint is None:
        return failed(
            subject, f"untainted control-plane node runs ordinary pods ({len(workloads)})", **evidence
        )
    if workloads:
        return warned(
            subject, f"ordinary pods ({len(workloads)}) tolerate the {taint} taint and run here", **evidence
        )
    if taint is None:
        return warned(
            subject,
            "no NoSchedule or NoExecute taint keeps ordinary workloads off this control-plane node",
            **evidence,
        )
    return passed(subject, f"tainted {taint} and runs no ordinary workload", **evidence)

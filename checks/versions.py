"""Versions: how far the cluster is from a supported, patched Kubernetes, kernel and runtime.

Giant Swarm's post-mortems start with an API server memory leak in 1.11.1–1.11.3 that took control
planes down; Zalando's with a CronJob manifest written for an alpha API; Buffer's with a kernel bug
that throttled every CPU-limited container. Each check here compares what the cluster reports
against dated, referenced facts: the release calendar, the skew policy, the deprecation guide,
kernel and runtime release notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from checks.advisories import image_repository, image_tag
from checks.kernel import KernelVerdict, cfs_kernel_verdict  # noqa: F401  (KernelVerdict re-exported)
from checks.podspec import has_cpu_limit
from k8saudit.inventory import Inventory, Obj
from k8saudit.kinds import KINDS_BY_KEY
from k8saudit.model import (
    API_VERSION_KIND,
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
from k8saudit.readers import dicts, name_of, namespace_of
from k8saudit.registry import Context, check
from k8saudit.releases import MinorRelease, ReleaseCalendar, Version, format_version, parse_version

SKEW_POLICY = "https://kubernetes.io/releases/version-skew-policy/"
RELEASES = "https://kubernetes.io/releases/"
PATCH_RELEASES = "https://kubernetes.io/releases/patch-releases/"
DEPRECATION_GUIDE = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"
REFRESH_HINT = "run with --refresh-releases for current data"


def node_info(node: Obj) -> dict[str, str]:
    info = (node.get("status") or {}).get("nodeInfo")
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else {}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def minor_name(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def _today(ctx: Context) -> date:
    return ctx.now.date()


def prerelease_note(version: Version) -> str:
    """` (a pre-release of 1.37.1, not the release)` after a pre-release's name, "" otherwise:
    `1.37.1-rc.0` reads like 1.37.1 but was built before 1.37.1 was final."""
    if not version.prerelease:
        return ""
    return f" (a pre-release of {format_version(version.release)}, not the release)"


def _calendar_gap(subject: Subject, version: Version, calendar: ReleaseCalendar) -> Finding:
    """A version the calendar has no entry for: too new to judge, or older than it records."""
    oldest = calendar.minors[0]
    if version[:2] < oldest.minor:
        return failed(
            subject,
            f"Kubernetes {minor_name(version)} is older than every minor in the release calendar; "
            f"even {oldest.name} reached end of life on {oldest.end_of_life.isoformat()}",
            version=format_version(version),
        )
    return unknown(
        subject,
        f"the release calendar (as of {calendar.as_of.isoformat()}) does not know Kubernetes "
        f"{minor_name(version)} yet; {REFRESH_HINT}",
        version=format_version(version),
    )


# -- VER-001 / VER-002 / VER-004: the control plane against the calendar ---------------------------


@check(
    id="VER-001",
    area="versions",
    severity="high",
    title="The control plane runs the newest patch of its minor",
    rationale="""Patch releases are where security fixes and regression fixes land: the API server
    memory leak that took Giant Swarm control planes down was fixed in 1.11.4, and CVE-2018-1002105
    (privilege escalation to cluster-admin through the API server's proxy) only in 1.10.11, 1.11.5
    and 1.12.3. A control plane several patches behind is exposed to failures that are already
    fixed and documented. A pre-release (`-alpha.N`, `-beta.N`, `-rc.N`) comes before its release
    and may lack that patch's fixes: `1.37.1-rc.0` counts as one patch behind 1.37.1.""",
    remediation="""Upgrade the control plane to the newest patch of its minor; patch upgrades carry
no API changes and can be rolled one control-plane node at a time:

```sh
kubeadm upgrade plan && kubeadm upgrade apply v1.27.16   # kubeadm
kops upgrade cluster --yes && kops rolling-update cluster --yes   # kops
```""",
    references=(PATCH_RELEASES, RELEASES, "https://github.com/kubernetes/kubernetes/issues/71411"),
)
def control_plane_patch(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    subject = Subject.cluster()
    version = inv.version
    if version is None:
        yield unknown(subject, "the API server version could not be read")
        return
    if inv.provider.name == "eks":
        yield not_applicable(
            subject,
            f"EKS applies control-plane patches itself ({inv.cluster.git_version}); only the minor is yours",
        )
        return
    minor = ctx.calendar.release(*version[:2])
    if minor is None:
        yield _calendar_gap(subject, version, ctx.calendar)
        return
    yield _patch_finding(subject, version, minor, ctx)


def patch_releases_missing(version: Version, newest: Version) -> int:
    """The patch releases up to `newest` that `version` (not newer than it) does not have: a
    pre-release also lacks the release it precedes, so 1.37.1-rc.0 misses 1.37.1."""
    return newest[2] - version[2] + (1 if version.prerelease else 0)


def _patch_finding(subject: Subject, version: Version, minor: MinorRelease, ctx: Context) -> Finding:
    calendar = ctx.calendar
    verified = calendar.latest_verified_on(minor)
    evidence = {
        "version": format_version(version),
        "newest_patch": format_version(minor.latest),
        "newest_patch_known_on": verified.isoformat(),
    }
    newest = format_version(minor.latest)
    runs = f"runs {format_version(version)}{prerelease_note(version)}"
    if version > minor.latest:
        return passed(
            subject,
            f"{runs}, newer than the calendar's newest {newest} (known on {verified.isoformat()})",
            **evidence,
        )
    behind = patch_releases_missing(version, minor.latest)
    if behind >= 2:
        return failed(subject, f"{runs}, {behind} patch releases behind {newest}", **evidence)
    if behind == 1:
        return warned(subject, f"{runs}, one patch release behind {newest}", **evidence)
    # The newest release itself: as current as the calendar is.
    branch_closed = minor.end_of_life <= verified
    age = (_today(ctx) - verified).days
    if branch_closed or age <= ctx.config.newest_patch_max_age_days:
        final = " (the final patch of its branch)" if branch_closed else ""
        return passed(subject, f"runs {newest}, the newest patch of {minor.name}{final}", **evidence)
    return unknown(
        subject,
        f"runs {newest}, the newest patch the calendar knows for {minor.name}, but that was "
        f"confirmed on {verified.isoformat()} ({age} days ago) and newer patches have likely "
        f"shipped since; {REFRESH_HINT}",
        **evidence,
    )


@check(
    id="VER-002",
    area="versions",
    severity="medium",
    title="The control plane is at most one minor behind the newest Kubernetes release",
    rationale="""Every minor is supported for about fourteen months and only three minors are
    patched at a time. A cluster two minors behind has to climb one minor at a time through every
    removed API and changed default on its way back to support, usually under time pressure; the
    upgrades that broke Zalando's and Giant Swarm's clusters were the big, rare ones.""",
    remediation="""Plan upgrades as a routine: one minor per quarter keeps the cluster within one
minor of the newest release. Upgrade the control plane first, then node pools, one minor at a
time, after checking the deprecation guide for APIs your manifests still use.""",
    references=(RELEASES, SKEW_POLICY, DEPRECATION_GUIDE),
)
def control_plane_minor(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    subject = Subject.cluster()
    version = inv.version
    if version is None:
        yield unknown(subject, "the API server version could not be read")
        return
    newest = ctx.calendar.newest_released(_today(ctx))
    evidence = {"version": format_version(version), "newest_minor": newest.name}
    if version[0] != newest.minor[0]:
        yield unknown(subject, f"Kubernetes {version[0]}.x is not a major the calendar knows", **evidence)
        return
    behind = newest.minor[1] - version[1]
    if behind <= 1 and (stale := _stale_calendar(ctx)):
        yield unknown(subject, f"runs {minor_name(version)}; {stale}", **evidence)
    elif behind < 0:
        yield passed(
            subject,
            f"runs {minor_name(version)}, newer than the calendar's newest minor {newest.name}",
            **evidence,
        )
    elif behind <= 1:
        where = "the newest minor" if behind == 0 else f"one minor behind {newest.name}"
        yield passed(subject, f"runs {minor_name(version)}, {where}", **evidence)
    elif behind == 2:
        yield warned(subject, f"runs {minor_name(version)}, two minors behind {newest.name}", **evidence)
    else:
        yield failed(subject, f"runs {minor_name(version)}, {behind} minors behind {newest.name}", **evidence)


def _stale_calendar(ctx: Context) -> str | None:
    """Why a pass on "no newer minor" cannot be trusted: a calendar older than
    `calendar_stale_days` when the cluster was read (a minor ships about every four months, so one
    has most likely shipped since). None when the calendar is recent enough. Warnings and
    failures stand either way: a newer minor only puts the cluster further behind."""
    age = ctx.calendar.age_days(_today(ctx))
    if age <= ctx.config.calendar_stale_days:
        return None
    return (
        f"the release calendar is {age} days old (as of {ctx.calendar.as_of.isoformat()}, over "
        f"calendar_stale_days = {ctx.config.calendar_stale_days}), so newer minors it does not "
        f"list have likely shipped since; {REFRESH_HINT}"
    )


@check(
    id="VER-004",
    area="versions",
    severity="critical",
    title="The control plane's Kubernetes minor is still supported",
    rationale="""After its end of life a minor gets no fixes at all: the next CVE in the API
    server or kubelet stays open for good, and the upgrade path grows by one minor every four
    months. Old, unpatched clusters are the first hotspot Giant Swarm names in its post-mortems:
    most of their incidents were bugs already fixed in newer versions.""",
    remediation="""Upgrade to a supported minor before the end-of-life date, one minor at a time
(control plane first, then nodes). On managed offerings, paid extended support buys time but
not upstream fixes: schedule the upgrade anyway.""",
    references=(RELEASES, PATCH_RELEASES, "https://endoflife.date/kubernetes"),
)
def control_plane_end_of_life(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    subject = Subject.cluster()
    version = inv.version
    if version is None:
        yield unknown(subject, "the API server version could not be read")
        return
    minor = ctx.calendar.release(*version[:2])
    if minor is None:
        yield _calendar_gap(subject, version, ctx.calendar)
        return
    days_left = (minor.end_of_life - _today(ctx)).days
    evidence = {
        "version": format_version(version),
        "end_of_life": minor.end_of_life.isoformat(),
        "days_left": days_left,
    }
    managed = (
        f" ({inv.provider.name.upper()} may still cover it with its own extended support)"
        if inv.provider.managed_control_plane
        else ""
    )
    if days_left < 0:
        yield failed(
            subject,
            f"Kubernetes {minor.name} reached end of life on {minor.end_of_life.isoformat()}, "
            f"{-days_left} days ago{managed}",
            **evidence,
        )
    elif days_left <= ctx.config.eol_warning_days:
        yield warned(
            subject,
            f"Kubernetes {minor.name} reaches end of life on {minor.end_of_life.isoformat()}, "
            f"in {days_left} days",
            **evidence,
        )
    else:
        yield passed(
            subject,
            f"Kubernetes {minor.name} is supported until {minor.end_of_life.isoformat()} "
            f"({days_left} days left)",
            **evidence,
        )


# -- VER-003 / VER-005: nodes against the control plane and each other ------------------------------


def allowed_node_skew(apiserver: Version, component: Version | None = None) -> int:
    """Minors a kubelet/kube-proxy may lag the API server: three from 1.28 for components at
    1.25 or newer, two otherwise (the version skew policy)."""
    if apiserver[:2] >= (1, 28) and (component is None or component[:2] >= (1, 25)):
        return 3
    return 2


def _skew_finding(subject: Subject, component: str, raw: str, apiserver: Version) -> Finding:
    version = parse_version(raw)
    if version is None:
        return unknown(subject, f"{component} reports no parseable version ({raw or 'empty'})")
    evidence = {"component": component, "version": raw, "apiserver": format_version(apiserver)}
    if version[0] != apiserver[0]:
        return failed(
            subject, f"{component} {raw} is a different major version than the API server", **evidence
        )
    lag = apiserver[1] - version[1]
    allowed = allowed_node_skew(apiserver, version)
    if lag < 0:
        return failed(
            subject, f"{component} {raw} is newer than the API server {format_version(apiserver)}", **evidence
        )
    if lag > allowed:
        return failed(
            subject,
            f"{component} {raw} is {lag} minors behind the API server (the policy allows {allowed})",
            **evidence,
        )
    if lag == allowed:
        return judged(
            Status.WARN,
            subject,
            f"{component} {raw} is at the policy's limit ({lag} minors behind): "
            "upgrade nodes before the next control-plane upgrade",
            evidence,
        )
    return passed(subject, f"{component} {raw} is within the skew policy", **evidence)


def kube_proxy_version(inv: Inventory, node_name: str) -> str | None:
    """The kube-proxy version running on a node, from its pod's image tag.

    The node's `nodeInfo.kubeProxyVersion` cannot be used: the kubelet fills it with its own
    version (and leaves it empty from 1.31), whatever kube-proxy really runs.
    """
    return inv.derived(_kube_proxy_versions).get(node_name)


def _kube_proxy_versions(inv: Inventory) -> dict[str, str]:
    """Node name -> the first kube-proxy image tag among its kube-system pods: one walk over
    kube-system instead of one over each node's pods."""
    versions: dict[str, str] = {}
    for pod in inv.in_namespace("pods", "kube-system"):
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        if not node or not isinstance(node, str) or node in versions:
            continue
        for container in dicts(spec.get("containers")):
            image = str(container.get("image", ""))
            tag = image_tag(image)  # `kube-proxy:v1.26.0@sha256:…` is pinned by digest, tagged v1.26.0
            if image_repository(image).rsplit("/", 1)[-1] == "kube-proxy" and parse_version(tag):
                versions[node] = tag
                break
    return versions


@check(
    id="VER-003",
    area="versions",
    severity="high",
    title="Kubelets and kube-proxies are within the version skew policy",
    rationale="""The API server is only tested against kubelets up to three minors older
    (two before 1.28) and never newer. Outside that window, removed APIs and changed behaviour
    break nodes in ways nobody tested: control-plane upgrades that strand old nodes are a
    recurring theme of the failure stories (Zalando, Giant Swarm).""",
    remediation="""Upgrade node pools (or replace nodes) to within the supported skew before the next
control-plane upgrade; upgrade the control plane first, then nodes, one minor at a time.""",
    references=(SKEW_POLICY,),
    inputs=("nodes",),
)
def node_version_skew(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    apiserver = inv.version
    if apiserver is None:
        yield unknown(Subject.cluster(), "the API server version could not be read")
        return
    # kube-proxy's version comes from its pods: without them a node is judged by its kubelet alone.
    pods_unreadable = None if inv.readable("pods") else inv.unreadable_reason("pods")
    for node in inv.items("nodes"):
        subject = inv.subject("nodes", node)
        kubelet = _skew_finding(subject, "kubelet", node_info(node).get("kubeletVersion", ""), apiserver)
        if pods_unreadable:
            yield _kube_proxy_unread(kubelet, pods_unreadable)
            continue
        findings = [kubelet]
        if proxy := kube_proxy_version(inv, name_of(node)):
            findings.append(_skew_finding(subject, "kube-proxy", proxy, apiserver))
        yield min(findings, key=lambda f: f.status.rank)


def _kube_proxy_unread(kubelet: Finding, reason: str) -> Finding:
    """A node judged by its kubelet alone, its kube-proxy's version unreadable: a kubelet outside
    the policy still fails or warns, but a kubelet within it is no pass for the node."""
    kubelet.evidence["kube_proxy"] = f"not checked: {reason}"
    if kubelet.status is not Status.PASS:
        return kubelet
    return unknown(
        kubelet.subject,
        f"{kubelet.message}; kube-proxy not checked: {reason}",
        unreadable=["pods"],
        **kubelet.evidence,
    )


@check(
    id="VER-005",
    area="versions",
    severity="medium",
    title="All nodes run the same Kubernetes minor",
    rationale="""A fleet spread over several minors is an upgrade left half done: node pools that
    behave differently (feature gates, defaults, kernel and runtime baselines), pods that work on
    some nodes and not on others, and a skew budget already spent when the next control-plane
    upgrade comes. Zalando's cluster upgrades broke exactly where configurations differed.""",
    remediation="""Finish the rolling upgrade: bring every node pool to the control plane's minor
(replace nodes rather than upgrading in place where your tooling allows), then delete the old
pools or launch templates so autoscaling cannot bring old nodes back.""",
    references=(SKEW_POLICY, "https://kubernetes.io/docs/tasks/administer-cluster/cluster-upgrade/"),
    inputs=("nodes",),
)
def mixed_node_minors(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    subject = Subject.cluster()
    nodes = inv.items("nodes")
    if not nodes:
        yield not_applicable(subject, "no nodes are registered")
        return
    by_minor: dict[str, list[str]] = {}
    unreadable = []
    for node in nodes:
        version = parse_version(node_info(node).get("kubeletVersion", ""))
        if version is None:
            unreadable.append(name_of(node))
        else:
            by_minor.setdefault(minor_name(version), []).append(name_of(node))
    if not by_minor:
        yield unknown(subject, "no node reports a parseable kubelet version")
        return
    ordered = sorted(by_minor, key=lambda m: tuple(int(p) for p in m.split(".")))
    evidence: dict[str, object] = {
        "nodes_per_minor": {m: len(by_minor[m]) for m in ordered},
        "examples": {m: sorted(by_minor[m])[:5] for m in ordered},
    }
    if unreadable:
        evidence["unparseable"] = sorted(unreadable)[:10]
    spread = ", ".join(f"{len(by_minor[m])} on {m}" for m in ordered)
    if len(ordered) == 1:
        yield passed(subject, f"all {len(nodes) - len(unreadable)} nodes run {ordered[0]}", **evidence)
    elif len(ordered) == 2:
        yield warned(subject, f"nodes run two minors ({spread}): finish the upgrade", **evidence)
    else:
        yield failed(subject, f"nodes run {len(ordered)} different minors ({spread})", **evidence)


# -- VER-006: versions with known, serious defects ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownIssue:
    id: str
    component: str  # "kube-apiserver" or "kubelet"
    summary: str
    affected: tuple[tuple[Version, Version], ...]  # [from, to) ranges
    reference: str
    grave: bool = True  # False: low-impact or narrow conditions -> warn instead of fail

    def affects(self, version: Version) -> bool:
        return any(start <= version < end for start, end in self.affected)


_ZERO: Version = (0, 0, 0)

KNOWN_ISSUES: tuple[KnownIssue, ...] = (
    KnownIssue(
        "CVE-2018-1002105",
        "kube-apiserver",
        "upgraded proxy connections let any user with exec/attach/port-forward (or aggregated API "
        "access) escalate to cluster-admin on the backend",
        ((_ZERO, (1, 10, 11)), ((1, 11, 0), (1, 11, 5)), ((1, 12, 0), (1, 12, 3))),
        "https://github.com/kubernetes/kubernetes/issues/71411",
    ),
    KnownIssue(
        "apiserver-leak-1.11",
        "kube-apiserver",
        "API server memory leak that grows until the control plane falls over "
        "(Giant Swarm post-mortem; fixed in 1.11.4 and 1.12.0)",
        (((1, 11, 1), (1, 11, 4)),),
        "https://github.com/kubernetes/kubernetes/issues/67732",
    ),
    KnownIssue(
        "CVE-2019-11253",
        "kube-apiserver",
        "YAML 'billion laughs' request bodies exhaust API server CPU and memory",
        (
            (_ZERO, (1, 13, 12)),
            ((1, 14, 0), (1, 14, 8)),
            ((1, 15, 0), (1, 15, 5)),
            ((1, 16, 0), (1, 16, 2)),
        ),
        "https://github.com/kubernetes/kubernetes/issues/83253",
    ),
    KnownIssue(
        "CVE-2020-8559",
        "kube-apiserver",
        "redirects on proxied upgrade requests let a compromised node escalate to the whole cluster",
        ((_ZERO, (1, 16, 13)), ((1, 17, 0), (1, 17, 9)), ((1, 18, 0), (1, 18, 6))),
        "https://github.com/kubernetes/kubernetes/issues/92914",
    ),
    KnownIssue(
        "CVE-2021-25741",
        "kubelet",
        "subPath symlink exchange gives containers access to the host filesystem",
        (
            (_ZERO, (1, 19, 15)),
            ((1, 20, 0), (1, 20, 11)),
            ((1, 21, 0), (1, 21, 5)),
            ((1, 22, 0), (1, 22, 2)),
        ),
        "https://github.com/kubernetes/kubernetes/issues/104980",
    ),
    KnownIssue(
        "CVE-2023-2728",
        "kube-apiserver",
        "ephemeral containers bypass the ServiceAccount admission plugin's mountable-secrets policy",
        (
            (_ZERO, (1, 24, 15)),
            ((1, 25, 0), (1, 25, 11)),
            ((1, 26, 0), (1, 26, 6)),
            ((1, 27, 0), (1, 27, 3)),
        ),
        "https://github.com/kubernetes/kubernetes/issues/118640",
        grave=False,
    ),
    KnownIssue(
        "CVE-2024-3177",
        "kube-apiserver",
        "envFrom bypasses the ServiceAccount admission plugin's mountable-secrets policy",
        ((_ZERO, (1, 27, 13)), ((1, 28, 0), (1, 28, 9)), ((1, 29, 0), (1, 29, 4))),
        "https://github.com/kubernetes/kubernetes/issues/124336",
        grave=False,
    ),
    KnownIssue(
        "CVE-2024-10220",
        "kubelet",
        "gitRepo volumes run the cloned repository's git hooks outside the container",
        ((_ZERO, (1, 28, 12)), ((1, 29, 0), (1, 29, 7)), ((1, 30, 0), (1, 30, 3))),
        "https://github.com/kubernetes/kubernetes/issues/128885",
    ),
)


def known_issues_for(component: str, version: Version) -> list[KnownIssue]:
    return [i for i in KNOWN_ISSUES if i.component == component and i.affects(version)]


def _known_issue_finding(subject: Subject, component: str, raw: str) -> Finding:
    version = parse_version(raw)
    if version is None:
        return unknown(subject, f"{component} reports no parseable version ({raw or 'empty'})")
    issues = known_issues_for(component, version)  # a pre-release counts as before its release
    evidence = {
        "component": component,
        "version": raw,
        "issues": [{"id": i.id, "summary": i.summary, "reference": i.reference} for i in issues],
    }
    named = f"{component} {raw}{prerelease_note(version)}"
    if not issues:
        return passed(subject, f"{named} has none of the known defects k8saudit tracks", **evidence)
    listed = "; ".join(f"{i.id}: {i.summary}" for i in issues)
    if any(i.grave for i in issues):
        return judged(Status.FAIL, subject, f"{named} is affected by {listed}", evidence)
    return warned(subject, f"{named} is affected by {listed}", **evidence)


@check(
    id="VER-006",
    area="versions",
    severity="critical",
    title="No control-plane or kubelet version with a known serious defect",
    rationale="""Some patch releases are known to be dangerous: before 1.10.11/1.11.5/1.12.3 any
    user allowed to exec into a pod could become cluster-admin (CVE-2018-1002105); 1.11.1 to 1.11.3
    leaked API server memory until Giant Swarm's control planes died; kubelets before the
    CVE-2021-25741 and CVE-2024-10220 fixes let pods reach the host. These are not theoretical:
    exploits and post-mortems are public. A pre-release is judged as older than its release: a
    1.30.3 release candidate is built before 1.30.3's fixes were final.""",
    remediation="""Upgrade the affected component to a fixed patch (see each issue's reference for
the fixed versions); until then apply the issue's documented mitigation (for example, restrict
exec/attach/port-forward for CVE-2018-1002105, or disable gitRepo volumes with admission policy
for CVE-2024-10220).""",
    references=(
        *dict.fromkeys(i.reference for i in KNOWN_ISSUES),
        "https://github.com/giantswarm/aws-operator/pull/1183",
    ),
)
def known_bad_versions(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if inv.version is None:
        yield unknown(Subject.cluster(), "the API server version could not be read")
    else:
        yield _known_issue_finding(Subject.cluster(), "kube-apiserver", inv.cluster.git_version)
    if not inv.readable("nodes"):
        yield unknown(Subject("Node", "", "*"), inv.unreadable_reason("nodes"))
        return
    for node in inv.items("nodes"):
        subject = inv.subject("nodes", node)
        yield _known_issue_finding(subject, "kubelet", node_info(node).get("kubeletVersion", ""))


# -- VER-007: kernels with the CFS quota throttling bug -------------------------------------------


# The kernel facts live in checks/kernel.py (shared with the resilience area's RES-003).
def _cpu_limited_pods(inv: Inventory) -> dict[str, list[str]]:
    """Node name -> "namespace/name" of its running pods with a CPU limit, sorted: one pass over the
    pods, each shared `resources` judged once."""
    judged: dict[int, bool] = {}
    by_node: dict[str, list[str]] = {}
    for pod, node, _ in inv.live_placements():
        if has_cpu_limit(pod["spec"], judged):  # a pod bound to a node has a spec
            by_node.setdefault(node, []).append(f"{namespace_of(pod)}/{name_of(pod)}")
    return {node: sorted(pods) for node, pods in by_node.items()}


@check(
    id="VER-007",
    area="versions",
    severity="medium",
    title="Nodes running CPU-limited pods have a kernel without the CFS throttling bug",
    rationale="""Linux kernels before 5.4 (and before the 4.14.154, 4.19.84 and 5.3.9 backports)
    expire unused per-CPU quota slices, so multi-threaded containers with a CPU limit are throttled
    while using a fraction of it (CVE-2019-19922). Buffer saw latency across all services until it
    removed CPU limits; its landing page became 22 times faster once throttling stopped.""",
    remediation="""Move the node pool to an image with a fixed kernel (5.4 or newer, or a stable
branch past the backport), then drain and replace the old nodes. Until then, keep
latency-sensitive pods off these nodes rather than dropping CPU limits cluster-wide:

```yaml
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kops.k8s.io/instancegroup, operator: NotIn, values: [old-kernel-nodes]}
```""",
    references=(
        "https://nvd.nist.gov/vuln/detail/CVE-2019-19922",
        "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=de53fd7aedb100f03e5d2231cfce0e4993282425",
        "https://www.kernel.org/doc/html/latest/scheduler/sched-bwc.html",
        "https://erickhun.com/posts/kubernetes-faster-services-no-cpu-limits/",
    ),
    inputs=("nodes", "pods"),
)
def cfs_throttling_kernel(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    cpu_limited = _cpu_limited_pods(inv)
    for node in inv.items("nodes"):
        subject = inv.subject("nodes", node)
        info = node_info(node)
        if info.get("operatingSystem", "linux") != "linux":
            yield not_applicable(subject, f"{info.get('operatingSystem')} node: no Linux CFS scheduler")
            continue
        raw = info.get("kernelVersion", "")
        verdict = cfs_kernel_verdict(raw)
        limited = cpu_limited.get(name_of(node), [])
        evidence = {"kernel": raw, "cpu_limited_pods": len(limited), "examples": limited[:5]}
        if verdict.version is None:
            yield unknown(subject, verdict.reason, **evidence)
        elif verdict.affected is False:
            yield passed(subject, verdict.reason, **evidence)
        elif verdict.affected is True and limited:
            yield judged(
                Status.FAIL,
                subject,
                f"{verdict.reason}; the CPU-limited pods on this node ({len(limited)}) are throttled "
                "below their limits",
                evidence,
            )
        elif verdict.affected is True:
            yield warned(
                subject,
                f"{verdict.reason}; no CPU-limited pod runs here yet, but any that is scheduled here "
                "will be throttled below its limit",
                **evidence,
            )
        elif limited:
            yield warned(
                subject,
                f"{verdict.reason}; this node runs {plural(len(limited), 'CPU-limited pod')}",
                **evidence,
            )
        else:
            yield passed(subject, f"{verdict.reason}; no CPU-limited pod runs here", **evidence)


# -- VER-008: container runtimes ----------------------------------------------------------------

# containerd minors and the end of their support (containerd RELEASES.md); extended support for
# 1.7 and 2.0 is limited to specific Kubernetes versions on GKE, so it only softens to a warning.
CONTAINERD_END_OF_LIFE: dict[tuple[int, int], date] = {
    (1, 0): date(2018, 12, 5),
    (1, 1): date(2019, 10, 23),
    (1, 2): date(2020, 10, 15),
    (1, 3): date(2021, 3, 4),
    (1, 4): date(2022, 3, 3),
    (1, 5): date(2023, 2, 28),
    (1, 6): date(2025, 8, 23),
    (1, 7): date(2026, 3, 10),
    (2, 0): date(2025, 11, 7),
    (2, 1): date(2026, 7, 3),
    (2, 2): date(2026, 11, 6),
    (2, 3): date(2028, 4, 30),
}
CONTAINERD_LIMITED_SUPPORT: dict[tuple[int, int], date] = {
    (1, 7): date(2026, 9, 30),
    (2, 0): date(2027, 3, 31),
}
DOCKERSHIM_REMOVED = (1, 24)
DOCKER_ENGINE_SUPPORTED_FROM = (23, 0)  # 20.10, the last older line, reached end of life in December 2023


def _runtime_eol_finding(
    subject: Subject, label: str, eol: date, limited_until: date | None, ctx: Context, evidence: dict
) -> Finding:
    today = _today(ctx)
    evidence["end_of_life"] = eol.isoformat()
    if today > eol:
        if limited_until and today <= limited_until:
            return warned(
                subject,
                f"{label} left community support on {eol.isoformat()}; only limited extended support "
                f"remains until {limited_until.isoformat()}",
                **evidence,
            )
        return failed(subject, f"{label} reached end of life on {eol.isoformat()}", **evidence)
    days_left = (eol - today).days
    if days_left <= ctx.config.eol_warning_days:
        return warned(
            subject, f"{label} reaches end of life in {days_left} days ({eol.isoformat()})", **evidence
        )
    return passed(subject, f"{label} is supported until {eol.isoformat()}", **evidence)


def runtime_finding(subject: Subject, node: Obj, ctx: Context) -> Finding:
    info = node_info(node)
    raw = info.get("containerRuntimeVersion", "")
    scheme, sep, version_text = raw.partition("://")
    version = parse_version(version_text) if sep else None
    evidence: dict[str, object] = {"runtime": raw}
    if version is None:
        return unknown(subject, f"unrecognised container runtime version {raw or '(empty)'!r}")
    label = f"{scheme} {version_text}"
    if scheme == "containerd":
        minor = version[:2]
        if minor in CONTAINERD_END_OF_LIFE:
            limited = CONTAINERD_LIMITED_SUPPORT.get(minor)
            return _runtime_eol_finding(subject, label, CONTAINERD_END_OF_LIFE[minor], limited, ctx, evidence)
        if minor > max(CONTAINERD_END_OF_LIFE):
            return passed(subject, f"{label} is newer than every containerd line k8saudit tracks", **evidence)
        return unknown(subject, f"{label}: no support dates known for this containerd line", **evidence)
    if scheme == "cri-o":
        # CRI-O minors follow Kubernetes minors and share their support window.
        release = ctx.calendar.release(*version[:2])
        if release is None:
            return unknown(
                subject, f"{label}: the release calendar does not know Kubernetes {minor_name(version)}"
            )
        return _runtime_eol_finding(subject, label, release.end_of_life, None, ctx, evidence)
    if scheme == "docker":
        kubelet = parse_version(info.get("kubeletVersion", ""))
        if kubelet is not None and kubelet[:2] < DOCKERSHIM_REMOVED:
            return judged(
                Status.FAIL,
                subject,
                f"{label} through dockershim, deprecated in 1.20 and removed in 1.24: "
                "this node cannot be upgraded past 1.23 without changing its runtime",
                evidence,
            )
        if version[:2] < DOCKER_ENGINE_SUPPORTED_FROM:
            return failed(
                subject, f"{label} is past its end of life (20.10 ended in December 2023)", **evidence
            )
        return warned(
            subject,
            f"{label} through cri-dockerd: an extra shim maintained outside Kubernetes; "
            "containerd runs the same images with one component less",
            **evidence,
        )
    return unknown(subject, f"{label}: k8saudit does not track support dates for this runtime", **evidence)


@check(
    id="VER-008",
    area="versions",
    severity="high",
    title="Nodes run a supported container runtime",
    rationale="""The runtime executes every container on the node; once out of support its
    escapes and resource-accounting bugs stay open. Zalando's list of ways to crash a cluster
    starts with 'switch to the latest Docker to fix the daemon freezing'. Dockershim was removed in
    Kubernetes 1.24, so Docker nodes also block the next upgrade.""",
    remediation="""Roll the node pool to an image with a supported containerd (or CRI-O matching
the kubelet's minor): create the new pool, cordon and drain the old nodes, then delete them.
For self-built images pin the runtime explicitly, e.g. `containerd.io=2.3.*`.""",
    references=(
        "https://containerd.io/releases/",
        "https://kubernetes.io/docs/tasks/administer-cluster/migrating-from-dockershim/",
        "https://kubernetes.io/blog/2022/02/17/dockershim-faq/",
        "https://endoflife.date/docker-engine",
    ),
    inputs=("nodes",),
)
def supported_container_runtime(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    for node in inv.items("nodes"):
        yield runtime_finding(inv.subject("nodes", node), node, ctx)


# -- VER-009 / VER-010: removed API versions -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemovedApi:
    removed_in: tuple[int, int]
    replacement: str  # "" when the kind itself is gone


def _removals() -> dict[tuple[str, str], RemovedApi]:
    table: dict[tuple[str, str], RemovedApi] = {}

    def add(group_version: str, kinds: str, removed_in: tuple[int, int], replacement: str) -> None:
        for kind in kinds.split():
            table[(group_version, kind)] = RemovedApi(removed_in, replacement)

    add("extensions/v1beta1", "Deployment DaemonSet ReplicaSet", (1, 16), "apps/v1")
    add("extensions/v1beta1", "NetworkPolicy", (1, 16), "networking.k8s.io/v1")
    add("extensions/v1beta1", "PodSecurityPolicy", (1, 16), "policy/v1beta1")
    add("apps/v1beta1", "Deployment StatefulSet ReplicaSet", (1, 16), "apps/v1")
    add("apps/v1beta2", "Deployment StatefulSet ReplicaSet DaemonSet", (1, 16), "apps/v1")
    add("batch/v2alpha1", "CronJob", (1, 21), "batch/v1")
    add("extensions/v1beta1", "Ingress", (1, 22), "networking.k8s.io/v1")
    add("networking.k8s.io/v1beta1", "Ingress IngressClass", (1, 22), "networking.k8s.io/v1")
    add(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration ValidatingWebhookConfiguration",
        (1, 22),
        "admissionregistration.k8s.io/v1",
    )
    add("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", (1, 22), "apiextensions.k8s.io/v1")
    add("apiregistration.k8s.io/v1beta1", "APIService", (1, 22), "apiregistration.k8s.io/v1")
    add("certificates.k8s.io/v1beta1", "CertificateSigningRequest", (1, 22), "certificates.k8s.io/v1")
    add("coordination.k8s.io/v1beta1", "Lease", (1, 22), "coordination.k8s.io/v1")
    add(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole ClusterRoleBinding Role RoleBinding",
        (1, 22),
        "rbac.authorization.k8s.io/v1",
    )
    add("scheduling.k8s.io/v1beta1", "PriorityClass", (1, 22), "scheduling.k8s.io/v1")
    add(
        "storage.k8s.io/v1beta1",
        "CSIDriver CSINode StorageClass VolumeAttachment",
        (1, 22),
        "storage.k8s.io/v1",
    )
    add("batch/v1beta1", "CronJob", (1, 25), "batch/v1")
    add("discovery.k8s.io/v1beta1", "EndpointSlice", (1, 25), "discovery.k8s.io/v1")
    add("events.k8s.io/v1beta1", "Event", (1, 25), "events.k8s.io/v1")
    add("autoscaling/v2beta1", "HorizontalPodAutoscaler", (1, 25), "autoscaling/v2")
    add("policy/v1beta1", "PodDisruptionBudget", (1, 25), "policy/v1")
    add("policy/v1beta1", "PodSecurityPolicy", (1, 25), "")
    add("node.k8s.io/v1beta1", "RuntimeClass", (1, 25), "node.k8s.io/v1")
    add("autoscaling/v2beta2", "HorizontalPodAutoscaler", (1, 26), "autoscaling/v2")
    add(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema PriorityLevelConfiguration",
        (1, 26),
        "flowcontrol.apiserver.k8s.io/v1",
    )
    add("storage.k8s.io/v1beta1", "CSIStorageCapacity", (1, 27), "storage.k8s.io/v1")
    add(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema PriorityLevelConfiguration",
        (1, 29),
        "flowcontrol.apiserver.k8s.io/v1",
    )
    add(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema PriorityLevelConfiguration",
        (1, 32),
        "flowcontrol.apiserver.k8s.io/v1",
    )
    return table


REMOVED_APIS = _removals()
# A group/version stops being served when its last kind is removed.
GROUP_VERSION_REMOVED_IN: dict[str, tuple[int, int]] = {}
for (_gv, _kind), _removal in REMOVED_APIS.items():
    GROUP_VERSION_REMOVED_IN[_gv] = max(GROUP_VERSION_REMOVED_IN.get(_gv, (0, 0)), _removal.removed_in)


def _removal_message(api_version: str, kind: str, removal: RemovedApi, server: Version) -> tuple[str, str]:
    """(status, message) for an object last applied under a removed or deprecated API version."""
    removed = f"{removal.removed_in[0]}.{removal.removed_in[1]}"
    target = f"migrate the manifest to {removal.replacement}" if removal.replacement else "replace the kind"
    if removal.removed_in <= server[:2]:
        return "fail", (
            f"last applied as {api_version} {kind}, which {minor_name(server)} no longer serves "
            f"(removed in {removed}): applying that manifest again fails; {target}"
        )
    if removal.removed_in == (server[0], server[1] + 1):
        return "fail", (
            f"last applied as {api_version} {kind}, removed in {removed}, the next minor: "
            f"upgrading breaks every deploy of this manifest; {target}"
        )
    return "warn", f"last applied as {api_version} {kind}, deprecated and removed in {removed}; {target}"


@check(
    id="VER-009",
    area="versions",
    severity="high",
    title="No object was last applied under an API version removed now or in the next minor",
    rationale="""The API server converts stored objects, but the manifests in git and the CI
    pipelines that apply them still say the old apiVersion: after the upgrade that removes it every
    deploy fails, often in the middle of an incident. Zalando's first incident began with a
    CronJob written for batch/v2alpha1; batch/v1beta1 CronJobs, extensions/v1beta1 Ingresses and
    policy/v1beta1 PodSecurityPolicies broke the same way on later upgrades.""",
    remediation="""Update the manifest (or Helm chart) to the replacement apiVersion, re-apply it,
and check the deprecation guide for changed fields:

```yaml
apiVersion: batch/v1   # was batch/v1beta1 or batch/v2alpha1
kind: CronJob
```

`kubectl convert` (the kubectl-convert plugin) rewrites old manifests.""",
    references=(
        DEPRECATION_GUIDE,
        "https://kubernetes.io/docs/reference/using-api/deprecation-policy/",
        "https://www.slideshare.net/try_except_/running-kubernetes-in-production-a-million-ways-to-crash-your-cluster-devopscon-munich-2018",
    ),
)
def applied_removed_api_versions(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    server = inv.version
    if server is None:
        yield unknown(Subject.cluster(), "the API server version could not be read")
        return
    tracked_kinds = {kind for _, kind in REMOVED_APIS}
    unreadable = sorted(
        k.kind for k in KINDS_BY_KEY.values() if k.kind in tracked_kinds and not inv.readable(k.key)
    )
    seen = 0
    for key, records in sorted(inv.applied_api_versions.items()):
        resource = KINDS_BY_KEY.get(key)
        if resource is None:
            continue
        for ref, api_version in sorted(records.items()):
            seen += 1
            namespace, _, name = ref.partition("/")
            obj = inv.get(key, namespace, name)
            subject = inv.subject(key, obj) if obj else Subject(resource.kind, namespace, name)
            removal = REMOVED_APIS.get((api_version, resource.kind))
            if removal is None:
                yield passed(subject, f"last applied as {api_version}", api_version=api_version)
                continue
            status, message = _removal_message(api_version, resource.kind, removal, server)
            evidence = {
                "api_version": api_version,
                "removed_in": f"{removal.removed_in[0]}.{removal.removed_in[1]}",
                "replacement": removal.replacement,
            }
            yield (failed if status == "fail" else warned)(subject, message, **evidence)
    if unreadable:
        yield unknown(
            Subject.cluster(),
            f"could not check {', '.join(unreadable)}: not readable",
            unreadable=unreadable,
        )
    elif not seen:
        yield not_applicable(
            Subject.cluster(), "no collected object carries kubectl's last-applied annotation"
        )


@check(
    id="VER-010",
    area="versions",
    severity="low",
    title="No group/version the server serves is removed in the next minor",
    rationale="""When the server still serves a group/version that the next minor removes,
    something may still be using it: controllers, Helm charts and scripts that nobody has touched
    since they were written. They fail only after the upgrade, which is the worst time to find out.""",
    remediation="""Before upgrading, find the clients still calling the old version: the API server
exports `apiserver_requested_deprecated_apis` (one series per group/version/resource still
requested) and the audit log records the user agent. Migrate them, then upgrade.""",
    references=(
        DEPRECATION_GUIDE,
        "https://kubernetes.io/blog/2020/09/03/warnings/#deprecation-warnings",
    ),
)
def served_versions_removed_next(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    server = inv.version
    if server is None:
        yield unknown(Subject.cluster(), "the API server version could not be read")
        return
    if not inv.served_api_versions:
        yield unknown(Subject.cluster(), "the server's API discovery was not recorded")
        return
    next_minor = (server[0], server[1] + 1)
    flagged = 0
    for group_version in inv.served_api_versions:
        removed_in = GROUP_VERSION_REMOVED_IN.get(group_version)
        if removed_in is None:
            continue
        subject = Subject(API_VERSION_KIND, "", group_version)
        removed = f"{removed_in[0]}.{removed_in[1]}"
        evidence = {"group_version": group_version, "removed_in": removed}
        if removed_in == next_minor:
            flagged += 1
            yield warned(
                subject,
                f"{group_version} is served today and removed in {removed}, the next minor",
                **evidence,
            )
        elif removed_in < next_minor:
            flagged += 1
            yield warned(
                subject,
                f"{group_version} is still served although upstream removed it in {removed}: "
                "clients using it break when the provider drops it",
                **evidence,
            )
        else:
            yield passed(subject, f"{group_version} is deprecated but served until {removed}", **evidence)
    if not flagged:
        yield passed(
            Subject.cluster(),
            f"no served group/version is removed in {next_minor[0]}.{next_minor[1]}",
            served=len(inv.served_api_versions),
        )

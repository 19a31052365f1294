"""etcd: the one place the whole cluster's state lives.

Zalando's second incident in the seeds was a single `etcdctl del` with a prefix that emptied a
production cluster's registry; their lessons were "backup etcd to S3" and "monitor the
snapshots". These checks look for evidence that someone did both — Velero Schedules and Backups,
CronJobs running `etcdctl snapshot save`, k3s/RKE2 snapshot records, kops' etcd-manager — and at
the etcd members the API lets us see: their version (known data-corruption bugs, end of life)
and whether they insist on client certificates.

A source that could not be read is `unknown` for that source: "no backups" is only ever concluded
from sources that were read completely.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from checks.cron import CronError, describe_interval, min_interval, next_run
from checks.podspec import GO_TRUE, bool_flag, command_tokens, env_value, flag_values
from k8saudit.inventory import Inventory
from k8saudit.model import Finding, Subject, failed, not_applicable, passed, unknown, warned
from k8saudit.readers import as_list, dicts, labels_of, meta, name_of, namespace_of
from k8saudit.redact import REDACTED, pod_spec_of
from k8saudit.registry import Context, check

Obj = dict[str, Any]

K8S_ETCD_BACKUP = (
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#backing-up-an-etcd-cluster"
)
K8S_ETCD_SECURITY = (
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#securing-etcd-clusters"
)
ETCD_SECURITY = "https://etcd.io/docs/v3.5/op-guide/security/"
ETCD_VERSIONING = "https://etcd.io/docs/v3.6/op-guide/versioning/"
VELERO_SCHEDULE = "https://velero.io/docs/main/api-types/schedule/"
VELERO_BACKUP = "https://velero.io/docs/main/api-types/backup/"
K3S_SNAPSHOTS = "https://docs.k3s.io/cli/etcd-snapshot"
KOPS_ETCD_BACKUPS = "https://kops.sigs.k8s.io/operations/etcd_backup_restore_encryption/"
ZALANDO_TALK = (
    "https://www.slideshare.net/try_except_/"
    "running-kubernetes-in-production-a-million-ways-to-crash-your-cluster-devopscon-munich-2018"
)

VELERO_CAVEAT = "Velero backs up Kubernetes objects through the API, not etcd itself"
ETCD_MANAGER_CAVEAT = (
    "kops' etcd-manager writes etcd backups to its backup store, but their age is not visible "
    "through the Kubernetes API (check with `etcd-manager-ctl list-backups`)"
)
SCHEDULE_LABEL = "velero.io/schedule-name"
FINISHED_VELERO_PHASES = frozenset({"Completed", "PartiallyFailed", "Failed", "FailedValidation"})


# -- small helpers --------------------------------------------------------------------------------


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp from the API as an aware datetime; None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Whole hours of the longest timedelta, a bound any float compared with it can be converted under.
_TIMEDELTA_MAX_HOURS = timedelta.max.days * 24


def backup_age_limit(ctx: Context) -> timedelta:
    """`backup_max_age_hours` as a timedelta. The policy file allows ten years at most, but a
    Config built in code can hold more than a timedelta does (1e300 hours raised OverflowError,
    making ETCD-005 a check error): such a limit, or nan, is the longest timedelta, i.e. none."""
    hours = ctx.config.backup_max_age_hours
    if not hours < _TIMEDELTA_MAX_HOURS:
        return timedelta.max
    return timedelta(hours=hours)


def format_age(age: timedelta) -> str:
    """`timedelta(days=9, hours=3)` -> "9d 3h"; negative ages (clock skew) read "just now"."""
    seconds = int(age.total_seconds())
    if seconds < 60:
        return "just now" if seconds < 0 else f"{seconds}s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def join_names(names: Iterable[str], limit: int = 5) -> str:
    items = list(names)
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def format_utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_grace(interval: timedelta) -> timedelta:
    """How long after it is due a run of a job firing (at most) every `interval` may take to
    succeed before it counts as missed: half an interval, at least an hour."""
    return max(interval / 2, timedelta(hours=1))


def missed_run(
    now: datetime, schedule: str, time_zone: str | None, since: datetime, interval: timedelta
) -> datetime | None:
    """When the first run after `since` (the last success, or the job's creation) was due, if it
    is past its grace at `now`; None while it may still come.

    The due time is the schedule's next run, so a weekday job is not overdue over the weekend;
    but never earlier than one shortest interval after `since`: a schedule that names no zone is
    read in UTC, and should the controller's clock be in another zone, a regular schedule still
    gets its full interval."""
    due = since + interval
    if (scheduled := next_run(schedule, since, time_zone)) is not None:
        due = max(due, scheduled)
    return due if now > due + run_grace(interval) else None


def runs_etcdctl_snapshot_save(words: list[str]) -> bool:
    """`etcdctl ... snapshot save <file>` anywhere in the words (also inside shell scripts)."""
    seen_etcdctl = False
    for i, word in enumerate(words):
        if posixpath.basename(word) == "etcdctl":
            seen_etcdctl = True
        elif seen_etcdctl and word == "snapshot" and i + 1 < len(words) and words[i + 1] == "save":
            return True
    return False


def last_flag_value(tokens: list[str], name: str) -> str | None:
    """The value the program sees for `--name` (the last occurrence wins), or None."""
    values = [v for v in flag_values(tokens, name) if v is not None]
    return values[-1] if values else None


def containers_of(spec: Obj) -> list[Obj]:
    return dicts(spec.get("containers"))


def _not_applicable_on_managed(inv: Inventory) -> Finding | None:
    provider = inv.provider
    if provider.managed_control_plane:
        why = f" ({provider.evidence[0]})" if provider.evidence else ""
        return not_applicable(
            Subject.cluster(),
            f"the control plane is managed by {provider.name.upper()}{why}: etcd and its backups "
            "are the provider's job",
        )
    return None


# -- etcd members visible as pods -----------------------------------------------------------------

ETCD_NAMESPACES = ("kube-system", "openshift-etcd")


def is_etcd_manager_pod(pod: Obj) -> bool:
    app = str(labels_of(pod).get("k8s-app", ""))
    if app.startswith("etcd-manager") or name_of(pod).startswith("etcd-manager-"):
        return True
    return any("etcd-manager" in str(c.get("image", "")) for c in containers_of(pod.get("spec") or {}))


SHELLS = frozenset({"sh", "bash", "ash", "dash"})
# What the shell reads as operators; a newline ends a command as well.
SHELL_OPERATOR_CHARS = ";&|()<>\n"


def shell_script(container: Obj) -> str | None:
    """The script of a `sh -c "<script>"` container (command and args together), or None."""
    words = [str(word) for word in as_list(container.get("command")) + as_list(container.get("args"))]
    if len(words) < 3 or posixpath.basename(words[0]) not in SHELLS:
        return None
    option = words[1]
    return words[2] if option.startswith("-") and not option.startswith("--") and "c" in option else None


def shell_words(script: str) -> list[str]:
    """A script's words, each run of operators or newlines a word of its own ("||", "\\n").

    Unlike a plain split, this keeps where one command ends and the next begins, so the flags of
    one command are not read as another's. [] when the quotes do not balance.
    """
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=SHELL_OPERATOR_CHARS)
    lexer.whitespace_split = True
    lexer.whitespace = " \t\r"  # a newline separates commands: it must stay a word
    try:
        return list(lexer)
    except ValueError:
        return []


def _is_shell_operator(word: str) -> bool:
    return bool(word) and all(char in SHELL_OPERATOR_CHARS for char in word)


def _etcd_in_script(words: list[str]) -> list[str] | None:
    """The etcd server command in a script's words: its `etcd` word up to the next operator.

    The server's `etcd` is a program followed by a flag: not `etcd grpc-proxy start` (OpenShift's
    etcd-metrics container runs that proxy), `nc -z etcd 2379` (a host) or `cd /var/lib/etcd`.
    """
    for start, word in enumerate(words[:-1]):
        program = not word.startswith("-") and "=" not in word and posixpath.basename(word) == "etcd"
        if program and words[start + 1].startswith("-"):
            rest = words[start + 1 :]
            end = next((i for i, later in enumerate(rest) if _is_shell_operator(later)), len(rest))
            return [word, *rest[:end]]
    return None


def etcd_server_words(container: Obj) -> list[str] | None:
    """The etcd server's command line in a container, or None when it runs no etcd server.

    etcd is the container's command; or a shell script starts it, as OpenShift's does (`exec nice
    -n -19 ionice -c2 -n0 etcd --logger=zap ...` from a release-payload image); or the container is
    named etcd and runs an etcd image's own entrypoint.
    """
    words = command_tokens(container)
    if words and posixpath.basename(words[0]) == "etcd":
        return words
    if (script := shell_script(container)) and (in_script := _etcd_in_script(shell_words(script))):
        return in_script
    if container.get("name") == "etcd" and "etcd" in str(container.get("image", "")):
        return words
    return None


def script_etcd_variables(container: Obj) -> set[str]:
    """`ETCD_*` variables a container's script sets: etcd reads them as settings."""
    script = shell_script(container) or ""
    return set(re.findall(r"\b(ETCD_[A-Z0-9_]+)=", script)) | set(
        re.findall(r"\bexport\s+(ETCD_[A-Z0-9_]+)\b", script)
    )


def etcd_container(pod: Obj) -> Obj | None:
    """The container running the etcd server in a control-plane pod, or None."""
    for container in containers_of(pod.get("spec") or {}):
        if etcd_server_words(container) is not None:
            return container
    return None


def etcd_member_pods(inv: Inventory) -> tuple[list[Obj], list[Obj]]:
    """(etcd server pods, kops etcd-manager pods) in the control-plane namespaces."""
    members, managers = [], []
    for namespace in ETCD_NAMESPACES:
        for pod in inv.in_namespace("pods", namespace):
            if is_etcd_manager_pod(pod):
                managers.append(pod)
            elif etcd_container(pod) is not None:
                members.append(pod)
    return members, managers


def image_tag_version(image: str) -> tuple[int, int, int] | None:
    """`registry.k8s.io/etcd:3.5.9-0` -> (3, 5, 9); None for digests and unversioned tags."""
    name = image.split("@", 1)[0]
    tail = name.rsplit("/", 1)[-1]
    if ":" not in tail:
        return None
    tag = tail.rsplit(":", 1)[1].lstrip("v")
    parts = tag.split("-", 1)[0].split(".")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


# -- backup evidence ------------------------------------------------------------------------------


@dataclass
class BackupSource:
    """What one kind of evidence says about cluster-state backups."""

    name: str
    state: str  # "active" (something produces backups), "inactive", "absent", "unreadable"
    detail: str
    newest_success: datetime | None = None
    newest_label: str = ""  # which object the newest success belongs to
    freshness_visible: bool = True


def velero_schedule_problem(schedule: Obj) -> str:
    """Why a Velero Schedule produces no backups ("" when it should)."""
    spec, status = schedule.get("spec") or {}, schedule.get("status") or {}
    if spec.get("paused") is True:
        return "paused"
    if status.get("phase") == "FailedValidation":
        errors = [str(e) for e in status.get("validationErrors") or []]
        return "failed validation" + (f": {join_names(errors, 2)}" if errors else "")
    return ""


def velero_backups_by_schedule(backups: list[Obj]) -> dict[str, list[Obj]]:
    by_schedule: dict[str, list[Obj]] = {}
    for backup in backups:
        schedule = labels_of(backup).get(SCHEDULE_LABEL)
        if schedule:
            by_schedule.setdefault(f"{namespace_of(backup)}/{schedule}", []).append(backup)
    return by_schedule


def velero_completed_at(backup: Obj) -> datetime | None:
    status = backup.get("status") or {}
    if status.get("phase") != "Completed":
        return None
    return parse_timestamp(status.get("completionTimestamp"))


def newest(items: Iterable[tuple[datetime | None, str]]) -> tuple[datetime | None, str]:
    best: tuple[datetime | None, str] = (None, "")
    for when, label in items:
        if when is not None and (best[0] is None or when > best[0]):
            best = (when, label)
    return best


def velero_source(inv: Inventory) -> BackupSource:
    readable = [k for k in ("velero.schedules", "velero.backups") if inv.readable(k)]
    schedules, backups = inv.items("velero.schedules"), inv.items("velero.backups")
    when, label = newest((velero_completed_at(b), f"Backup {namespace_of(b)}/{name_of(b)}") for b in backups)
    active = [s for s in schedules if not velero_schedule_problem(s)]
    names = [f"{namespace_of(s)}/{name_of(s)}" for s in active]
    if active:
        detail = f"Velero Schedule {join_names(names)} ({VELERO_CAVEAT})"
        return BackupSource("Velero", "active", detail, when, label)
    if len(readable) < 2:
        reasons = [
            inv.unreadable_reason(k) for k in ("velero.schedules", "velero.backups") if k not in readable
        ]
        return BackupSource("Velero", "unreadable", "; ".join(reasons), when, label)
    if schedules or when:
        stopped = [f"{namespace_of(s)}/{name_of(s)} ({velero_schedule_problem(s)})" for s in schedules]
        detail = (
            f"Velero Schedule {join_names(stopped)} produces no new backups"
            if stopped
            else "Velero has completed Backups but no Schedule creates new ones"
        )
        return BackupSource("Velero", "inactive", detail, when, label)
    if not inv.served("velero.schedules"):
        return BackupSource("Velero", "absent", "Velero is not installed")
    return BackupSource("Velero", "absent", "Velero is installed but has no Schedule or completed Backup")


def etcdctl_cronjobs(inv: Inventory) -> list[Obj]:
    return [cj for cj in inv.items("cronjobs") if _template_runs_snapshot(pod_spec_of("cronjobs", cj))]


def etcdctl_standalone_jobs(inv: Inventory) -> list[Obj]:
    """Jobs running etcdctl snapshot save that no collected CronJob owns (one-off runs)."""
    owned = {meta(j).get("uid") for cj in etcdctl_cronjobs(inv) for j in inv.owned_by("jobs", cj)}
    return [
        job
        for job in inv.items("jobs")
        if meta(job).get("uid") not in owned and _template_runs_snapshot(pod_spec_of("jobs", job))
    ]


def _template_runs_snapshot(spec: Obj | None) -> bool:
    if spec is None:
        return False
    containers = containers_of(spec) + [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]
    return any(runs_etcdctl_snapshot_save(command_tokens(c)) for c in containers)


def job_succeeded_at(job: Obj) -> datetime | None:
    status = job.get("status") or {}
    if not status.get("succeeded"):
        return None
    return parse_timestamp(status.get("completionTime"))


def job_failed(job: Obj) -> bool:
    status = job.get("status") or {}
    conditions = status.get("conditions") or []
    return any(
        c.get("type") == "Failed" and c.get("status") == "True" for c in conditions if isinstance(c, dict)
    )


def cronjob_last_success(inv: Inventory, cronjob: Obj) -> datetime | None:
    recorded = parse_timestamp((cronjob.get("status") or {}).get("lastSuccessfulTime"))
    from_jobs, _ = newest((job_succeeded_at(j), "") for j in inv.owned_by("jobs", cronjob))
    candidates = [t for t in (recorded, from_jobs) if t is not None]
    return max(candidates) if candidates else None


def etcdctl_source(inv: Inventory) -> BackupSource:
    if not (inv.readable("cronjobs") and inv.readable("jobs")):
        reasons = [inv.unreadable_reason(k) for k in ("cronjobs", "jobs") if not inv.readable(k)]
        return BackupSource("etcdctl snapshots", "unreadable", "; ".join(reasons))
    cronjobs, jobs = etcdctl_cronjobs(inv), etcdctl_standalone_jobs(inv)
    when, label = newest(
        [(cronjob_last_success(inv, cj), f"CronJob {namespace_of(cj)}/{name_of(cj)}") for cj in cronjobs]
        + [(job_succeeded_at(j), f"Job {namespace_of(j)}/{name_of(j)}") for j in jobs]
    )
    running = [cj for cj in cronjobs if (cj.get("spec") or {}).get("suspend") is not True]
    names = [f"{namespace_of(cj)}/{name_of(cj)}" for cj in running]
    if running:
        detail = f"CronJob {join_names(names)} runs etcdctl snapshot save"
        return BackupSource("etcdctl snapshots", "active", detail, when, label)
    if cronjobs or jobs:
        what = "suspended CronJob" if cronjobs else "one-off Job"
        return BackupSource(
            "etcdctl snapshots", "inactive", f"only a {what} runs etcdctl snapshot save", when, label
        )
    return BackupSource("etcdctl snapshots", "absent", "no CronJob or Job runs etcdctl snapshot save")


def k3s_snapshot_time(snapshot: Obj) -> datetime | None:
    status = snapshot.get("status") or {}
    if status.get("readyToUse") is not True:
        return None
    return parse_timestamp(status.get("creationTime"))


def k3s_snapshot_attempted_at(snapshot: Obj) -> datetime | None:
    """When a snapshot was taken, or failed."""
    return k3s_snapshot_time(snapshot) or _snapshot_error_time(snapshot)


def is_on_demand_snapshot(snapshot: Obj) -> bool:
    """Taken by hand (`k3s etcd-snapshot save`, named "on-demand-<node>-<time>" by default), not by
    the schedule (whose snapshots are named "etcd-snapshot-<node>-<time>")."""
    name = (snapshot.get("spec") or {}).get("snapshotName") or name_of(snapshot).removeprefix("local-")
    return str(name).removeprefix("s3-").startswith("on-demand-")


def k3s_source(inv: Inventory, ctx: Context) -> BackupSource:
    key, source = "k3s.etcdsnapshotfiles", "k3s/RKE2 etcd snapshots"
    if not inv.readable(key):
        return BackupSource(source, "unreadable", inv.unreadable_reason(key))
    snapshots = inv.items(key)
    when, label = newest((k3s_snapshot_time(s), f"ETCDSnapshotFile {name_of(s)}") for s in snapshots)
    if not snapshots:
        if not inv.served(key):
            return BackupSource(source, "absent", "ETCDSnapshotFile is not served (not k3s/RKE2)")
        return BackupSource(source, "absent", "no k3s/RKE2 etcd snapshot is recorded")
    # The schedule lives in the servers' config files, out of the API's sight. What shows that it
    # runs is a scheduled snapshot within the backup age limit, taken or failed (as a CronJob whose
    # runs fail is still a mechanism); old records and one-off snapshots show no such thing.
    window = backup_age_limit(ctx)
    scheduled = [s for s in snapshots if not is_on_demand_snapshot(s)]
    recent = [
        s for s in scheduled if (t := k3s_snapshot_attempted_at(s)) is not None and ctx.now - t <= window
    ]
    if recent:
        places = sorted({_snapshot_group(s) for s in recent})
        detail = (
            f"the k3s/RKE2 snapshot schedule ran in the last {format_age(window)} "
            f"({len(recent)} snapshot(s) on {join_names(places)})"
        )
        return BackupSource(source, "active", detail, when, label)
    attempted, _ = newest((k3s_snapshot_attempted_at(s), "") for s in scheduled or snapshots)
    age = f"{format_age(ctx.now - attempted)} old" if attempted else "of unknown age"
    detail = (
        f"no scheduled k3s/RKE2 snapshot was attempted in the last {format_age(window)} (the newest "
        f"is {age}): the snapshot schedule is off or stopped"
        if scheduled
        else f"only on-demand k3s/RKE2 snapshots are recorded, the newest {age}: none is taken on a schedule"
    )
    return BackupSource(source, "inactive", detail, when, label)


def etcd_manager_source(inv: Inventory) -> BackupSource:
    if not inv.readable("pods"):
        return BackupSource("kops etcd-manager", "unreadable", inv.unreadable_reason("pods"))
    _, managers = etcd_member_pods(inv)
    if not managers:
        return BackupSource("kops etcd-manager", "absent", "no etcd-manager pod in kube-system")
    stores = sorted(
        {
            store
            for pod in managers
            for c in containers_of(pod.get("spec") or {})
            if (store := last_flag_value(command_tokens(c), "backup-store"))
        }
    )
    where = f" to {join_names(stores, 2)}" if stores else ""
    detail = f"kops etcd-manager ({len(managers)} pods) backs etcd up{where}; {ETCD_MANAGER_CAVEAT}"
    return BackupSource("kops etcd-manager", "active", detail, freshness_visible=False)


def backup_sources(inv: Inventory, ctx: Context) -> list[BackupSource]:
    return [velero_source(inv), etcdctl_source(inv), k3s_source(inv, ctx), etcd_manager_source(inv)]


def _source_evidence(sources: list[BackupSource]) -> dict[str, str]:
    return {s.name: f"{s.state}: {s.detail}" for s in sources}


# -- ETCD-001: a backup mechanism exists ----------------------------------------------------------


@check(
    id="ETCD-001",
    area="etcd",
    severity="critical",
    title="Cluster state is backed up by an active mechanism",
    rationale="""etcd holds every object of the cluster. At Zalando one mistyped `etcdctl del` with
    a prefix wiped a production cluster's registry, and the lesson was to back etcd up to S3 and
    watch the snapshots. On a self-managed control plane nobody else keeps a copy: without a
    scheduled backup, a bad command, a corrupted member or a lost quorum means rebuilding the
    cluster from memory. Old backups or a one-off snapshot are not a mechanism; k3s/RKE2 keep
    their snapshot schedule in the servers' config files, so there only a scheduled snapshot
    recorded within the backup age limit (`backup_max_age_hours`) shows that the schedule runs.""",
    remediation="""Schedule etcd snapshots off the cluster: on kops keep etcd-manager's backup store,
on k3s/RKE2 keep `etcd-snapshot-schedule-cron` (with S3), on kubeadm run a CronJob on a
control-plane node, and add Velero for object-level restores:

```yaml
apiVersion: batch/v1
kind: CronJob
metadata: {name: etcd-backup, namespace: kube-system}
spec:
  schedule: "0 */6 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      activeDeadlineSeconds: 900
      template:
        spec:
          hostNetwork: true
          nodeSelector: {node-role.kubernetes.io/control-plane: ""}
          tolerations: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
          restartPolicy: OnFailure
          containers:
          - name: snapshot
            image: registry.k8s.io/etcd:3.5.16-0
            command: [sh, -c, "etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/pki/ca.crt
              --cert=/pki/healthcheck-client.crt --key=/pki/healthcheck-client.key
              snapshot save /backup/etcd-$(date +%F-%H%M).db"]
            # mount /etc/kubernetes/pki/etcd at /pki and ship /backup off the node (S3, NFS)
```""",
    references=(K8S_ETCD_BACKUP, KOPS_ETCD_BACKUPS, K3S_SNAPSHOTS, VELERO_SCHEDULE, ZALANDO_TALK),
)
def backup_mechanism(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if (managed := _not_applicable_on_managed(inv)) is not None:
        yield managed
        return
    sources = backup_sources(inv, ctx)
    evidence = _source_evidence(sources)
    active = [s for s in sources if s.state == "active"]
    if active:
        yield passed(Subject.cluster(), "; ".join(s.detail for s in active), sources=evidence)
        return
    unreadable = [s for s in sources if s.state == "unreadable"]
    if unreadable:
        yield unknown(
            Subject.cluster(),
            "no active backup mechanism found among the sources that could be read, and "
            f"{join_names(s.name for s in unreadable)} could not be checked: "
            + "; ".join(s.detail for s in unreadable),
            sources=evidence,
        )
        return
    inactive = [s for s in sources if s.state == "inactive"]
    provider = inv.provider
    # Only an unknown provider with no visible control plane might be a managed one we missed.
    caveat = (
        " (the provider was not recognised; if a cloud provider runs your control plane, waive this)"
        if provider.name == "unknown" and not provider.evidence
        else ""
    )
    if inactive:
        message = "nothing produces new backups: " + "; ".join(s.detail for s in inactive)
    else:
        kind = "" if provider.name == "unknown" else f" ({provider.name})"
        message = (
            f"no evidence of etcd or cluster-state backups on this self-managed{kind} control plane: "
            "no Velero Schedule, no etcdctl snapshot CronJob, no k3s/RKE2 snapshot, no etcd-manager"
        )
    yield failed(Subject.cluster(), message + caveat, sources=evidence, provider=provider.name)


# -- ETCD-002: Velero schedules -------------------------------------------------------------------


def _interval(expression: object) -> tuple[timedelta | None, str]:
    try:
        return min_interval(str(expression)), ""
    except CronError as exc:
        return None, str(exc)


def _phase(backup: Obj | None) -> str:
    return str(((backup or {}).get("status") or {}).get("phase", ""))


def _velero_schedule_finding(
    inv: Inventory, ctx: Context, schedule: Obj, backups: list[Obj] | None
) -> Finding:
    subject = inv.subject("velero.schedules", schedule)
    spec, status = schedule.get("spec") or {}, schedule.get("status") or {}
    interval, cron_error = _interval(spec.get("schedule", ""))
    evidence: dict[str, Any] = {
        "schedule": str(spec.get("schedule", "")),
        "paused": spec.get("paused") is True,
    }
    last_success, last_finished = _velero_history(backups, evidence)
    if last_success is None and backups is None:
        last_success = parse_timestamp(status.get("lastBackup"))  # an attempt: the best we can see
    age_text = "it never completed a backup"
    if last_success is not None:
        evidence["last_success"] = last_success.isoformat()
        evidence["age_hours"] = round((ctx.now - last_success).total_seconds() / 3600, 1)
        age_text = f"last completed backup {format_age(ctx.now - last_success)} ago"
    if problem := velero_schedule_problem(schedule):
        return failed(
            subject,
            f"Schedule is {problem}: no new backups are taken; {age_text} ({VELERO_CAVEAT})",
            **evidence,
        )
    if interval is None:
        return failed(subject, f"schedule {spec.get('schedule')!r} is invalid: {cron_error}", **evidence)
    every = describe_interval(interval)
    evidence["runs_every"] = every
    if _phase(last_finished) in ("Failed", "FailedValidation"):
        reason = ((last_finished or {}).get("status") or {}).get("failureReason") or "no reason recorded"
        return failed(
            subject,
            f"the last backup {name_of(last_finished or {})} failed ({reason}); {age_text}",
            **evidence,
        )
    expression = str(spec.get("schedule", ""))
    if last_success is None:
        created = parse_timestamp(meta(schedule).get("creationTimestamp"))
        if created is not None and missed_run(ctx.now, expression, None, created, interval) is None:
            return passed(subject, f"new Schedule (created {format_age(ctx.now - created)} ago)", **evidence)
        return failed(subject, f"runs every {every} but {age_text}", **evidence)
    if (due := missed_run(ctx.now, expression, None, last_success, interval)) is not None:
        evidence["missed_run_due"] = due.isoformat()
        return failed(
            subject,
            f"the run due {format_utc(due)} left no completed backup (the {age_text}): backups have stopped",
            **evidence,
        )
    if _phase(last_finished) == "PartiallyFailed":
        errors = ((last_finished or {}).get("status") or {}).get("errors", "some")
        return warned(
            subject,
            f"the last backup {name_of(last_finished or {})} partially failed ({errors} errors)",
            **evidence,
        )
    return passed(subject, f"runs every {every}; {age_text}", **evidence)


def _velero_history(
    backups: list[Obj] | None, evidence: dict[str, Any]
) -> tuple[datetime | None, Obj | None]:
    """(newest completion of a Completed backup, newest finished backup) of one schedule."""
    if backups is None:
        evidence["backups"] = "not readable: judged from the Schedule's lastBackup"
        return None, None
    last_success, _ = newest((velero_completed_at(b), "") for b in backups)
    finished = [b for b in backups if _phase(b) in FINISHED_VELERO_PHASES]
    last_finished = max(finished, key=_velero_started, default=None)
    if last_finished is not None:
        evidence["last_backup"] = name_of(last_finished)
        evidence["last_backup_phase"] = _phase(last_finished)
    return last_success, last_finished


def _velero_started(backup: Obj) -> datetime:
    status = backup.get("status") or {}
    started = parse_timestamp(status.get("startTimestamp")) or parse_timestamp(
        meta(backup).get("creationTimestamp")
    )
    return started or datetime.min.replace(tzinfo=UTC)


@check(
    id="ETCD-002",
    area="etcd",
    severity="high",
    title="Velero Schedules are running, succeeding and on time",
    rationale="""A backup schedule that was paused for a migration, fails validation after a
    storage-location change, or quietly fails every night looks like a backup strategy until the
    day a restore is needed. Zalando's lesson after losing a cluster's state was not only to take
    backups but to monitor them. Velero restores Kubernetes objects (not etcd itself), which is
    what most teams reach for after an accidental deletion. Backups have stopped when the run the
    schedule called for after the last completed backup (a weekday schedule skips the weekend) is
    more than half an interval (at least an hour) late.""",
    remediation="""Unpause the schedule and fix the cause of failed backups (`velero backup describe
<name> --details`, `velero backup logs <name>`), then alert on the age of the newest completed
backup (`velero_backup_last_successful_timestamp`):

```sh
velero schedule unpause cluster-daily
velero backup create --from-schedule cluster-daily   # prove it works now
```""",
    references=(VELERO_SCHEDULE, VELERO_BACKUP, ZALANDO_TALK),
)
def velero_schedules(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if not inv.served("velero.schedules"):
        yield not_applicable(
            Subject.cluster(), "Velero is not installed (no velero.io Schedule kind is served)"
        )
        return
    if not inv.readable("velero.schedules"):
        yield unknown(Subject.cluster(), inv.unreadable_reason("velero.schedules"))
        return
    schedules = inv.items("velero.schedules")
    if not schedules:
        yield not_applicable(Subject.cluster(), "Velero is installed but defines no Schedule")
        return
    by_schedule = (
        velero_backups_by_schedule(inv.items("velero.backups")) if inv.readable("velero.backups") else None
    )
    for schedule in schedules:
        backups = (
            None
            if by_schedule is None
            else by_schedule.get(f"{namespace_of(schedule)}/{name_of(schedule)}", [])
        )
        yield _velero_schedule_finding(inv, ctx, schedule, backups)


# -- ETCD-003: etcdctl snapshot CronJobs ----------------------------------------------------------


def _etcdctl_cronjob_finding(inv: Inventory, ctx: Context, cronjob: Obj) -> Finding:
    subject = inv.subject("cronjobs", cronjob)
    spec = cronjob.get("spec") or {}
    interval, cron_error = _interval(spec.get("schedule", ""))
    evidence: dict[str, Any] = {
        "schedule": str(spec.get("schedule", "")),
        "suspended": spec.get("suspend") is True,
    }
    last_success = cronjob_last_success(inv, cronjob)
    if last_success is not None:
        evidence["last_success"] = last_success.isoformat()
        evidence["age_hours"] = round((ctx.now - last_success).total_seconds() / 3600, 1)
    age_text = f"last successful snapshot {format_age(ctx.now - last_success)} ago" if last_success else ""
    if spec.get("suspend") is True:
        return failed(
            subject, f"is suspended: no etcd snapshots are taken; {age_text or 'none succeeded'}", **evidence
        )
    if interval is None:
        return failed(subject, f"schedule {spec.get('schedule')!r} is invalid: {cron_error}", **evidence)
    evidence["runs_every"] = describe_interval(interval)
    jobs = sorted(
        inv.owned_by("jobs", cronjob),
        key=lambda j: parse_timestamp(meta(j).get("creationTimestamp")) or ctx.now,
    )
    if jobs and job_failed(jobs[-1]):
        return failed(
            subject, f"the newest run {name_of(jobs[-1])} failed; {age_text or 'none succeeded'}", **evidence
        )
    expression, time_zone = str(spec.get("schedule", "")), str(spec.get("timeZone") or "") or None
    if last_success is None:
        created = parse_timestamp(meta(cronjob).get("creationTimestamp"))
        if created is not None and missed_run(ctx.now, expression, time_zone, created, interval) is None:
            return passed(subject, "new CronJob, first snapshot pending", **evidence)
        return failed(subject, f"runs every {describe_interval(interval)} but never succeeded", **evidence)
    if (due := missed_run(ctx.now, expression, time_zone, last_success, interval)) is not None:
        evidence["missed_run_due"] = due.isoformat()
        return failed(
            subject,
            f"the run due {format_utc(due)} left no successful snapshot (the {age_text}): "
            "snapshots have stopped",
            **evidence,
        )
    return passed(subject, f"runs every {describe_interval(interval)}; {age_text}", **evidence)


@check(
    id="ETCD-003",
    area="etcd",
    severity="high",
    title="etcdctl snapshot CronJobs run and succeed on schedule",
    rationale="""A CronJob that runs `etcdctl snapshot save` is only a backup while it keeps
    succeeding: expired client certificates, a full disk or a suspended CronJob stop it silently,
    and nobody notices until the snapshot is needed. Zalando's post-mortem asks for exactly this:
    back etcd up, and monitor the snapshots. Snapshots have stopped when the run the schedule
    (in `spec.timeZone`, UTC otherwise) called for after the last success is more than half an
    interval (at least an hour) late.""",
    remediation="""Resume the CronJob and fix the failing run (`kubectl -n <ns> logs job/<job>`), and
alert when `kube_cronjob_status_last_successful_time` is older than two intervals:

```sh
kubectl -n kube-system patch cronjob etcd-backup -p '{"spec":{"suspend":false}}'
kubectl -n kube-system create job --from=cronjob/etcd-backup etcd-backup-now
```""",
    references=(
        K8S_ETCD_BACKUP,
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/",
        ZALANDO_TALK,
    ),
    inputs=("cronjobs", "jobs"),
)
def etcdctl_snapshot_jobs(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    cronjobs, jobs = etcdctl_cronjobs(inv), etcdctl_standalone_jobs(inv)
    if not cronjobs and not jobs:
        yield not_applicable(Subject.cluster(), "no CronJob or Job runs etcdctl snapshot save")
        return
    for cronjob in cronjobs:
        yield _etcdctl_cronjob_finding(inv, ctx, cronjob)
    for job in jobs:
        subject = inv.subject("jobs", job)
        done = job_succeeded_at(job)
        if done is None:
            yield failed(subject, "one-off etcd snapshot Job did not succeed", succeeded=False)
        else:
            yield warned(
                subject,
                f"one-off etcd snapshot Job ({format_age(ctx.now - done)} ago): a single manual snapshot is "
                "not a backup schedule",
                completed=done.isoformat(),
            )


# -- ETCD-004: k3s/RKE2 snapshots -----------------------------------------------------------------


def _snapshot_group(snapshot: Obj) -> str:
    spec = snapshot.get("spec") or {}
    if spec.get("s3"):
        bucket = (spec.get("s3") or {}).get("bucket", "")
        return f"s3://{bucket}" if bucket else "s3"
    return f"node {spec.get('nodeName') or '?'}"


def _snapshot_error_time(snapshot: Obj) -> datetime | None:
    error = (snapshot.get("status") or {}).get("error")
    if not isinstance(error, dict):
        return None
    return parse_timestamp(error.get("time")) or parse_timestamp(meta(snapshot).get("creationTimestamp"))


def _k3s_group_finding(inv: Inventory, ctx: Context, group: str, snapshots: list[Obj]) -> Finding:
    threshold = backup_age_limit(ctx)
    ready = [(t, s) for s in snapshots if (t := k3s_snapshot_time(s)) is not None]
    errored = [(t, s) for s in snapshots if (t := _snapshot_error_time(s)) is not None]
    newest_ready = max(ready, key=lambda pair: pair[0], default=None)
    newest_error = max(errored, key=lambda pair: pair[0], default=None)
    # The subject is where snapshots are kept (a node, or the cluster for S3): snapshot file names
    # change with every run, so a finding about them would never match across two scans.
    node = str((snapshots[0].get("spec") or {}).get("nodeName") or "")
    subject = Subject("Node", "", node) if group.startswith("node ") and node else Subject.cluster()
    evidence: dict[str, Any] = {
        "location": group,
        "snapshots": len(snapshots),
        "threshold_hours": threshold.total_seconds() / 3600,
    }
    if newest_error and (newest_ready is None or newest_error[0] > newest_ready[0]):
        message = str(((newest_error[1].get("status") or {}).get("error") or {}).get("message", "no message"))
        evidence.update(error=message, snapshot=name_of(newest_error[1]))
        return failed(subject, f"the newest snapshot on {group} failed: {message}", **evidence)
    if newest_ready is None:
        return failed(subject, f"no snapshot on {group} is ready to use", **evidence)
    age = ctx.now - newest_ready[0]
    evidence.update(newest=newest_ready[0].isoformat(), snapshot=name_of(newest_ready[1]))
    evidence["age_hours"] = round(age.total_seconds() / 3600, 1)
    if age > threshold:
        return failed(
            subject,
            f"the newest snapshot on {group} is {format_age(age)} old (limit {format_age(threshold)})",
            **evidence,
        )
    return passed(subject, f"the newest snapshot on {group} is {format_age(age)} old", **evidence)


@check(
    id="ETCD-004",
    area="etcd",
    severity="high",
    title="k3s/RKE2 etcd snapshots are recent and error-free",
    rationale="""k3s and RKE2 snapshot their embedded etcd on a schedule and record each snapshot
    as an ETCDSnapshotFile, including failed ones. A snapshot that failed (full disk, S3
    credentials rotated) or stopped coming leaves the cluster one bad command away from losing its
    state, as Zalando's `etcdctl del` incident showed.""",
    remediation="""Fix the snapshot error shown (`journalctl -u k3s | grep -i snapshot`), keep the
schedule on, and copy snapshots off the node:

```yaml
# /etc/rancher/k3s/config.yaml (or /etc/rancher/rke2/config.yaml)
etcd-snapshot-schedule-cron: "0 */6 * * *"
etcd-snapshot-retention: 20
etcd-s3: true
etcd-s3-bucket: cluster-backups
```""",
    references=(K3S_SNAPSHOTS, "https://docs.rke2.io/datastore/backup_restore", ZALANDO_TALK),
)
def k3s_snapshots(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    key = "k3s.etcdsnapshotfiles"
    if not inv.served(key):
        yield not_applicable(Subject.cluster(), "not k3s/RKE2: the ETCDSnapshotFile kind is not served")
        return
    if not inv.readable(key):
        yield unknown(Subject.cluster(), inv.unreadable_reason(key))
        return
    snapshots = inv.items(key)
    if not snapshots:
        etcd_nodes = [
            name_of(n)
            for n in inv.items("nodes")
            if labels_of(n).get("node-role.kubernetes.io/etcd") == "true"
        ]
        if etcd_nodes:
            yield failed(
                Subject.cluster(),
                f"etcd runs on {join_names(etcd_nodes)} but no snapshot has ever been recorded",
                etcd_nodes=etcd_nodes,
            )
        else:
            yield not_applicable(
                Subject.cluster(), "no embedded etcd member is visible (SQLite or external datastore)"
            )
        return
    groups: dict[str, list[Obj]] = {}
    for snapshot in snapshots:
        groups.setdefault(_snapshot_group(snapshot), []).append(snapshot)
    for group, members in sorted(groups.items()):
        yield _k3s_group_finding(inv, ctx, group, members)


# -- ETCD-005: the newest backup is fresh ---------------------------------------------------------


@check(
    id="ETCD-005",
    area="etcd",
    severity="high",
    title="The newest cluster-state backup is recent",
    rationale="""What a restore can give back is the newest good backup. If it is days old, every
    Deployment, Secret and RBAC change made since is lost with the cluster; Zalando's answer to
    losing a registry was backups plus monitoring of the snapshots. The age limit is configurable
    (`backup_max_age_hours`, 24 h by default).""",
    remediation="""Make the backup job run at least as often as the limit and alert on its age; the
per-source checks (ETCD-002 to ETCD-004) say which mechanism stopped. For a daily limit:

```yaml
spec:
  schedule: "0 */6 * * *"   # four chances a day to stay under 24 h
```""",
    references=(K8S_ETCD_BACKUP, VELERO_BACKUP, K3S_SNAPSHOTS, ZALANDO_TALK),
)
def newest_backup_is_fresh(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if (managed := _not_applicable_on_managed(inv)) is not None:
        yield managed
        return
    threshold = backup_age_limit(ctx)
    sources = backup_sources(inv, ctx)
    when, label = newest((s.newest_success, s.newest_label) for s in sources)
    evidence: dict[str, Any] = {
        "threshold_hours": ctx.config.backup_max_age_hours,
        "sources": _source_evidence(sources),
    }
    if when is not None:
        evidence.update(
            newest=label,
            completed=when.isoformat(),
            age_hours=round((ctx.now - when).total_seconds() / 3600, 1),
        )
        if ctx.now - when <= threshold:
            yield passed(
                Subject.cluster(), f"newest backup: {label}, {format_age(ctx.now - when)} old", **evidence
            )
            return
    newest_text = (
        f"the newest visible backup ({label}) is {format_age(ctx.now - when)} old"
        if when
        else "no completed backup is visible"
    )
    hidden = [s for s in sources if s.state == "active" and not s.freshness_visible]
    if hidden:
        yield unknown(Subject.cluster(), f"{newest_text}; {ETCD_MANAGER_CAVEAT}", **evidence)
        return
    unreadable = [s for s in sources if s.state == "unreadable"]
    if unreadable:
        yield unknown(
            Subject.cluster(),
            f"{newest_text}, and {join_names(s.name for s in unreadable)} could not be read: "
            + "; ".join(s.detail for s in unreadable),
            **evidence,
        )
        return
    yield failed(Subject.cluster(), f"{newest_text} (limit {format_age(threshold)})", **evidence)


# -- ETCD-006: etcd version -----------------------------------------------------------------------

EtcdVersion = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class EtcdBug:
    first: EtcdVersion
    last: EtcdVersion
    fixed_in: str
    summary: str
    reference: str

    def affects(self, version: EtcdVersion) -> bool:
        return self.first <= version <= self.last


# etcd releases with known data-loss or data-inconsistency bugs. Kubernetes' own guidance is to
# run at least 3.4.22 / 3.5.6 in production (kubernetes/website#40816).
ETCD_DATA_BUGS: tuple[EtcdBug, ...] = (
    EtcdBug(
        (3, 4, 0),
        (3, 4, 7),
        "3.4.8",
        "with authentication enabled, members can apply the same write differently (data corruption)",
        "https://github.com/etcd-io/etcd/issues/11651",
    ),
    EtcdBug(
        (3, 5, 0),
        (3, 5, 2),
        "3.5.3",
        "a member killed under load can lose committed writes and diverge from the others "
        "(the 3.5 data-inconsistency bug)",
        "https://github.com/etcd-io/etcd/issues/13766",
    ),
    EtcdBug(
        (3, 4, 20),
        (3, 4, 21),
        "3.4.22",
        "with authentication enabled, a newly added member can end up with different data",
        "https://github.com/kubernetes/website/pull/40816",
    ),
    EtcdBug(
        (3, 5, 0),
        (3, 5, 5),
        "3.5.6",
        "a crash during defragmentation can leave members with inconsistent revisions "
        "(and 3.5.5 has the auth member-add inconsistency)",
        "https://github.com/kubernetes/kubernetes/pull/114064",
    ),
)

# etcd supports the two newest minors. 3.4 lost regular support when 3.6.0 shipped (2025-05-15)
# and its extended support ended with its final patch in June 2026 (etcd-io/website#1195).
ETCD_REGULAR_SUPPORT_ENDED = {(3, 4): date(2025, 5, 15)}
ETCD_END_OF_LIFE = {(3, 4): date(2026, 6, 1)}
OLDEST_SUPPORTED_MINOR = (3, 4)


def etcd_version_verdict(version: EtcdVersion, today: date) -> tuple[str, str, list[str]]:
    """(status "fail"/"warn"/"pass", message, references) for one etcd version."""
    text = ".".join(map(str, version))
    bugs = [bug for bug in ETCD_DATA_BUGS if bug.affects(version)]
    if bugs:
        fixed = max((tuple(int(p) for p in b.fixed_in.split(".")) for b in bugs), default=version)
        problems = "; ".join(f"{b.summary} (fixed in {b.fixed_in})" for b in bugs)
        return (
            "fail",
            f"etcd {text} has known data-safety bugs: {problems}; "
            f"upgrade to at least {'.'.join(map(str, fixed))}",
            [b.reference for b in bugs],
        )
    minor = version[:2]
    end = ETCD_END_OF_LIFE.get(minor)
    if minor < OLDEST_SUPPORTED_MINOR or (end is not None and today >= end):
        since = f" since {end.isoformat()}" if end else ""
        return (
            "fail",
            f"etcd {text}: the {minor[0]}.{minor[1]} line is end of life{since} and gets no fixes",
            [ETCD_VERSIONING],
        )
    regular_end = ETCD_REGULAR_SUPPORT_ENDED.get(minor)
    if regular_end is not None and today >= regular_end:
        return (
            "warn",
            (
                f"etcd {text}: the {minor[0]}.{minor[1]} line only gets critical fixes since "
                f"{regular_end.isoformat()} and reaches end of life on "
                f"{end.isoformat() if end else 'an announced date'}: plan the upgrade"
            ),
            [ETCD_VERSIONING],
        )
    return "pass", f"etcd {text} has no known data-safety bug and is supported", []


def _etcd_manager_versions(pod: Obj) -> list[str]:
    """etcd versions a kops etcd-manager pod carries (its init-etcd-* containers)."""
    versions = []
    for container in dicts((pod.get("spec") or {}).get("initContainers")):
        if str(container.get("name", "")).startswith("init-etcd-"):
            parsed = image_tag_version(str(container.get("image", "")))
            if parsed:
                versions.append(".".join(map(str, parsed)))
    return sorted(set(versions))


@check(
    id="ETCD-006",
    area="etcd",
    severity="high",
    title="etcd runs a supported version without known data-corruption bugs",
    rationale="""Several etcd releases could silently lose or diverge data: 3.5.0-3.5.2 could drop
    committed writes on a member killed under load (the etcd team advised against them in
    production), 3.5.0-3.5.5 could corrupt revisions when crashing during defragmentation, and
    early 3.4 releases corrupted data with authentication enabled. Divergent members answer the
    API server differently, and a backup taken from one may already be wrong. End-of-life lines
    get no fixes for the next such bug.""",
    remediation="""Upgrade etcd to the newest patch of a supported line (3.5.6+ at the very least;
3.5.x or 3.6.x today). On kubeadm, set the image in the ClusterConfiguration and roll the
control-plane nodes one at a time:

```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
etcd:
  local:
    imageTag: 3.5.16-0
```""",
    references=(
        "https://github.com/etcd-io/etcd/blob/main/Documentation/postmortems/v3.5-data-inconsistency.md",
        "https://github.com/kubernetes/website/pull/40816",
        ETCD_VERSIONING,
    ),
    inputs=("pods",),
)
def etcd_version(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if (managed := _not_applicable_on_managed(inv)) is not None:
        yield managed
        return
    members, managers = etcd_member_pods(inv)
    today = ctx.now.date()
    for pod in members:
        subject = inv.subject("pods", pod)
        container = etcd_container(pod) or {}
        image = str(container.get("image", ""))
        version = image_tag_version(image)
        if version is None:
            yield unknown(
                subject,
                f"etcd version not known from the image {image or '(none)'}: it carries no version tag",
                image=image,
            )
            continue
        status, message, refs = etcd_version_verdict(version, today)
        make = {"fail": failed, "warn": warned, "pass": passed}[status]
        yield make(subject, message, image=image, version=".".join(map(str, version)), references=refs)
    if managers:
        # One finding for the whole etcd-manager fleet: every pod gives the same non-answer.
        bundled = sorted({v for pod in managers for v in _etcd_manager_versions(pod)})
        yield unknown(
            Subject.cluster(),
            f"kops etcd-manager ({len(managers)} pods) picks the etcd version from the cluster spec "
            "(`kops get cluster -o yaml`, etcdClusters[].version), which the API does not show"
            + (f"; its pods carry etcd {join_names(bundled)}" if bundled else ""),
            bundled_versions=bundled,
            pods=sorted(name_of(p) for p in managers),
        )
    if members or managers:
        return
    if inv.provider.name == "k3s":
        yield not_applicable(
            Subject.cluster(), "k3s embeds etcd in its own binary: its version follows the k3s release"
        )
    else:
        yield unknown(
            Subject.cluster(),
            f"no etcd pod is visible in {' or '.join(ETCD_NAMESPACES)}: etcd runs outside the cluster "
            "(systemd or external), so its version cannot be read from the API",
        )


# -- ETCD-007: client certificate authentication ----------------------------------------------------

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")

# An answer read from an etcd command line: yes or no, or None with the reasons it is not known.
Answer = tuple[bool | None, list[str]]


def _any(*answers: Answer) -> Answer:
    """Three-valued OR: one known yes settles it; otherwise an unknown leaves it open."""
    if any(value is True for value, _ in answers):
        return True, []
    reasons = [reason for value, why in answers if value is None for reason in why]
    return (None, reasons) if reasons else (False, [])


def _variable_reason(name: str, value: str) -> str:
    return f"--{name}={value} is built from a variable, whose value is not known"


def _beyond_loopback(url: str, flag: str) -> Answer:
    """Whether a listen URL takes connections from other hosts."""
    host = url.split("://", 1)[-1].rsplit(":", 1)[0]
    if "$" in host:
        return None, [_variable_reason(flag, url)]
    return host not in LOOPBACK_HOSTS, []


@dataclass(frozen=True, slots=True)
class EtcdSettings:
    """One member's settings as its pod shows them.

    A flag on the command line wins over its `ETCD_*` variable, whose value is redacted at
    collection; a flag value built from a variable (`${VAR}` in a script, `$(VAR)` expanded by the
    kubelet) is not known either. An absent setting has etcd's default, and those are insecure.
    """

    words: list[str]
    env_names: set[str]
    env_values: dict[str, str] = field(default_factory=dict)  # the literal values collection keeps

    def _environment(self, name: str) -> tuple[str | None, list[str]]:
        """An unset --name's `ETCD_*` variable: its value, or None with why it is not known
        (set but not kept, or set by a script); ("", []) when the pod does not set it."""
        env = "ETCD_" + name.upper().replace("-", "_")
        if env in self.env_values:
            return self.env_values[env], []
        if env in self.env_names:
            return None, [f"--{name} is set through ${env}, whose value is not kept"]
        return "", []

    def value(self, name: str) -> tuple[str | None, list[str]]:
        """--name's value as written ("" when unset), or None with why it is not known."""
        written = last_flag_value(self.words, name)
        return (written, []) if written is not None else self._environment(name)

    def enabled(self, name: str) -> Answer:
        """Whether the boolean --name is on."""
        on = bool_flag(self.words, name)
        if on is None:
            value, why = self._environment(name)
            return (None, why) if value is None else (value.strip().lower() in GO_TRUE, [])
        written = last_flag_value(self.words, name) or ""
        return (None, [_variable_reason(name, written)]) if "$" in written else (on, [])

    def named(self, name: str) -> Answer:
        """Whether --name is given a (file) name."""
        written, why = self.value(name)
        if written is None:
            return None, why
        if "$" in written:
            return None, [_variable_reason(name, written)]
        return bool(written), []

    def urls(self, name: str) -> tuple[list[str] | None, list[str]]:
        written, why = self.value(name)
        if written is None:
            return None, why
        return [url.strip() for url in written.split(",") if url.strip()], []

    def requires_certificates(self, prefix: str) -> Answer:
        """Whether the client (prefix "") or peer ("peer-") port demands certificates.

        etcd requires and verifies them when --client-cert-auth is on *or* a --trusted-ca-file is
        named, whatever the former says (`TLSInfo.ServerConfig` in etcd's transport package, the
        same from 3.3 to 3.6): `--client-cert-auth=false` next to a CA file still requires them.
        """
        return _any(self.enabled(f"{prefix}client-cert-auth"), self.named(f"{prefix}trusted-ca-file"))

    def plain_http_clients(self) -> tuple[list[str], list[str]]:
        """(http:// client URLs beyond loopback, why other URLs cannot be judged)."""
        urls, unknowns = self.urls("listen-client-urls")
        plain: list[str] = []
        for url in urls or []:
            scheme = url.partition("://")[0]
            if "$" in scheme:
                unknowns.append(_variable_reason("listen-client-urls", url))
            elif scheme == "http":
                reachable, why = _beyond_loopback(url, "listen-client-urls")
                unknowns.extend(why)
                if reachable:
                    plain.append(url)
        return plain, unknowns

    def peers_on_network(self) -> Answer:
        """Whether other members talk to this one: a peer URL beyond loopback, or several members."""
        urls, why = self.urls("listen-peer-urls")
        listening = (
            (None, why) if urls is None else _any(*(_beyond_loopback(u, "listen-peer-urls") for u in urls))
        )
        members, why = self.urls("initial-cluster")
        several: Answer
        if members is None:
            several = (None, why)
        elif len(members) == 1 and "$" in members[0]:
            several = (None, [_variable_reason("initial-cluster", members[0])])
        else:
            several = (len(members) > 1, [])
        return _any(listening, several)


def etcd_settings(container: Obj, words: list[str]) -> EtcdSettings:
    """The settings of the etcd server `container` runs with command line `words`: its flags and
    its `ETCD_*` variables (literal values where collection kept them, redact.ENV_VALUES_KEPT)."""
    names = {str(e.get("name")) for e in dicts(container.get("env"))} | script_etcd_variables(container)
    values = {
        name: value
        for name in names
        if name.startswith("ETCD_") and (value := env_value(container, name)) not in (None, REDACTED)
    }
    return EtcdSettings(words, names, values)


def etcd_auth_problems(settings: EtcdSettings) -> tuple[list[str], list[str]]:
    """(problems, unknowns) of an etcd server's settings, as short sentences.

    A setting that cannot be read is only an unknown when the verdict depends on it: a CA file
    makes `--client-cert-auth` moot, and peer settings do not matter to a lone loopback member.
    """
    problems: list[str] = []
    unknowns: list[str] = []

    def yes(answer: Answer) -> bool:
        value, why = answer
        unknowns.extend(why)
        return value is True

    plain, why = settings.plain_http_clients()
    unknowns.extend(why)
    if plain:
        problems.append(f"serves clients over plain HTTP on {join_names(plain)}")
    required, why = settings.requires_certificates("")
    unknowns.extend(why)
    if required is False:
        problems.append(
            "does not require client certificates (--client-cert-auth is not true and no "
            "--trusted-ca-file is named)"
        )
    elif required and settings.named("trusted-ca-file")[0] is False:
        problems.append("requires client certificates but names no --trusted-ca-file to verify them")
    if yes(settings.enabled("auto-tls")):
        problems.append("uses --auto-tls (self-signed certificates nobody can verify)")
    on_network, network_why = settings.peers_on_network()
    if on_network is not False:
        required, why = settings.requires_certificates("peer-")
        if required is False and on_network:
            problems.append(
                "does not require peer certificates (--peer-client-cert-auth is not true and no "
                "--peer-trusted-ca-file is named)"
            )
        elif required is not True:
            unknowns.extend(why + network_why)
        if on_network and yes(settings.enabled("peer-auto-tls")):
            problems.append("uses --peer-auto-tls")
    return problems, unknowns


@check(
    id="ETCD-007",
    area="etcd",
    severity="high",
    title="etcd members require client and peer certificates",
    rationale="""etcd stores every Secret and every RBAC rule, unencrypted unless encryption at rest
    is configured. etcd demands client certificates when `--client-cert-auth` is true or a
    `--trusted-ca-file` is named (either is enough); with neither, anyone who can reach port 2379
    (another pod on a host-network node, a compromised node, a misconfigured security group) reads
    or rewrites the whole cluster state without going through the API server's authentication and
    audit log. Without peer certificate checks (`--peer-client-cert-auth` or
    `--peer-trusted-ca-file`), a rogue member can join and replicate everything. Whether the port
    is reachable cannot be seen from the API; the flags can.""",
    remediation="""Serve clients and peers over TLS and require certificates signed by the etcd CA
(kubeadm's defaults):

```yaml
- --client-cert-auth=true
- --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
- --cert-file=/etc/kubernetes/pki/etcd/server.crt
- --key-file=/etc/kubernetes/pki/etcd/server.key
- --peer-client-cert-auth=true
- --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
- --listen-client-urls=https://127.0.0.1:2379,https://10.0.0.10:2379
```""",
    references=(ETCD_SECURITY, K8S_ETCD_SECURITY, "https://www.cisecurity.org/benchmark/kubernetes"),
    inputs=("pods",),
)
def etcd_client_auth(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    if (managed := _not_applicable_on_managed(inv)) is not None:
        yield managed
        return
    members, managers = etcd_member_pods(inv)
    for pod in members:
        subject = inv.subject("pods", pod)
        container = etcd_container(pod) or {}
        tokens = etcd_server_words(container) or []
        settings = etcd_settings(container, tokens)
        if config_file := last_flag_value(tokens, "config-file"):
            yield unknown(
                subject,
                f"etcd reads its settings from {config_file}, which is on the node, not in the API",
                config_file=config_file,
            )
            continue
        problems, unknowns = etcd_auth_problems(settings)
        if problems:
            yield failed(subject, "etcd " + "; ".join(problems), problems=problems)
        elif unknowns:
            yield unknown(subject, "; ".join(unknowns), unknowns=unknowns)
        else:
            yield passed(subject, "etcd requires client and peer certificates over TLS")
    if managers:
        yield not_applicable(
            Subject.cluster(),
            f"kops etcd-manager ({len(managers)} pods) starts etcd itself, with TLS and client certificates; "
            "the etcd flags are not in the pods",
        )
    if not members and not managers:
        yield not_applicable(
            Subject.cluster(), "no etcd pod is visible: etcd's flags are not readable from the API"
        )

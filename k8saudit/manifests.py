"""`k8saudit manifests`: run k8saudit inside the cluster on a schedule.

A namespace, the read-only identity of `k8saudit rbac` (same generator, so it cannot drift from
what the collector lists), a PersistentVolumeClaim for the snapshots and a CronJob that runs
`k8saudit scan --context in-cluster` with the restricted Pod Security profile: non-root, no
privilege escalation, no capabilities, read-only root filesystem, RuntimeDefault seccomp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from k8saudit import __version__
from k8saudit.access import reader_manifests, to_yaml
from k8saudit.connection import IN_CLUSTER
from k8saudit.errors import UsageError
from k8saudit.provider import OPENSHIFT_PLATFORM_PREFIX

DEFAULT_NAMESPACE = "k8saudit"
DEFAULT_SCHEDULE = "0 */6 * * *"
DEFAULT_IMAGE = f"k8saudit:{__version__}"
DEFAULT_STORAGE = "2Gi"
DEFAULT_KEEP = 28  # a week of scans every six hours
SNAPSHOT_DIR = "/var/lib/k8saudit"
POLICY_DIR = "/etc/k8saudit"
POLICY_KEY = "waivers.toml"
NAME = "k8saudit"
PVC_NAME = "k8saudit-snapshots"
RUN_AS = 65532  # the conventional "nonroot" uid of distroless images

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# An image reference as the container runtimes parse it (distribution's reference grammar): an
# optional registry host and port, lower-case path components, then a tag and/or a digest.
_HOST_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"^(?:{_HOST_PART}(?:\.{_HOST_PART})*(?::[0-9]+)?/)?{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


@dataclass(frozen=True, slots=True)
class CronJobOptions:
    namespace: str = DEFAULT_NAMESPACE
    schedule: str = DEFAULT_SCHEDULE
    image: str = DEFAULT_IMAGE
    storage: str = DEFAULT_STORAGE
    storage_class: str | None = None
    service_account: str = NAME
    include_secrets: bool = True
    keep: int = DEFAULT_KEEP
    waivers_configmap: str | None = None  # a ConfigMap with key waivers.toml: the policy file

    def validate(self) -> None:
        check_identity(self.namespace, self.service_account)
        if self.namespace in SHARED_NAMESPACES or self.namespace.startswith(
            ("kube-", OPENSHIFT_PLATFORM_PREFIX)
        ):
            raise UsageError(
                f"--namespace {self.namespace} is shared: the manifests declare the namespace with the "
                "restricted Pod Security level enforced, which would refuse its other pods (kube-proxy, "
                "CNI, CSI); give k8saudit a namespace of its own"
            )
        _check_schedule(self.schedule)
        if not _IMAGE.match(self.image):
            raise UsageError(f"--image {self.image!r} is not an image reference")
        if not _QUANTITY.match(self.storage):
            raise UsageError(f"--storage {self.storage!r} is not a storage quantity like 2Gi")
        if self.storage_class is not None and not _DNS_SUBDOMAIN.match(self.storage_class):
            raise UsageError(f"--storage-class {self.storage_class!r} is not a valid name")
        if self.waivers_configmap is not None and not _DNS_SUBDOMAIN.match(self.waivers_configmap):
            raise UsageError(f"--waivers-configmap {self.waivers_configmap!r} is not a valid name")
        if self.keep < 1:
            raise UsageError("--keep must be at least 1")


# Namespaces other workloads live in: the CronJob's manifests label theirs for the restricted
# Pod Security level, and `kubectl apply` would merge that label onto them.
SHARED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def check_identity(namespace: str, service_account: str) -> None:
    """The scanning identity's names as the API server validates them: a namespace is a DNS-1123
    label, a ServiceAccount a DNS-1123 subdomain (`manifests` and `rbac` both print them)."""
    if not _DNS_LABEL.match(namespace):
        raise UsageError(f"--namespace {namespace!r} is not a valid namespace name")
    if not _DNS_SUBDOMAIN.match(service_account):
        raise UsageError(f"--service-account {service_account!r} is not a valid name")


def _check_schedule(schedule: str) -> None:
    """The schedule as the API server validates it (minute 0-59, hour 0-23, day 1-31, month
    1-12, weekday 0-6, positive steps, no TZ= prefix), and firing at all (30 February never
    comes): the parser the etcd checks read schedules with, in its strict mode."""
    from checks.cron import CronError, parse_cron

    try:
        parse_cron(schedule, strict=True).min_interval()
    except CronError as exc:
        raise UsageError(f"--schedule is not a cron schedule: {exc}") from None


def scan_command(options: CronJobOptions) -> list[str]:
    """The CronJob's command line (tests parse it with the real CLI parser)."""
    command = ["k8saudit", "--context", IN_CLUSTER, "scan", "--quiet", "--keep", str(options.keep)]
    if options.waivers_configmap:
        command += ["--waivers", f"{POLICY_DIR}/{POLICY_KEY}"]
    return command


def cronjob_manifests(options: CronJobOptions | None = None) -> list[dict[str, Any]]:
    """Namespace, ClusterRole, ServiceAccount, ClusterRoleBinding, PVC and CronJob."""
    options = options or CronJobOptions()
    options.validate()
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "scheduled-scan"}
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": options.namespace,
            "labels": {
                "app.kubernetes.io/name": NAME,
                # the CronJob's pod meets the restricted profile: enforce it
                "pod-security.kubernetes.io/enforce": "restricted",
            },
        },
    }
    pvc_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": options.storage}},
    }
    if options.storage_class:
        pvc_spec["storageClassName"] = options.storage_class
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": PVC_NAME, "namespace": options.namespace, "labels": labels},
        "spec": pvc_spec,
    }
    identity = reader_manifests(options.namespace, options.service_account, options.include_secrets)
    return [namespace, *identity, pvc, _cronjob(options, labels)]


def _cronjob(options: CronJobOptions, labels: dict[str, str]) -> dict[str, Any]:
    command = scan_command(options)
    mounts = [
        {"name": "snapshots", "mountPath": SNAPSHOT_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "snapshots", "persistentVolumeClaim": {"claimName": PVC_NAME}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    if options.waivers_configmap:
        mounts.append({"name": "policy", "mountPath": POLICY_DIR, "readOnly": True})
        volumes.append(
            {
                "name": "policy",
                "configMap": {
                    "name": options.waivers_configmap,
                    "items": [{"key": POLICY_KEY, "path": POLICY_KEY}],
                },
            }
        )
    container = {
        "name": NAME,
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "command": command[:1],
        "args": command[1:],
        "workingDir": SNAPSHOT_DIR,  # the default snapshot name is relative: it lands on the volume
        "env": [{"name": "HOME", "value": "/tmp"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "1Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": mounts,
    }
    pod_spec = {
        "serviceAccountName": options.service_account,
        "automountServiceAccountToken": True,  # the scan authenticates with it
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": NAME, "namespace": options.namespace, "labels": labels},
        "spec": {
            "schedule": options.schedule,
            "concurrencyPolicy": "Forbid",  # never two scans writing at once
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 1,
                    "activeDeadlineSeconds": 1800,
                    "ttlSecondsAfterFinished": 86400,
                    "template": {"metadata": {"labels": labels}, "spec": pod_spec},
                },
            },
        },
    }


HEADER = f"""\
# k8saudit in the cluster: a read-only identity and a CronJob that scans on a schedule and keeps
# its snapshots on a PersistentVolumeClaim ({SNAPSHOT_DIR}). Copy them out with
#   kubectl cp NAMESPACE/POD:{SNAPSHOT_DIR} ./snapshots   (from a pod mounting the claim)
# and review them offline: k8saudit report DIR. The image must provide the `k8saudit` command
# (any Python 3.11+ image with k8saudit installed); set it with --image.
"""


def manifests_yaml(options: CronJobOptions | None = None) -> str:
    return to_yaml(cronjob_manifests(options), HEADER)

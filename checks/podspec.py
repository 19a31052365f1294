"""Reading a pod spec the way the kubelet does: images, flags, and the security context that is
actually in force for each container (pod-level settings inherited, container-level ones winning).

Pure functions over plain dicts, shared by the exposure checks (and by anything else that needs
to know whether a container is privileged, runs as root or mounts the node's filesystem).
"""

from __future__ import annotations

import fnmatch
import functools
import ntpath
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from k8saudit.readers import as_list, as_object, dicts

Obj = dict[str, Any]

CONTAINER_FIELDS = (
    ("initContainers", "init container"),
    ("containers", "container"),
    ("ephemeralContainers", "ephemeral container"),
)


def containers_of(spec: Obj) -> list[tuple[str, Obj]]:
    """(role, container) for init, regular and ephemeral containers, in start order."""
    # A list built in one loop, no generators: asked once per pod template (tens of thousands).
    found = []
    for field, role in CONTAINER_FIELDS:
        containers = spec.get(field)
        if isinstance(containers, list):
            found.extend([(role, c) for c in containers if isinstance(c, dict)])
    return found


def container_name(container: Obj) -> str:
    return str(container.get("name", "?"))


def has_cpu_limit(spec: Obj, judged: dict[int, bool] | None = None) -> bool:
    """Whether a pod spec gives any of its regular containers a CPU limit (what CFS throttles;
    VER-007 and RES-003 ask). `judged`, kept across calls while the inventory is alive, holds the
    answer per `resources` object: sibling pods share theirs (k8saudit.siblings)."""
    containers = spec.get("containers")
    if not isinstance(containers, list):
        return False
    for container in containers:
        resources = container.get("resources") if isinstance(container, dict) else None
        if judged is None:
            limited = _cpu_limit_in(resources)
        elif (limited := judged.get(id(resources))) is None:
            limited = judged[id(resources)] = _cpu_limit_in(resources)
        if limited:
            return True
    return False


def _cpu_limit_in(resources: object) -> bool:
    limits = resources.get("limits") if isinstance(resources, dict) else None
    return isinstance(limits, dict) and bool(limits.get("cpu"))


# -- images -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageRef:
    registry: str  # "" for Docker Hub
    path: str  # repository path without registry, lower case: "kubernetesui/dashboard"
    tag: str  # "" when absent (or only a digest)

    @property
    def name(self) -> str:
        """The last path component: "dashboard"."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def version(self) -> tuple[int, ...] | None:
        """Leading numbers of the tag ("v2.7.0-rc1" -> (2, 7, 0)), or None."""
        numbers: list[int] = []
        for part in self.tag.lstrip("vV").split("."):
            digits = ""
            for ch in part:
                if not ch.isdigit():
                    break
                digits += ch
            if not digits:
                break
            numbers.append(int(digits))
            if len(digits) != len(part):
                break
        return tuple(numbers) or None


def parse_image(image: str) -> ImageRef:
    """Split "registry:5000/org/name:tag@sha256:…" into registry, path and tag."""
    reference = image.strip().split("@", 1)[0]
    first, _, rest = reference.partition("/")
    registry = ""
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, reference = first, rest
    path, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "")
    if path.startswith("library/"):
        path = path.removeprefix("library/")
    return ImageRef(registry.lower(), path.lower(), tag)


def image_matches(ref: ImageRef, patterns: Iterable[str]) -> str | None:
    """The first pattern matching the image path: a glob on the whole path or on its tail.

    "weaveworks/scope" matches "docker.io/weaveworks/scope"; "csi-*" matches
    "sig-storage/csi-node-driver-registrar"; "calico/*" matches "quay.io/calico/node".
    """
    for pattern in patterns:
        if _path_glob(pattern)(ref.path):
            return pattern
    return None


@functools.lru_cache(maxsize=1024)
def _path_glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """`pattern` on the whole path or on its tail, as one compiled match (asked per container)."""
    return re.compile(f"{fnmatch.translate(pattern)}|{fnmatch.translate(f'*/{pattern}')}").match


# -- command lines ------------------------------------------------------------------------------


def command_tokens(container: Obj) -> list[str]:
    """command + args as tokens; a `sh -c "…"` script is split too, so its flags count. A
    backslash line continuation joins its lines, as the shell does (not a "\\n" word)."""
    tokens: list[str] = []
    for field in ("command", "args"):
        for item in as_list(container.get(field)):
            text = str(item).replace("\\\n", " ")
            if " " in text.strip():
                try:
                    tokens.extend(shlex.split(text))
                except ValueError:
                    tokens.extend(text.split())
            else:
                tokens.append(text)
    return tokens


def binary_of(container: Obj) -> str:
    """The file name of the program a container starts (`/usr/bin/coredns` -> `coredns`)."""
    words = command_tokens(container)
    return posixpath.basename(words[0]) if words else ""


def flag_values(tokens: list[str], name: str) -> list[str | None]:
    """Every occurrence of `--name` (or `-name`): "=value", the next token, or None when bare."""
    values: list[str | None] = []
    for i, token in enumerate(tokens):
        bare = token.lstrip("-")
        if not token.startswith("-") or not (bare == name or bare.startswith(f"{name}=")):
            continue
        if "=" in bare:
            values.append(bare.split("=", 1)[1])
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
            values.append(tokens[i + 1])
        else:
            values.append(None)
    return values


# The spellings of true Go's strconv.ParseBool accepts (lowered): how a Go program such as etcd
# reads a boolean from its environment.
GO_TRUE = frozenset({"1", "t", "true"})


def bool_flag(tokens: list[str], name: str) -> bool | None:
    """A Go boolean flag: `--name` or `--name=true` is True, `--name=false` False, absent None.

    (A Go bool flag never takes its value as the next token, so "--name false" is True.)"""
    result: bool | None = None
    for token in tokens:
        bare = token.lstrip("-")
        if not token.startswith("-"):
            continue
        if bare == name:
            result = True
        elif bare.startswith(f"{name}="):
            result = bare.split("=", 1)[1].strip().lower() in ("true", "1", "t", "yes")
    return result


def env_value(container: Obj, name: str) -> str | None:
    """A literal env value (None when unset or set from a reference)."""
    for var in dicts(container.get("env")):
        if var.get("name") == name and "value" in var:
            return str(var.get("value"))
    return None


def has_env(container: Obj, name: str) -> bool:
    return any(var.get("name") == name for var in dicts(container.get("env")))


# -- security context ---------------------------------------------------------------------------

# Capabilities that hand a container the node: module loading, mounts, ptrace of host processes,
# raw devices, reading any file. NET_ADMIN/NET_RAW are left out: CNI agents need them and they do
# not amount to root on the host on their own.
DANGEROUS_CAPABILITIES = frozenset(
    {"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "BPF", "PERFMON"}
)


def security_context(obj: Obj) -> Obj:
    sc = obj.get("securityContext")
    return sc if isinstance(sc, dict) else {}


# The node label the scheduler places pods by OS with (the beta one on clusters older than 1.14).
OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")


def is_windows(spec: Obj) -> bool:
    """Whether the pod runs on Windows nodes: `spec.os.name`, or a placement only Windows nodes
    satisfy (a nodeSelector or required node affinity on kubernetes.io/os), the usual way before
    `spec.os` (1.25) and the one AKS documents."""
    os = spec.get("os")
    if isinstance(os, dict) and str(os.get("name", "")).lower() == "windows":
        return True
    selector = spec.get("nodeSelector")
    if isinstance(selector, dict) and any(selector.get(label) == "windows" for label in OS_LABELS):
        return True
    return _affinity_requires_windows(spec)


def _affinity_requires_windows(spec: Obj) -> bool:
    """Every required node selector term admits only Windows nodes (terms are ORed, expressions
    within a term ANDed)."""
    required = as_object(
        as_object(as_object(spec.get("affinity")).get("nodeAffinity")).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
    )
    terms = dicts(required.get("nodeSelectorTerms"))
    return bool(terms) and all(
        any(
            expression.get("key") in OS_LABELS
            and expression.get("operator") == "In"
            and as_list(expression.get("values"))
            and all(value == "windows" for value in as_list(expression.get("values")))
            for expression in dicts(term.get("matchExpressions"))
        )
        for term in terms
    )


def added_capabilities(container: Obj) -> set[str]:
    """The capabilities a container adds, upper case and without the CAP_ prefix."""
    caps = as_object(security_context(container).get("capabilities"))
    return {str(c).upper().removeprefix("CAP_") for c in as_list(caps.get("add"))}


def privileged_reasons(spec: Obj, container: Obj) -> list[str]:
    """Why a container can act as root on the node (empty: it cannot)."""
    sc = security_context(container)
    reasons = []
    if sc.get("privileged") is True:
        reasons.append("privileged: true")
    added = sorted(added_capabilities(container) & DANGEROUS_CAPABILITIES)
    if added:
        reasons.append(f"adds capabilities {', '.join(added)}")
    pod_windows = as_object(security_context(spec).get("windowsOptions"))
    windows = sc.get("windowsOptions") or {}
    host_process = (
        windows.get("hostProcess", pod_windows.get("hostProcess")) if isinstance(windows, dict) else None
    )
    if host_process is True:
        reasons.append("Windows hostProcess container")
    if sc.get("procMount") == "Unmasked":
        reasons.append("procMount: Unmasked")
    return reasons


def host_namespaces(spec: Obj) -> list[str]:
    return [field for field in ("hostPID", "hostIPC", "hostNetwork") if spec.get(field) is True]


def effective(spec: Obj, container: Obj, field: str) -> Any:
    """A security-context field as enforced: the container's value, else the pod's."""
    container_sc = security_context(container)
    if field in container_sc and container_sc[field] is not None:
        return container_sc[field]
    return security_context(spec).get(field)


def root_reason(spec: Obj, container: Obj) -> str | None:
    """Why the container may run as UID 0 (None: it cannot)."""
    user = effective(spec, container, "runAsUser")
    if isinstance(user, int) and user == 0:
        return "runAsUser: 0"
    if effective(spec, container, "runAsNonRoot") is True:
        return None
    if isinstance(user, int) and user > 0:
        return None
    return "neither runAsNonRoot nor a non-zero runAsUser is set (the image's USER decides)"


def escalation_reason(container: Obj) -> str | None:
    """Why the container's processes may gain privileges (None: they cannot).

    allowPrivilegeEscalation defaults to true, and Kubernetes documents it as always true for a
    privileged container or one with CAP_SYS_ADMIN, whatever it says: the API refuses an explicit
    false with privileged, and with SYS_ADMIN only when spelled CAP_SYS_ADMIN, so the usual
    spelling gets through."""
    sc = security_context(container)
    if sc.get("allowPrivilegeEscalation") is not False:
        return "allowPrivilegeEscalation not false"
    if sc.get("privileged") is True:
        return "allowPrivilegeEscalation: false does not hold for a privileged container"
    admin = sorted(added_capabilities(container) & {"SYS_ADMIN", "ALL"})
    if admin:
        return f"allowPrivilegeEscalation: false does not hold with {', '.join(admin)} added"
    return None


# -- host paths ---------------------------------------------------------------------------------

# Host paths that give a container the node (or the cluster). "subtree": descendants count too.
# Spelled as `host_path_key` leaves them: /run rather than its /var/run symlink, Windows paths in
# lower case.
SENSITIVE_HOST_PATHS: tuple[tuple[str, bool, str], ...] = (
    ("/", False, "the node's whole filesystem"),
    ("/run/docker.sock", False, "the Docker socket: root on the node"),
    ("/run/cri-dockerd.sock", False, "the cri-dockerd socket: root on the node"),
    ("/run/containerd/containerd.sock", False, "the containerd socket: root on the node"),
    ("/run/k3s/containerd/containerd.sock", False, "the k3s containerd socket: root on the node"),
    ("/run/crio/crio.sock", False, "the CRI-O socket: root on the node"),
    ("/proc", True, "host processes, their memory and environment"),
    ("/sys", False, "kernel and cgroup controls"),
    ("/dev", False, "the node's devices"),
    ("/boot", False, "the node's kernel and boot loader"),
    ("/etc", False, "the node's configuration (passwords, sudoers, systemd units)"),
    ("/etc/kubernetes", True, "kubelet and control-plane credentials and PKI"),
    ("/etc/rancher/k3s", True, "k3s's cluster-admin kubeconfig (k3s.yaml)"),
    ("/etc/rancher/rke2", True, "RKE2's cluster-admin kubeconfig (rke2.yaml)"),
    ("/var/lib/kubelet", True, "every pod's Secrets and service account tokens on the node"),
    ("/var/lib/etcd", True, "the etcd database: every Secret of the cluster"),
    ("/var/lib/rancher/k3s/server", True, "k3s's CA keys, datastore credentials and join token"),
    ("/var/lib/rancher/rke2/server", True, "RKE2's CA keys, etcd credentials and join token"),
    ("/var/lib/rancher/k3s/agent", True, "k3s's kubelet credentials and every container's filesystem"),
    ("/var/lib/rancher/rke2/agent", True, "RKE2's kubelet credentials and every container's filesystem"),
    ("/var/lib/docker", True, "every container's filesystem"),
    ("/var/lib/containerd", True, "every container's filesystem"),
    ("/root", True, "root's home (SSH keys, kubeconfigs)"),
    ("/home", True, "user homes (SSH keys, kubeconfigs)"),
    ("\\\\.\\pipe\\containerd-containerd", False, "the containerd named pipe: SYSTEM on the Windows node"),
    ("\\\\.\\pipe\\docker_engine", False, "the Docker named pipe: SYSTEM on the Windows node"),
    ("c:\\", False, "the Windows node's system drive"),
)
# A drive letter or a `\\` (UNC or device) prefix: a path on a Windows node.
_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:|\\\\)")
_DRIVE = re.compile(r"^[A-Za-z]:$")


def _is_windows_path(path: str) -> bool:
    return _WINDOWS_PATH.match(path) is not None


def normalise_path(path: str) -> str:
    """A host path without `.`, `..`, doubled or trailing separators; a POSIX one absolute."""
    path = path.strip()
    if _is_windows_path(path):
        path = ntpath.normpath(path)
        return path + "\\" if _DRIVE.match(path) else path  # "C:" is the drive's root here
    return posixpath.normpath("/" + path.lstrip("/"))


def join_host_path(base: str, sub: str) -> str:
    """`sub` (a volumeMount's subPath) inside host path `base`, normalised."""
    module = ntpath if _is_windows_path(base.strip()) else posixpath
    return normalise_path(module.join(base, sub) if sub else base)


def host_path_key(path: str) -> tuple[str, str]:
    """(the spelling SENSITIVE_HOST_PATHS uses for host `path`, its separator)."""
    path = normalise_path(path)
    if _is_windows_path(path):
        return path.lower(), "\\"  # Windows compares paths without regard to case
    if path == "/var/run" or path.startswith("/var/run/"):
        path = "/run" + path.removeprefix("/var/run")  # a symlink to /run on every systemd distro
    return path, "/"


@functools.lru_cache(maxsize=4096)
def sensitive_host_path(path: str) -> str | None:
    """Why mounting host `path` is dangerous (None: it is not known to be). Per path: a few
    hundred distinct ones in a cluster's tens of thousands of mounts."""
    key, separator = host_path_key(path)
    parent_of = key.rstrip(separator) + separator
    for candidate, subtree, why in SENSITIVE_HOST_PATHS:
        if key == candidate or (subtree and key.startswith(candidate + separator)):
            return why
        if candidate.startswith(parent_of):  # a parent of a sensitive path
            return f"contains {candidate} ({why})"
    return None


@dataclass(frozen=True, slots=True)
class HostMount:
    container: str
    host_path: str
    mount_path: str
    read_only: bool
    why: str | None  # None: not a known sensitive path

    def describe(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"{self.host_path} at {self.mount_path} in {self.container} ({mode})"


def host_mounts(spec: Obj) -> list[HostMount]:
    """hostPath volumes as mounted by each container (an unmounted volume reaches nothing)."""
    host_paths = {}
    for volume in dicts(spec.get("volumes")):
        host, name = volume.get("hostPath"), volume.get("name")
        if isinstance(host, dict) and host.get("path") and isinstance(name, str):
            host_paths[name] = str(host["path"])
    if not host_paths:
        return []
    mounts = []
    for _, container in containers_of(spec):
        for mount in dicts(container.get("volumeMounts")):
            name = mount.get("name")
            base = host_paths.get(name) if isinstance(name, str) else None
            if base is None:
                continue
            path = join_host_path(base, str(mount.get("subPath") or ""))
            mounts.append(
                HostMount(
                    container_name(container),
                    path,
                    str(mount.get("mountPath", "")),
                    mount.get("readOnly") is True,
                    sensitive_host_path(path),
                )
            )
    return mounts


def container_ports(container: Obj) -> dict[str, int]:
    """Declared container ports by name (unnamed ones by their number as text)."""
    ports = {}
    for port in dicts(container.get("ports")):
        number = port.get("containerPort")
        if isinstance(number, int):
            ports[str(port.get("name") or number)] = number
    return ports

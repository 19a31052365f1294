"""Which ingress controllers run in the cluster, found from their workloads.

A controller is recognised by its container image (the reliable signal) or, failing that, by the
`app.kubernetes.io/name` style labels its chart sets. Images are matched on whole path components:
the `traefik/whoami` demo app and `traefik-forward-auth` merely share a word with Traefik. Each one
found records its family, version, the IngressClass controller string it answers to and, for
ingress-nginx, the ConfigMap it reads.
Unknown controllers are not an error: the checks report what they can about them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from checks.advisories import Version, find_version, format_version, image_version
from checks.podspec import image_matches, parse_image
from checks.workload_ha import desired_replicas, ready_replicas, template_labels
from k8saudit.inventory import Inventory
from k8saudit.readers import as_list, dicts, labels_of, namespace_of
from k8saudit.redact import pod_spec_of

Obj = dict[str, Any]

CONTROLLER_KEYS = ("deployments", "daemonsets", "statefulsets")
NAME_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "istio")
COMPONENT_LABEL = "app.kubernetes.io/component"
VERSION_LABELS = ("app.kubernetes.io/version",)


@dataclass(frozen=True, slots=True)
class ControllerFamily:
    name: str
    title: str
    # Image paths, matched on the whole repository path or its trailing components (lower case,
    # registry and `library/` left out): "traefik" is `traefik:v3` or `ghcr.io/traefik/traefik`,
    # never `traefik/whoami`.
    image_paths: tuple[str, ...]
    name_labels: tuple[str, ...]  # values of NAME_LABELS that identify it
    class_controllers: tuple[str, ...]  # globs of the IngressClass spec.controller it answers to
    in_cluster_data_plane: bool = True  # False: traffic flows through a cloud load balancer


INGRESS_NGINX = ControllerFamily(
    "ingress-nginx",
    "ingress-nginx (kubernetes/ingress-nginx)",
    (
        "ingress-nginx/controller",
        "ingress-nginx/controller-chroot",
        "nginx-ingress-controller",  # quay.io/kubernetes-ingress-controller/…, rancher/…, bitnami/…
        "ingress-nginx-controller",
    ),
    ("ingress-nginx",),
    ("k8s.io/*nginx*",),  # k8s.io/ingress-nginx, or k8s.io/internal-ingress-nginx for a second one
)
FAMILIES: tuple[ControllerFamily, ...] = (
    INGRESS_NGINX,
    ControllerFamily(
        "nginx-inc",
        "NGINX Ingress Controller (F5 NGINX, nginx.org)",
        # nginx-plus-ingress: the image of private-registry.nginx.com/nginx-ic/, nginx-ic-nap/, …
        ("nginx/nginx-ingress", "nginx-plus-ingress"),
        ("nginx-ingress",),
        ("nginx.org/ingress-controller*",),
    ),
    ControllerFamily(
        "traefik",
        "Traefik",
        ("traefik", "mirrored-library-traefik"),  # the official image, and k3s' rancher/ mirror of it
        ("traefik",),
        ("traefik.io/ingress-controller*",),
    ),
    ControllerFamily(
        "haproxy",
        "HAProxy ingress",
        ("haproxytech/kubernetes-ingress", "haproxy-ingress"),
        ("kubernetes-ingress", "haproxy-ingress"),
        ("haproxy.org/ingress-controller*", "haproxy-ingress.github.io/controller*"),
    ),
    ControllerFamily(
        "contour", "Contour", ("projectcontour/contour",), ("contour",), ("projectcontour.io/*",)
    ),
    ControllerFamily(
        "skipper", "Skipper", ("skipper",), ("skipper", "skipper-ingress"), ("zalando.org/skipper*",)
    ),
    ControllerFamily(
        "kong",
        "Kong ingress controller",
        ("kong/kubernetes-ingress-controller",),
        ("ingress-kong",),
        ("ingress-controllers.konghq.com/*",),
    ),
    ControllerFamily(
        "istio",
        "Istio ingress gateway",
        (),
        ("istio-ingressgateway", "ingressgateway"),
        ("istio.io/ingress-controller*",),
    ),
    ControllerFamily(
        "aws-load-balancer",
        "AWS Load Balancer Controller",
        ("aws-load-balancer-controller", "aws-alb-ingress-controller"),
        ("aws-load-balancer-controller", "aws-alb-ingress-controller"),
        ("ingress.k8s.aws/alb*",),
        in_cluster_data_plane=False,
    ),
    ControllerFamily(
        "gke",
        "GKE Ingress (Google Cloud load balancer)",
        (),
        (),
        ("k8s.io/ingress-gce*", "networking.gke.io/*"),
        in_cluster_data_plane=False,
    ),
)
FAMILIES_BY_NAME = {family.name: family for family in FAMILIES}


def family_for_class(controller: str) -> ControllerFamily | None:
    """The family an IngressClass's `spec.controller` string belongs to."""
    for family in FAMILIES:
        if any(fnmatch.fnmatchcase(controller, glob) for glob in family.class_controllers):
            return family
    return None


def flag_value(words: list[str], flag: str) -> str | None:
    """The value of `--flag=value` or `--flag value` in a container's command and args."""
    for i, word in enumerate(words):
        if not isinstance(word, str):
            continue
        if word.startswith(flag + "="):
            return word[len(flag) + 1 :]
        if word == flag and i + 1 < len(words) and isinstance(words[i + 1], str):
            return words[i + 1]
    return None


@dataclass
class Controller:
    """One ingress controller workload found in the cluster."""

    family: ControllerFamily
    key: str  # inventory key of the workload
    obj: Obj
    container: Obj | None  # the container that identified it (None when found by labels)
    running_images: tuple[str, ...] = ()  # that container's image in the pods that run now

    @property
    def running_versions(self) -> list[Version]:
        """Versions the pods actually run: a stuck rollout keeps old, vulnerable pods alive."""
        return sorted({v for image in self.running_images if (v := image_version(image))})

    @property
    def oldest_version(self) -> Version | None:
        """The oldest of the template's version and the running pods' versions."""
        known = [v for v in (self.version, *self.running_versions) if v is not None]
        return min(known) if known else None

    @property
    def namespace(self) -> str:
        return namespace_of(self.obj)

    @property
    def image(self) -> str:
        return str((self.container or {}).get("image", ""))

    @property
    def words(self) -> list[str]:
        container = self.container or {}
        return [
            w
            for w in [*as_list(container.get("command")), *as_list(container.get("args"))]
            if isinstance(w, str)
        ]

    @cached_property
    def version(self) -> Version | None:
        """From the image tag, else from the chart's `app.kubernetes.io/version` label."""
        version = image_version(self.image) if self.image else None
        if version is not None:
            return version
        for labels in (labels_of(self.obj), template_labels(self.obj)):
            for label in VERSION_LABELS:
                if label in labels and (found := find_version(str(labels[label]))):
                    return found
        running = self.running_versions
        return running[-1] if running else None

    @property
    def version_text(self) -> str:
        return f"v{format_version(self.version)}" if self.version else "unknown version"

    @property
    def controller_class(self) -> str | None:
        """The IngressClass controller string this instance answers to, when it says."""
        if self.family is INGRESS_NGINX:
            return flag_value(self.words, "--controller-class") or "k8s.io/ingress-nginx"
        return None

    @property
    def idle_reason(self) -> str | None:
        """Why no pod of this controller can route traffic now, None when at least one is ready:
        a workload scaled to zero still answers to its IngressClass, but nothing serves it."""
        desired = desired_replicas(self.key, self.obj)
        if desired == 0:
            return "is scheduled on no node" if self.key == "daemonsets" else "is scaled to zero"
        if ready_replicas(self.key, self.obj) == 0:
            return f"has none of its {desired} pod(s) ready"
        return None

    def serves(self, class_controller: str) -> bool:
        declared = self.controller_class
        if declared is not None:
            return declared == class_controller
        return family_for_class(class_controller) is self.family

    def configmap_ref(self) -> tuple[str, str] | None:
        """(namespace, name) of the ConfigMap from `--configmap`, `$(POD_NAMESPACE)` resolved."""
        raw = flag_value(self.words, "--configmap")
        if not raw:
            return None
        raw = raw.replace("$(POD_NAMESPACE)", self.namespace)
        namespace, sep, name = raw.partition("/")
        return (namespace, name) if sep else (self.namespace, raw)

    def describe(self, inv: Inventory) -> str:
        subject = inv.subject(self.key, self.obj)
        return f"{self.family.name} {self.version_text} ({subject.kind} {self.namespace}/{subject.name})"

    def to_evidence(self, inv: Inventory) -> dict[str, Any]:
        subject = inv.subject(self.key, self.obj)
        return {
            "family": self.family.name,
            "workload": f"{subject.kind} {self.namespace}/{subject.name}",
            "image": self.image,
            "version": format_version(self.version) if self.version else None,
        }


def _containers(key: str, obj: Obj) -> list[Obj]:
    return dicts((pod_spec_of(key, obj) or {}).get("containers"))


def _by_image(key: str, obj: Obj) -> tuple[ControllerFamily, Obj] | None:
    for container in _containers(key, obj):
        family = _family_of_image(str(container.get("image", "")))
        if family is not None:
            return family, container
    return None


@lru_cache(maxsize=1 << 14)
def _family_of_image(image: str) -> ControllerFamily | None:
    # Per image, not per container: a cluster runs a few hundred images in tens of thousands of
    # containers, and each is held against every family's image paths.
    reference = parse_image(image)
    for family in FAMILIES:
        if image_matches(reference, family.image_paths):
            return family
    return None


def _by_labels(obj: Obj) -> ControllerFamily | None:
    labels = {**labels_of(obj), **template_labels(obj)}
    # Charts label their helper workloads (default backend, admission jobs) with the same name.
    if labels.get(COMPONENT_LABEL, "controller") != "controller":
        return None
    names = {str(labels[k]) for k in NAME_LABELS if k in labels}
    for family, family_names in _NAME_LABELS_BY_FAMILY:
        if not family_names.isdisjoint(names):
            return family
    return None


# Asked for every workload of the cluster: each family's names as a set once, not once per workload.
_NAME_LABELS_BY_FAMILY = tuple((family, frozenset(family.name_labels)) for family in FAMILIES)


def detect_controllers(inv: Inventory) -> list[Controller]:
    """Every ingress controller workload, in inventory order (deployments, daemonsets, ...)."""
    return list(inv.derived(_detect_controllers))  # several checks ask: one walk over the workloads


def _detect_controllers(inv: Inventory) -> list[Controller]:
    found: list[Controller] = []
    for key in CONTROLLER_KEYS:
        for obj in inv.items(key):
            match = _by_image(key, obj)
            if match is not None:
                family, container = match
            elif (family := _by_labels(obj)) is not None:
                containers = _containers(key, obj)
                container = containers[0] if containers else None
            else:
                continue
            found.append(Controller(family, key, obj, container, _running_images(inv, key, obj, container)))
    return found


def _running_images(inv: Inventory, key: str, obj: Obj, container: Obj | None) -> tuple[str, ...]:
    if container is None or not inv.readable("pods"):
        return ()
    name = container.get("name")
    return tuple(
        sorted(
            {
                str(c.get("image", ""))
                for pod in inv.pods_of(key, obj)
                for c in (pod.get("spec") or {}).get("containers") or []
                if isinstance(c, dict) and c.get("name") == name and c.get("image")
            }
        )
    )

"""Ingress: the cluster's front door — its classes, its controllers, their versions and
configuration, and whether the edge survives losing a node.

The incidents: Zalando's Skipper ingress layer turning an API server outage into a customer
outage; Giant Swarm's advice that older ingress-nginx versions are easier to misconfigure and that
one ingress class for everything is a single point of failure; and the ingress-nginx CVE series
(snippet injection in 2021 and 2023, IngressNightmare in 2025) where anyone allowed to create an
Ingress — or, for CVE-2025-1974, anyone on the pod network — could read every Secret in the
cluster. ingress-nginx itself was retired in March 2026 and gets no security fixes any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from checks.advisories import (
    INGRESS_NGINX_ADVISORIES,
    INGRESS_NGINX_RETIRED,
    INGRESS_NGINX_RETIREMENT_ANNOUNCED,
    INGRESS_NGINX_RETIREMENT_REFERENCES,
    affecting,
    format_version,
)
from checks.etcd import parse_timestamp
from checks.exposure_index import ExposureIndex
from checks.ingress_controllers import (
    INGRESS_NGINX,
    Controller,
    detect_controllers,
    family_for_class,
)
from checks.workload_ha import desired_replicas, pdb_finding, ready_replicas, spread_finding
from k8saudit.inventory import Inventory, selector_matches
from k8saudit.model import Finding, Subject, failed, not_applicable, passed, unknown, warned
from k8saudit.readers import annotations_of, as_list, as_object, dicts, meta, name_of, namespace_of
from k8saudit.redact import REDACTED, pod_labels_of
from k8saudit.registry import Context, check

Obj = dict[str, Any]

DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
SNIPPETS_KEY = "allow-snippet-annotations"
RISK_LEVEL_KEY = "annotations-risk-level"
SNIPPETS_DEFAULT_OFF_FROM = (1, 9, 0)  # allow-snippet-annotations defaults to false from 1.9.0
RISK_LEVEL_GATE_FROM = (1, 12, 0)  # from 1.12.0 snippets also need annotations-risk-level Critical
# From Kubernetes 1.25 (kubernetes/kubernetes#110974) the DefaultIngressClass admission plugin gives a
# class-less new Ingress the newest of several default classes; before, it rejected the Ingress.
NEWEST_DEFAULT_FROM = (1, 25)  # a minor: its release candidates already pick the newest
# The classes of GKE Ingress, the controller Google runs outside every GKE cluster, as GKE documents
# them. It has no IngressClass: Ingresses select it with the legacy annotation.
GKE_INGRESS_CLASSES = frozenset({"gce", "gce-internal"})

INGRESS_DOCS = "https://kubernetes.io/docs/concepts/services-networking/ingress/"
INGRESS_CLASS_DOCS = INGRESS_DOCS + "#ingress-class"
DEFAULT_CLASS_DOCS = INGRESS_DOCS + "#default-ingress-class"
CONTROLLERS_DOCS = "https://kubernetes.io/docs/concepts/services-networking/ingress-controllers/"
GATEWAY_API = "https://gateway-api.sigs.k8s.io/"
INGRESS2GATEWAY = "https://github.com/kubernetes-sigs/ingress2gateway"
NGINX_CONFIGMAP_DOCS = "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#allow-snippet-annotations"
PDB_DOCS = "https://kubernetes.io/docs/tasks/run-application/configure-pdb/"
SPREAD_DOCS = "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/"
ZALANDO_TALK = "https://www.slideshare.net/try_except_/running-kubernetes-in-production-a-million-ways-to-crash-your-cluster-devopscon-munich-2018"
GIANT_SWARM_TALK = "https://blog.scottlowe.org/2018/12/12/liveblog-hardening-kubernetes-setups/"
TLS_DOCS = INGRESS_DOCS + "#tls"
GKE_INGRESS_DOCS = "https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#controller_summary"


# -- shared ---------------------------------------------------------------------------------


def _controllers(inv: Inventory) -> list[Controller]:
    return detect_controllers(inv)


def _nginx_controllers(inv: Inventory) -> list[Controller]:
    return [c for c in _controllers(inv) if c.family is INGRESS_NGINX]


def _no_nginx(inv: Inventory) -> Finding:
    others = sorted({c.family.title for c in _controllers(inv)})
    found = f"; controllers found: {', '.join(others)}" if others else ""
    return not_applicable(Subject.cluster(), f"no ingress-nginx controller runs in the cluster{found}")


def _is_default(ingress_class: Obj) -> bool:
    # The DefaultIngressClass admission plugin and the controllers compare the exact string.
    return annotations_of(ingress_class).get(DEFAULT_CLASS_ANNOTATION) == "true"


def _misspelt_defaults(classes: list[Obj]) -> list[str]:
    """Classes whose default annotation reads "true" to a person ("True", " true") but not to the
    API server, which ignores it."""
    return sorted(
        name_of(c)
        for c in classes
        if not _is_default(c)
        and str(annotations_of(c).get(DEFAULT_CLASS_ANNOTATION, "")).strip().lower() == "true"
    )


def _class_name(ingress: Obj) -> str | None:
    name = (ingress.get("spec") or {}).get("ingressClassName")
    return str(name) if name else None


def _on_gke(inv: Inventory) -> bool:
    return inv.provider.name == "gke"


def _served_by_gke_ingress(ingress: Obj) -> bool:
    """Whether GKE Ingress picks this Ingress up on a GKE cluster: its legacy annotation names one
    of GKE's classes (whatever ingressClassName says), or it names no class at all."""
    legacy = annotations_of(ingress).get(LEGACY_CLASS_ANNOTATION)
    if legacy:
        return str(legacy) in GKE_INGRESS_CLASSES
    return _class_name(ingress) is None


# -- ING-001 ------------------------------------------------------------------------------------


@check(
    id="ING-001",
    area="ingress",
    severity="high",
    title="Every IngressClass has a running controller (and Ingresses have a class to use)",
    rationale="""An Ingress is only a wish until a controller serves it. Without any IngressClass,
    modern controllers ignore Ingresses (GKE's built-in controller, GKE Ingress, is the exception:
    it has no IngressClass); an IngressClass whose controller was removed (an abandoned migration,
    a renamed Helm release) or scaled to zero leaves its Ingresses silently unrouted. Knowing
    which controllers carry the traffic is also the start of every ingress incident: Zalando's
    customer-facing outage ran through its Skipper ingress layer, and Giant Swarm names ingress
    as one of the hot spots of their post-mortems.""",
    remediation="""Create an IngressClass for each controller you run and delete classes nobody serves:

```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx   # must match the controller's --controller-class
```

A class whose controller is scaled to zero or has no ready pod is served by nobody: scale it up or
find why its pods are not ready (`kubectl describe pod`). On GKE, Ingresses served by GKE Ingress
need no IngressClass.""",
    references=(INGRESS_CLASS_DOCS, CONTROLLERS_DOCS, GKE_INGRESS_DOCS, ZALANDO_TALK, GIANT_SWARM_TALK),
    inputs=("ingressclasses", "ingresses", "deployments", "daemonsets"),
)
def ingress_classes_have_controllers(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    controllers = _controllers(inv)
    found = [c.describe(inv) for c in controllers]
    classes = inv.items("ingressclasses")
    ingresses = inv.items("ingresses")
    if not classes:
        yield _no_class_finding(inv, ingresses, found)
        return
    users: dict[str, int] = {}
    for ingress in ingresses:
        name = _class_name(ingress) or annotations_of(ingress).get(LEGACY_CLASS_ANNOTATION)
        if name:
            users[str(name)] = users.get(str(name), 0) + 1
    for ingress_class in classes:
        yield _class_finding(inv, ctx, ingress_class, controllers, users.get(name_of(ingress_class), 0))


def _no_class_finding(inv: Inventory, ingresses: list[Obj], controllers: list[str]) -> Finding:
    """The cluster has no IngressClass: only GKE Ingress, on GKE, serves Ingresses without one."""
    subject = Subject.cluster()
    on_gke = sum(1 for i in ingresses if _served_by_gke_ingress(i)) if _on_gke(inv) else 0
    unserved = len(ingresses) - on_gke
    evidence: dict[str, Any] = {"ingresses": len(ingresses), "controllers": controllers}
    if on_gke:
        evidence["served_by_gke_ingress"] = on_gke
    if unserved:
        also = f" ({on_gke} more are served by GKE Ingress)" if on_gke else ""
        return failed(
            subject,
            f"{unserved} Ingress(es) exist but there is no IngressClass: controllers that require one "
            f"serve none of them{also}",
            **evidence,
        )
    if on_gke:
        return passed(
            subject,
            f"{on_gke} Ingress(es) are served by GKE Ingress, GKE's built-in controller, which needs "
            "no IngressClass",
            **evidence,
        )
    return not_applicable(subject, "no Ingress and no IngressClass in the cluster", controllers=controllers)


def _class_finding(
    inv: Inventory, ctx: Context, ingress_class: Obj, controllers: list[Controller], users: int
) -> Finding:
    subject = inv.subject("ingressclasses", ingress_class)
    controller = str((ingress_class.get("spec") or {}).get("controller", ""))
    evidence: dict[str, Any] = {"controller": controller, "ingresses": users}
    serving = [c for c in controllers if c.serves(controller)]
    running = [c for c in serving if c.idle_reason is None]
    if running:
        names = [c.describe(inv) for c in running]
        return passed(subject, f"served by {', '.join(names)}", served_by=names, **evidence)
    if serving:
        idle = [f"{c.describe(inv)} {c.idle_reason}" for c in serving]
        why = f"no ready pod serves {controller!r}: {'; '.join(idle)}"
        return _unserved_class(subject, why, users, {**evidence, "idle_controllers": idle})
    family = family_for_class(controller)
    if family is None:
        return unknown(
            subject,
            f"controller {controller!r} is not one k8saudit recognises; cannot tell whether it runs",
            **evidence,
        )
    if family.name == "gke" and _on_gke(inv):
        return passed(subject, "served by GKE's load balancer controller, outside the cluster", **evidence)
    return _unserved_class(
        subject, f"no running {family.title} was found for {controller!r}", users, evidence
    )


def _unserved_class(subject: Subject, why: str, users: int, evidence: dict[str, Any]) -> Finding:
    """Fail when Ingresses use the class and go unrouted; warn while none does yet."""
    if users:
        return failed(subject, f"{why}: {users} Ingress(es) of this class are not served", **evidence)
    return warned(subject, f"{why}: no Ingress uses it yet", **evidence)


# -- ING-002 ------------------------------------------------------------------------------------


@check(
    id="ING-002",
    area="ingress",
    severity="medium",
    title="Exactly one IngressClass is marked as the default",
    rationale="""With several IngressClasses marked default, Kubernetes before 1.25 refuses every
    new Ingress that does not name a class, so routine deploys start failing; from 1.25 the API
    server silently hands such Ingresses the most recently created default, so a chart that marks
    its own class default reroutes every new class-less Ingress to its controller. With none,
    Ingresses without a class are ignored by controllers or picked up by whichever controller is
    configured to watch class-less Ingresses (on GKE, GKE Ingress serves them). Both are the kind
    of ambiguity that turns an ordinary deploy into an ingress incident. Only the exact value
    "true" marks a default: the API server ignores "True".""",
    remediation="""Mark exactly one class as the default, with the value exactly `"true"`, and remove the
annotation from the others:

```sh
kubectl annotate ingressclass alb ingressclass.kubernetes.io/is-default-class-
kubectl annotate ingressclass nginx ingressclass.kubernetes.io/is-default-class=true --overwrite
```""",
    references=(DEFAULT_CLASS_DOCS, "https://github.com/kubernetes/kubernetes/pull/110974", GKE_INGRESS_DOCS),
    inputs=("ingressclasses", "ingresses"),
)
def single_default_ingress_class(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    classes = inv.items("ingressclasses")
    if not classes:
        yield not_applicable(Subject.cluster(), "no IngressClass in the cluster (see ING-001)")
        return
    default_classes = [c for c in classes if _is_default(c)]
    defaults = sorted(name_of(c) for c in default_classes)
    evidence: dict[str, Any] = {"defaults": defaults, "classes": sorted(name_of(c) for c in classes)}
    if len(defaults) == 1:
        yield passed(Subject.cluster(), f"IngressClass {defaults[0]} is the only default", **evidence)
    elif len(defaults) > 1:
        yield failed(
            Subject.cluster(),
            f"{len(defaults)} IngressClasses are marked default ({', '.join(defaults)}): "
            + _several_defaults_effect(inv, default_classes),
            **evidence,
        )
    else:
        yield _no_default_finding(inv, classes, evidence)


def _no_default_finding(inv: Inventory, classes: list[Obj], evidence: dict[str, Any]) -> Finding:
    """No class is the default: what becomes of an Ingress created without a class."""
    none = "no IngressClass is the default"
    if misspelt := _misspelt_defaults(classes):
        none += f' ({DEFAULT_CLASS_ANNOTATION} on {", ".join(misspelt)} is not exactly "true": ignored)'
        evidence = {**evidence, "ignored_default_annotations": misspelt}
    if _on_gke(inv):
        return passed(
            Subject.cluster(),
            f"{none}: GKE Ingress, GKE's built-in controller, serves Ingresses that name no class",
            **evidence,
        )
    classless = [i for i in inv.items("ingresses") if not _class_name(i)]
    if classless:
        return failed(
            Subject.cluster(),
            f"{none} and {len(classless)} Ingress(es) name no class",
            classless=len(classless),
            **evidence,
        )
    return warned(
        Subject.cluster(), f"{none}: an Ingress created without a class will be ignored", **evidence
    )


def _several_defaults_effect(inv: Inventory, defaults: list[Obj]) -> str:
    """What the API server's DefaultIngressClass admission does with a new class-less Ingress."""
    newest = _newest_class(defaults)
    picks = "the most recently created of them" + (f" ({newest})" if newest else "")
    version = inv.version
    if version is None:
        return (
            f"from Kubernetes 1.25 the API server gives new Ingresses that name no class {picks}; "
            "older servers reject them"
        )
    if version[:2] >= NEWEST_DEFAULT_FROM:
        return f"the API server silently gives every new Ingress that names no class {picks}"
    return "the API server rejects new Ingresses that do not name a class"


def _newest_class(classes: list[Obj]) -> str | None:
    """The admission plugin's pick: the newest creationTimestamp, the first name on a tie; None when
    a creation time is missing."""
    created = {name_of(c): parse_timestamp(meta(c).get("creationTimestamp")) for c in classes}
    if None in created.values():
        return None
    # max() keeps the first of equal times, so going through the names in order breaks ties by name.
    return max(sorted(created), key=lambda name: created[name])


# -- ING-003 ------------------------------------------------------------------------------------


@check(
    id="ING-003",
    area="ingress",
    severity="medium",
    title="Ingresses name an existing IngressClass through spec.ingressClassName",
    rationale="""An Ingress that names a class that does not exist is served by nobody; one that
    names no class depends on whatever is the default when it was created; one that still uses
    the `kubernetes.io/ingress.class` annotation (deprecated since Kubernetes 1.18) depends on
    controller flags that newer controllers drop. Each is an outage waiting for the next
    controller upgrade or class rename. GKE is the exception: its built-in controller, GKE
    Ingress, has no IngressClass and Google documents the annotation (`gce`, `gce-internal`) as
    the way to select it; an Ingress there that names no class is GKE Ingress's by default.""",
    remediation="""Set the class explicitly and drop the legacy annotation:

```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {}            # no kubernetes.io/ingress.class
spec:
  ingressClassName: nginx    # an IngressClass that exists
```

On GKE, select GKE Ingress with the annotation instead: `kubernetes.io/ingress.class: gce` (or
`gce-internal` for an internal load balancer).""",
    references=(INGRESS_CLASS_DOCS, INGRESS_DOCS + "#deprecated-annotation", GKE_INGRESS_DOCS),
    inputs=("ingresses", "ingressclasses"),
)
def ingresses_name_a_class(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    classes = {name_of(c) for c in inv.items("ingressclasses")}
    defaults = sorted(name_of(c) for c in inv.items("ingressclasses") if _is_default(c))
    ingresses = inv.items("ingresses")
    if not ingresses:
        yield not_applicable(Subject.cluster(), "no Ingress in the cluster")
        return
    on_gke = _on_gke(inv)
    for ingress in ingresses:
        yield _ingress_class_finding(inv, ingress, classes, defaults, on_gke)


def _ingress_class_finding(
    inv: Inventory, ingress: Obj, classes: set[str], defaults: list[str], on_gke: bool
) -> Finding:
    subject = inv.subject("ingresses", ingress)
    name = _class_name(ingress)
    legacy = annotations_of(ingress).get(LEGACY_CLASS_ANNOTATION)
    evidence = {"ingressClassName": name, "legacy_annotation": legacy}
    if on_gke and _served_by_gke_ingress(ingress):
        return _gke_ingress_finding(subject, legacy, evidence)
    if name and name not in classes:
        return failed(
            subject, f"names IngressClass {name!r}, which does not exist: nobody serves it", **evidence
        )
    if legacy is not None:
        return warned(
            subject,
            f"uses the deprecated {LEGACY_CLASS_ANNOTATION} annotation ({legacy!r}); "
            "set spec.ingressClassName instead",
            **evidence,
        )
    if name:
        return passed(subject, f"uses IngressClass {name}", **evidence)
    if len(defaults) == 1:
        return warned(subject, f"names no class and relies on the default class {defaults[0]}", **evidence)
    return failed(
        subject, "names no IngressClass and there is no single default class to fall back on", **evidence
    )


def _gke_ingress_finding(subject: Subject, legacy: object, evidence: dict[str, Any]) -> Finding:
    # GKE Ingress ignores ingressClassName: the annotation is the documented way to select it.
    if legacy:
        return passed(
            subject, f"served by GKE Ingress, selected with {LEGACY_CLASS_ANNOTATION}: {legacy!r}", **evidence
        )
    return warned(
        subject,
        "names no class and relies on GKE's default, GKE Ingress; set "
        f"{LEGACY_CLASS_ANNOTATION}: gce (or gce-internal) to keep it there",
        **evidence,
    )


# -- ING-004 ------------------------------------------------------------------------------------


@check(
    id="ING-004",
    area="ingress",
    severity="critical",
    title="ingress-nginx runs a version without known security advisories",
    rationale="""ingress-nginx controllers read every Secret in the cluster by default, so a
    configuration-injection bug in them is a cluster takeover: snippet and annotation injection
    (CVE-2021-25742, CVE-2023-5043/5044, CVE-2024-7646), IngressNightmare (CVE-2025-1974, rated
    9.8: unauthenticated code execution from anywhere on the pod network through the admission
    webhook, with CVE-2025-1097, -1098, -24513 and -24514) and the 2026 injection series. The
    version is read from the controller's image tag; the table lists each advisory's fixed
    releases.""",
    remediation="""Upgrade the controller to a release that fixes every listed advisory (the newest
patch of a supported line), e.g. with Helm:

```sh
helm upgrade ingress-nginx ingress-nginx/ingress-nginx -n ingress-nginx --reuse-values \\
  --set controller.image.tag=v1.15.1
```

Until then, restrict who may create Ingresses and keep the admission webhook unreachable from
other pods (NetworkPolicy). Plan the migration away from ingress-nginx (see ING-005).""",
    references=(
        "https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/",
        "https://github.com/kubernetes/kubernetes/issues/131009",
        "https://github.com/kubernetes/kubernetes/issues/137893",
        "https://github.com/kubernetes/ingress-nginx/releases",
    ),
    inputs=("deployments", "daemonsets"),
)
def ingress_nginx_known_cves(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    controllers = _nginx_controllers(inv)
    if not controllers:
        yield _no_nginx(inv)
        return
    for controller in controllers:
        subject = inv.subject(controller.key, controller.obj)
        evidence = controller.to_evidence(inv)
        judged = controller.oldest_version
        if judged is None:
            yield unknown(
                subject, f"cannot read the controller version from image {controller.image!r}", **evidence
            )
            continue
        advisories = affecting(INGRESS_NGINX_ADVISORIES, judged)
        version = format_version(judged)
        if judged != controller.version:
            version += f" in running pods (the template asks for {controller.version_text})"
            evidence["running_images"] = list(controller.running_images)
        if not advisories:
            yield passed(subject, f"ingress-nginx v{version} has no known advisory", **evidence)
            continue
        worst = next((a for a in advisories if a.severity == "critical"), advisories[-1])
        newest_fix = max(fix for a in advisories for fix in a.fixed)
        yield failed(
            subject,
            f"ingress-nginx v{version} is affected by {len(advisories)} advisories, including "
            f"{worst.id} ({worst.summary}); fixed releases go up to v{format_version(newest_fix)}",
            advisories=[a.to_evidence() for a in advisories],
            **evidence,
        )


# -- ING-005 ------------------------------------------------------------------------------------


@check(
    id="ING-005",
    area="ingress",
    severity="high",
    title="No ingress-nginx controller: the project is retired and gets no security fixes",
    rationale="""Kubernetes SIG Network and the Security Response Committee retired ingress-nginx:
    best-effort maintenance ended in March 2026, after which there are no releases, bug fixes or
    security fixes, and the Steering Committee warned that staying on it leaves users open to
    attack. The controller holds read access to every Secret and faces the internet, and it was
    the subject of a new injection CVE every few months; the next one will stay open for good.""",
    remediation="""Migrate to a maintained implementation: a Gateway API implementation (Envoy Gateway,
Istio, Cilium, Contour, NGINX Gateway Fabric, Traefik, …) or another maintained Ingress controller.
`ingress2gateway` translates Ingresses and common ingress-nginx annotations:

```sh
ingress2gateway print --providers=ingress-nginx -A > gateway-resources.yaml
```

Run the new controller beside the old one under its own class, move hosts one by one, then remove
ingress-nginx.""",
    references=(*INGRESS_NGINX_RETIREMENT_REFERENCES, GATEWAY_API, INGRESS2GATEWAY),
    inputs=("deployments", "daemonsets"),
)
def ingress_nginx_retired(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    controllers = _controllers(inv)
    if not controllers:
        yield not_applicable(Subject.cluster(), "no ingress controller workload runs in the cluster")
        return
    today = ctx.now.date()
    for controller in controllers:
        subject = inv.subject(controller.key, controller.obj)
        evidence = controller.to_evidence(inv)
        if controller.family is not INGRESS_NGINX:
            yield passed(
                subject, f"{controller.family.title} is not the retired kubernetes/ingress-nginx", **evidence
            )
            continue
        evidence.update(
            retirement_announced=INGRESS_NGINX_RETIREMENT_ANNOUNCED.isoformat(),
            security_fixes_until=INGRESS_NGINX_RETIRED.isoformat(),
        )
        yield _retirement_finding(subject, controller, today, evidence)


def _retirement_finding(
    subject: Subject, controller: Controller, today: date, evidence: dict[str, Any]
) -> Finding:
    if today > INGRESS_NGINX_RETIRED:
        days = (today - INGRESS_NGINX_RETIRED).days
        return failed(
            subject,
            f"runs ingress-nginx ({controller.version_text}), retired in March 2026: no security fix "
            f"for {days} days and none to come; migrate to Gateway API or another controller",
            **evidence,
        )
    if today >= INGRESS_NGINX_RETIREMENT_ANNOUNCED:
        return warned(
            subject,
            f"runs ingress-nginx ({controller.version_text}), which stops receiving security fixes "
            "at the end of March 2026: plan the migration now",
            **evidence,
        )
    return passed(
        subject, f"ingress-nginx ({controller.version_text}) is maintained as of this scan", **evidence
    )


# -- ING-006 ------------------------------------------------------------------------------------


@check(
    id="ING-006",
    area="ingress",
    severity="high",
    title="ingress-nginx does not allow snippet annotations",
    rationale="""With `allow-snippet-annotations` on, anyone who may create an Ingress can inject
    raw nginx configuration into a controller that reads every Secret in the cluster
    (CVE-2021-25742); the 2023 and 2025 injection CVEs started from the same annotations. The
    default changed over time — on before v1.9.0, off from v1.9.0 — so a ConfigMap that never
    mentions the key is safe or not depending on the controller version; from v1.12.0 snippets
    additionally need `annotations-risk-level: Critical`.""",
    remediation="""Turn snippets off in the controller's ConfigMap (the one named by its `--configmap` flag)
and rewrite the Ingresses that use `*-snippet` annotations with regular annotations:

```yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  allow-snippet-annotations: "false"
```

With Helm: `--set controller.allowSnippetAnnotations=false`.""",
    references=(NGINX_CONFIGMAP_DOCS, "https://github.com/kubernetes/kubernetes/issues/126811"),
    inputs=("deployments", "daemonsets", "configmaps"),
)
def ingress_nginx_snippets(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    controllers = _nginx_controllers(inv)
    if not controllers:
        yield _no_nginx(inv)
        return
    for controller in controllers:
        yield _snippets_finding(inv, controller)


def _snippets_finding(inv: Inventory, controller: Controller) -> Finding:
    subject = inv.subject(controller.key, controller.obj)
    ref = controller.configmap_ref()
    configmap = inv.get("configmaps", *ref) if ref else None
    data = (configmap or {}).get("data") or {}
    source = f"ConfigMap {ref[0]}/{ref[1]}" if ref else "no --configmap flag"
    if ref and configmap is None:
        source += " (not found: built-in defaults apply)"
    value, risk = data.get(SNIPPETS_KEY), data.get(RISK_LEVEL_KEY)
    evidence = {
        **controller.to_evidence(inv),
        "configmap": f"{ref[0]}/{ref[1]}" if ref else None,
        SNIPPETS_KEY: value,
        RISK_LEVEL_KEY: risk,
    }
    if REDACTED in (value, risk):
        return unknown(
            subject, f"the values of {source} were redacted, so its settings are unknown", **evidence
        )
    version = controller.version
    if value is None:
        if version is None:
            return unknown(
                subject,
                f"{SNIPPETS_KEY} is not set in {source} and the controller version is unknown",
                **evidence,
            )
        enabled = version < SNIPPETS_DEFAULT_OFF_FROM
        origin = f"not set in {source}; the default for {controller.version_text} is {str(enabled).lower()}"
    else:
        enabled = str(value).strip().lower() == "true"
        origin = f"{SNIPPETS_KEY}: {value!r} in {source}"
    if not enabled:
        return passed(subject, f"snippet annotations are disabled ({origin})", **evidence)
    gated = version is not None and version >= RISK_LEVEL_GATE_FROM and str(risk or "High") != "Critical"
    if gated:
        return warned(
            subject,
            f"snippet annotations are enabled ({origin}) but still blocked by annotations-risk-level "
            f"{risk or 'High (default)'}: one setting away from arbitrary nginx configuration",
            **evidence,
        )
    return failed(
        subject,
        f"snippet annotations are enabled ({origin}): any Ingress author can inject nginx "
        "configuration into a controller that reads all Secrets",
        **evidence,
    )


# -- ING-007/008/009: the edge survives losing a node --------------------------------------------


def _judge_data_planes(inv: Inventory, judge: Callable[[Controller], Finding]) -> Iterator[Finding]:
    """`judge` on every ingress controller whose own pods carry the traffic; not-applicable for the
    others, and for a cluster that runs no ingress controller workload."""
    controllers = _controllers(inv)
    if not controllers:
        yield not_applicable(Subject.cluster(), "no ingress controller workload runs in the cluster")
    for controller in controllers:
        if controller.family.in_cluster_data_plane:
            yield judge(controller)
        else:
            yield _cloud_data_plane(inv, controller)


def _cloud_data_plane(inv: Inventory, controller: Controller) -> Finding:
    return not_applicable(
        inv.subject(controller.key, controller.obj),
        f"{controller.family.title}: traffic flows through a cloud load balancer, not these pods",
    )


@check(
    id="ING-007",
    area="ingress",
    severity="high",
    title="Ingress controllers run at least two replicas",
    rationale="""One controller pod is one node failure, one eviction or one bad rollout away from
    taking every hostname in the cluster offline at once. Zalando's ingress layer (Skipper behind
    an ALB) shows how the edge multiplies any failure into customer impact; the edge deserves more
    redundancy than any single application behind it.""",
    remediation="""Run two or more replicas (or a DaemonSet on dedicated edge nodes) and size them so one can
carry the load while another restarts:

```yaml
spec:
  replicas: 3
```

With the ingress-nginx chart: `--set controller.replicaCount=3` (or `controller.autoscaling.enabled=true`
with `minReplicas: 2`).""",
    references=(ZALANDO_TALK, GIANT_SWARM_TALK),
    inputs=("deployments", "daemonsets"),
)
def ingress_controller_replicas(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _judge_data_planes(inv, lambda controller: _replicas_finding(inv, controller))


def _replicas_finding(inv: Inventory, controller: Controller) -> Finding:
    subject = inv.subject(controller.key, controller.obj)
    desired = desired_replicas(controller.key, controller.obj)
    ready = ready_replicas(controller.key, controller.obj)
    evidence = {**controller.to_evidence(inv), "desired": desired, "ready": ready}
    unit = "pod(s), one per node" if controller.key == "daemonsets" else "replica(s)"
    if desired < 2:
        return failed(
            subject, f"runs only {desired} {unit}: one failure takes the whole ingress down", **evidence
        )
    if ready < 2:
        return warned(subject, f"wants {desired} {unit} but only {ready} are ready", **evidence)
    return passed(subject, f"runs {desired} {unit} ({ready} ready)", **evidence)


@check(
    id="ING-008",
    area="ingress",
    severity="medium",
    title="A PodDisruptionBudget protects each ingress controller",
    rationale="""Node drains during upgrades and autoscaler scale-downs evict pods without asking
    what they serve. Without a PodDisruptionBudget, a drain can evict every controller replica
    together and black-hole all ingress traffic for as long as rescheduling takes; a budget that
    allows no disruption at all blocks the drain instead, and stalled upgrades end in forced
    drains.""",
    remediation="""Add a budget that keeps all but one replica up:

```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller}
```""",
    references=(PDB_DOCS,),
    inputs=("deployments", "daemonsets", "poddisruptionbudgets"),
)
def ingress_controller_pdb(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _judge_data_planes(inv, lambda c: pdb_finding(inv, c.key, c.obj, c.to_evidence(inv)))


@check(
    id="ING-009",
    area="ingress",
    severity="medium",
    title="Ingress controller replicas are spread over nodes",
    rationale="""Replicas only help if they do not share a fate. The scheduler happily stacks pods
    on one node unless told otherwise — Moonlight's outage came from exactly that, fixed with
    anti-affinity — and an ingress controller stacked on one node goes down with it, taking the
    whole edge along.""",
    remediation="""Spread the controller over nodes (and zones) in its pod template:

```yaml
spec:
  template:
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller}
```""",
    references=(SPREAD_DOCS, "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/"),
    inputs=("deployments", "daemonsets"),
)
def ingress_controller_spread(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    yield from _judge_data_planes(inv, lambda c: spread_finding(inv, c.key, c.obj, c.to_evidence(inv)))


# -- ING-010 ------------------------------------------------------------------------------------

# Annotations with which cloud load balancers terminate TLS without spec.tls: on the Ingress
# (a cloud's own ingress controller)...
CLOUD_TLS_ANNOTATIONS = (
    "alb.ingress.kubernetes.io/certificate-arn",
    "networking.gke.io/managed-certificates",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
)
# ...or on the LoadBalancer Service in front of an in-cluster controller (ingress-nginx behind an
# NLB with an ACM certificate, as its AWS deployment guide sets it up).
SERVICE_TLS_ANNOTATIONS = (
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "service.beta.kubernetes.io/do-loadbalancer-certificate-id",
)


@check(
    id="ING-010",
    area="ingress",
    severity="medium",
    title="Ingresses terminate TLS for every host they route",
    rationale="""An Ingress without TLS serves its hosts in clear text: session cookies, tokens
    and form posts cross the internet readable and forgeable, and browsers flag the site.
    Because TLS is configured per Ingress, a new host added to an old Ingress is easy to leave
    uncovered.""",
    remediation="""List every host under `spec.tls` with a certificate Secret (cert-manager can issue it):

```yaml
metadata:
  annotations: {cert-manager.io/cluster-issuer: letsencrypt}
spec:
  tls:
  - hosts: [shop.example.com]
    secretName: shop-example-com-tls
```""",
    references=(TLS_DOCS, "https://cert-manager.io/docs/usage/ingress/"),
    inputs=("ingresses",),
)
def ingresses_use_tls(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    ingresses = inv.items("ingresses")
    if not ingresses:
        yield not_applicable(Subject.cluster(), "no Ingress in the cluster")
        return
    terminating = _tls_terminating_load_balancers(inv)
    for ingress in ingresses:
        yield _tls_finding(inv, ingress, terminating.get(_effective_class(inv, ingress) or ""))


def _effective_class(inv: Inventory, ingress: Obj) -> str | None:
    """The IngressClass an Ingress gets: its own, its legacy annotation's, or the default one."""
    named = _class_name(ingress) or annotations_of(ingress).get(LEGACY_CLASS_ANNOTATION)
    if named:
        return str(named)
    defaults = [name_of(c) for c in inv.items("ingressclasses") if _is_default(c)]
    return defaults[0] if len(defaults) == 1 else None


def _tls_terminating_load_balancers(inv: Inventory) -> dict[str, str]:
    """IngressClass name -> the LoadBalancer Service of its controller that terminates TLS with a
    cloud certificate, described with its annotation."""
    found: dict[str, str] = {}
    for ingress_class in inv.items("ingressclasses"):
        wanted = str((ingress_class.get("spec") or {}).get("controller") or "")
        for controller in _controllers(inv):
            if wanted and controller.serves(wanted) and (service := _tls_service_of(inv, controller)):
                found[name_of(ingress_class)] = service
                break
    return found


def _tls_service_of(inv: Inventory, controller: Controller) -> str | None:
    pod_labels = pod_labels_of(controller.key, controller.obj)
    for service in inv.items("services"):
        spec = service.get("spec") or {}
        selector = spec.get("selector")
        if (
            spec.get("type") != "LoadBalancer"
            or namespace_of(service) != controller.namespace
            or not isinstance(selector, dict)
            or not selector
            or not selector_matches(selector, pod_labels)
        ):
            continue
        annotation = next((a for a in SERVICE_TLS_ANNOTATIONS if annotations_of(service).get(a)), None)
        if annotation:
            return f"Service {namespace_of(service)}/{name_of(service)} ({annotation})"
    return None


def _tls_finding(inv: Inventory, ingress: Obj, terminating_service: str | None) -> Finding:
    subject = inv.subject("ingresses", ingress)
    spec = ingress.get("spec") or {}
    hosts = sorted({str(r["host"]) for r in dicts(spec.get("rules")) if r.get("host")})
    tls = dicts(spec.get("tls"))
    covered = {str(h) for t in tls for h in as_list(t.get("hosts"))}
    cloud = sorted(a for a in CLOUD_TLS_ANNOTATIONS if a in annotations_of(ingress))
    evidence = {"hosts": hosts, "tls_hosts": sorted(covered), "cloud_tls": cloud}
    if cloud and not tls:
        return passed(subject, f"TLS is terminated by the cloud load balancer ({cloud[0]})", **evidence)
    if terminating_service and not tls:
        return passed(
            subject,
            f"TLS is terminated by the controller's load balancer, {terminating_service}",
            load_balancer_tls=terminating_service,
            **evidence,
        )
    if not tls:
        return failed(
            subject, f"no TLS: {', '.join(hosts) or 'all hosts'} served over plain HTTP", **evidence
        )
    uncovered = [h for h in hosts if not _host_covered(h, covered)]
    if uncovered and not any(not t.get("hosts") for t in tls):
        return warned(subject, f"TLS does not cover {', '.join(uncovered)}", uncovered=uncovered, **evidence)
    return passed(subject, f"TLS covers {', '.join(hosts) or 'the default host'}", **evidence)


def _host_covered(host: str, covered: set[str]) -> bool:
    if host in covered:
        return True
    parent = host.split(".", 1)[1] if "." in host else ""
    return bool(parent) and f"*.{parent}" in covered


# -- ING-011 ------------------------------------------------------------------------------------

GATEWAY_SECURITY_DOCS = "https://gateway-api.sigs.k8s.io/concepts/security-model/"
ROUTE_ATTACHMENT_DOCS = "https://gateway-api.sigs.k8s.io/concepts/api-overview/#attaching-routes-to-gateways"
# The API server labels every namespace with its own name (from Kubernetes 1.21).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@check(
    id="ING-011",
    area="ingress",
    severity="high",
    title="Shared Gateways admit routes only from the namespaces meant to use them",
    rationale="""A Gateway listener with `allowedRoutes.namespaces.from: All` lets a route from any
    namespace attach to it. On a shared, public Gateway, whoever can create an HTTPRoute anywhere
    (a tenant, a CI job, a compromised app's service account) can claim a host name or a path of
    another team's site and receive its logins and API calls, with the Gateway's certificate
    vouching for it. The Gateway API's role split (the platform owns Gateways, teams own routes)
    only holds if the listener says which teams. A `Selector` that asks nothing of a namespace
    (an empty one, one that only excludes some, or one that only asks for the
    `kubernetes.io/metadata.name` label the API server puts on every namespace) says none, and
    counts as `All`.

    The Gateway's `spec.allowedListeners` is the same door one level up: it says which
    namespaces may attach a ListenerSet, whose listeners join the Gateway's own on its address
    and choose their own host names and `allowedRoutes`. Open to every namespace, it lets anyone
    add a listener for `shop.example.com` under the platform's `*.example.com` one; requests for
    that host then go to the more specific listener, and to whatever routes its author admits.""",
    remediation="""Admit routes from the namespaces that should publish through the listener, by
label, and give each listener the host names it may serve:

```yaml
listeners:
- name: https
  protocol: HTTPS
  port: 443
  hostname: "*.shop.example.com"
  allowedRoutes:
    namespaces:
      from: Selector
      selector:
        matchLabels: {gateway-access/shared: "true"}
```

If teams add their own listeners through ListenerSets, admit those only from the Gateway's
namespace or from labelled namespaces, never from all (leaving `allowedListeners` out admits
none):

```yaml
spec:
  allowedListeners:
    namespaces:
      from: Selector
      selector:
        matchLabels: {gateway-access/listeners: "true"}
```""",
    references=(GATEWAY_SECURITY_DOCS, ROUTE_ATTACHMENT_DOCS),
    inputs=("gateway.gateways",),
)
def gateway_route_admission(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    gateways = inv.items("gateway.gateways")
    if not gateways:
        yield not_applicable(Subject.cluster(), "no Gateway API Gateway in the cluster")
        return
    for gateway in gateways:
        yield _route_admission_finding(inv, gateway)


def _route_admission_finding(inv: Inventory, gateway: Obj) -> Finding:
    subject = inv.subject("gateway.gateways", gateway)
    spec = as_object(gateway.get("spec"))
    open_to_all = [
        listener
        for listener in dicts(spec.get("listeners"))
        if _admits_every_namespace(as_object(listener.get("allowedRoutes")).get("namespaces"))
    ]
    # A ListenerSet's listener picks its own host name: from every namespace, any host name.
    listener_sets_from_all = _admits_every_namespace(
        as_object(spec.get("allowedListeners")).get("namespaces")
    )
    evidence: dict[str, Any] = {
        "listeners_admitting_all_namespaces": [_listener_name(x) for x in open_to_all],
        "listener_sets_from_all_namespaces": listener_sets_from_all,
    }
    if not open_to_all and not listener_sets_from_all:
        return passed(subject, "every listener admits routes only from chosen namespaces", **evidence)
    # TCP and UDP listeners have no host names: a route attached there takes the whole port.
    whole_port = [x for x in open_to_all if x.get("protocol") in ("TCP", "UDP")]
    any_host = [x for x in open_to_all if x not in whole_port and "*" in str(x.get("hostname") or "*")]
    taken = any_host + whole_port
    openings = []
    if open_to_all:
        named = [_listener_name(x) for x in (taken or open_to_all)]
        scope = " or ".join(
            what for what, found in (("any host name", any_host), ("its whole port", whole_port)) if found
        )
        listeners = f"listeners {', '.join(named)} admit" if len(named) > 1 else f"listener {named[0]} admits"
        openings.append(f"{listeners} routes from every namespace for {scope or 'its host name'}")
    if listener_sets_from_all:
        openings.append(
            "spec.allowedListeners lets a ListenerSet from every namespace add listeners for any host name"
        )
    what = ", and ".join(openings)
    guard, _ = ExposureIndex.of(inv).gateway_guard(gateway)
    if guard:
        return warned(subject, f"{what} (the Gateway is not public: {guard})", **evidence)
    if not taken and not listener_sets_from_all:
        return warned(subject, what, **evidence)
    how = (
        " (a listener for a more specific host name gets that host's requests)"
        if listener_sets_from_all
        else ""
    )
    return failed(
        subject, f"{what}: any namespace can take over another team's site on this Gateway{how}", **evidence
    )


def _admits_every_namespace(namespaces: object) -> bool:
    """`from: All`, or `from: Selector` with a selector every namespace meets."""
    namespaces = as_object(namespaces)
    source = namespaces.get("from")
    return source == "All" or (source == "Selector" and _selects_every_namespace(namespaces.get("selector")))


def _selects_every_namespace(selector: object) -> bool:
    """A label selector that asks nothing of a namespace: empty (it selects everything), or made
    only of exclusions (`NotIn`, `DoesNotExist`: any namespace created tomorrow qualifies) and of
    the `kubernetes.io/metadata.name` label every namespace carries. A missing or malformed
    selector selects nothing."""
    if not isinstance(selector, dict) or selector.get("matchLabels"):
        return False
    expressions = selector.get("matchExpressions") or []
    return isinstance(expressions, list) and all(
        isinstance(e, dict)
        and (
            e.get("operator") in ("NotIn", "DoesNotExist")
            or (e.get("key") == NAMESPACE_NAME_LABEL and e.get("operator") == "Exists")
        )
        for e in expressions
    )


def _listener_name(listener: Obj) -> str:
    hostname = listener.get("hostname")
    return f"{listener.get('name')} ({hostname})" if hostname else str(listener.get("name"))

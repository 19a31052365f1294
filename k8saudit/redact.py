"""Redaction applied to every object as it arrives, before anything is kept.

What is removed, and why (a snapshot must be safe to attach to a ticket):
- `metadata.managedFields`: bulky bookkeeping, no check needs it.
- the `kubectl.kubernetes.io/last-applied-configuration` annotation: it is a full copy of the
  applied manifest, and for a Secret applied with kubectl it holds the secret values. Only its
  `apiVersion` is kept aside (the versions checks need it to find objects written under removed
  APIs).
- literal environment variable values (`env[].value`): they routinely hold passwords and tokens.
  Names and `valueFrom` references stay. A few non-secret settings that checks read are allowed.
- values of command-line flags whose name says they carry a secret (`--password=...`).
- Secret `data`/`stringData`: the collector asks for metadata only, this is the second lock.
- ConfigMap values, except for the few ConfigMaps the checks read (DNS, ingress controller);
  even there, credentials written inline in a Corefile are masked.
- the whole value of an Ingress's snippet annotations (any name ending in `-snippet` or
  `-snippets`, such as ingress-nginx's `configuration-snippet` or NGINX Inc's
  `nginx.org/server-snippets`): raw controller configuration, which may compare or
  send any secret (`proxy_set_header X-Api-Key "…"`); credentials inline in its other annotations
  (an auth URL's password, an `Authorization: Basic …`).
- in a Gateway API route, the header values its filters set or add and the header and query
  parameter values its matches compare (a shared API key as the condition).

Addresses k8saudit is given lose their `user:password@` the same way (`without_userinfo`): a
kubeconfig's server, a release-calendar mirror.
"""

from __future__ import annotations

import base64
import fnmatch
import re
from typing import Any
from urllib.parse import unquote

import orjson

from k8saudit.readers import as_object, dicts

REDACTED = "<redacted by k8saudit>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# Env values that are configuration switches read by checks, never credentials.
ENV_VALUES_KEPT = frozenset(
    {
        "AWS_VPC_K8S_CNI_EXTERNALSNAT",
        "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
        # Authentication switches of admin UIs (exposure checks): on/off and role names, no secrets.
        "GF_AUTH_ANONYMOUS_ENABLED",
        "GF_AUTH_ANONYMOUS_ORG_ROLE",
        "GF_AUTH_DISABLE_LOGIN_FORM",
        "DOCKER_TLS_CERTDIR",
        "ETCD_CLIENT_CERT_AUTH",
    }
)

# (namespace glob, name glob, key globs kept). Everything else keeps its keys, not its values.
CONFIGMAP_VALUES_KEPT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("kube-system", "coredns", ("Corefile", "*.server", "*.override")),
    ("kube-system", "coredns-custom", ("*.server", "*.override")),
    ("kube-system", "kube-dns", ("stubDomains", "upstreamNameservers")),
    ("kube-system", "node-local-dns", ("Corefile",)),
    ("kube-system", "nodelocaldns", ("Corefile",)),
    ("kube-system", "*dns-autoscaler", ("linear", "ladder")),
    ("*", "*ingress-nginx-controller", ("allow-snippet-annotations", "annotations-risk-level")),
    ("*", "nginx-configuration", ("allow-snippet-annotations", "annotations-risk-level")),
    ("*", "*nginx-ingress*", ("allow-snippet-annotations", "annotations-risk-level")),
    # Other common ingress-nginx ConfigMap names: kubespray, MicroK8s, AKS application routing.
    ("*", "ingress-nginx", ("allow-snippet-annotations", "annotations-risk-level")),
    ("*", "nginx-load-balancer-*-conf", ("allow-snippet-annotations", "annotations-risk-level")),
    ("app-routing-system", "nginx", ("allow-snippet-annotations", "annotations-risk-level")),
    # CoreDNS deployed under a release-prefixed name (RKE2: rke2-coredns-rke2-coredns).
    ("kube-system", "*coredns*", ("Corefile",)),
    # OpenShift's DNS operator writes the Corefile of its CoreDNS here.
    ("openshift-dns", "dns-default", ("Corefile",)),
)

_COREFILE_SECRET_LINE = re.compile(
    r"^([ \t]*(?:credentials|secret|aws_access_key|password))[ \t]+[^\n]*$", re.MULTILINE
)

# A flag whose name says it carries a secret (`--db-password`, `--api-key`). Tested as two linear
# steps, never one pattern with two open-ended runs: cluster text is hostile, and such a pattern
# backtracks for hours over a megabyte-long argument.
_FLAG_NAME = re.compile(r"--?[A-Za-z0-9_.-]+")
_SECRET_WORDS = ("password", "passwd", "token", "secret", "apikey", "api-key", "api_key", "credential")

# Where the pod spec sits in each workload kind.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "pods": ("spec",),
    "deployments": ("spec", "template", "spec"),
    "daemonsets": ("spec", "template", "spec"),
    "statefulsets": ("spec", "template", "spec"),
    "replicasets": ("spec", "template", "spec"),
    "jobs": ("spec", "template", "spec"),
    "cronjobs": ("spec", "jobTemplate", "spec", "template", "spec"),
}


# Beside each pod spec, the metadata of its pods: a workload's pod template's, a pod's own.
_POD_LABEL_PATHS = {key: (*path[:-1], "metadata", "labels") for key, path in _POD_SPEC_PATHS.items()}


def pod_spec_of(key: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec inside an object of inventory kind `key`, or None."""
    spec = _at(obj, _POD_SPEC_PATHS.get(key))
    return spec if isinstance(spec, dict) else None


def pod_labels_of(key: str, obj: dict[str, Any]) -> dict[str, str]:
    """The labels of the pods an object of inventory kind `key` runs (a pod's own, a workload's
    pod template's), or none."""
    labels = _at(obj, _POD_LABEL_PATHS.get(key))
    return labels if isinstance(labels, dict) else {}


def _at(obj: dict[str, Any], path: tuple[str, ...] | None) -> Any:
    """What sits at `path` in nested objects, or None where a step is missing or not an object."""
    if path is None:
        return None
    node: Any = obj
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def redact(
    key: str, obj: dict[str, Any], metadata_only: bool = False, spec_redacted: bool = False
) -> str | None:
    """Redact `obj` (an item of inventory kind `key`) in place; with `spec_redacted`, all but its
    pod spec, which was redacted part by part as it was built (`redact_pod_spec_part`).

    Returns the `apiVersion` recorded in the last-applied annotation, if there was one.
    """
    meta = obj.get("metadata")
    applied_api_version = None
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            applied_api_version = _applied_api_version(annotations.pop(LAST_APPLIED))
    if metadata_only or key == "secrets":
        for field in list(obj):
            if field not in ("apiVersion", "kind", "metadata"):
                del obj[field]
        return applied_api_version
    if key == "configmaps":
        _redact_configmap(obj)
        return applied_api_version
    if key == "ingresses":
        _redact_annotation_credentials(meta)
    elif key in ROUTE_KINDS:
        _redact_route_headers(obj)
    spec = None if spec_redacted else pod_spec_of(key, obj)
    if spec is not None:
        redact_pod_spec(spec)
    return applied_api_version


# Gateway API routes: the header values their filters set or add may be an upstream's credential
# (`Authorization: Basic …` towards a backend), and the header or query parameter values their
# matches compare may be the shared key a route lets through (`X-Api-Key: sk_live_…`). No check
# reads them; names and match types stay.
ROUTE_KINDS = frozenset({"gateway.httproutes", "gateway.grpcroutes"})
_HEADER_FILTERS = ("requestHeaderModifier", "responseHeaderModifier")
_MATCH_VALUE_LISTS = ("headers", "queryParams")


def _redact_route_headers(route: dict[str, Any]) -> None:
    for rule in dicts(as_object(route.get("spec")).get("rules")):
        for match in dicts(rule.get("matches")):
            _redact_match_values(match)
        for holder in (rule, *dicts(rule.get("backendRefs"))):
            for route_filter in dicts(holder.get("filters")):
                _redact_header_values(route_filter)


def _redact_match_values(match: dict[str, Any]) -> None:
    for name in _MATCH_VALUE_LISTS:
        for condition in dicts(match.get(name)):
            if "value" in condition:
                condition["value"] = REDACTED


def _redact_header_values(route_filter: dict[str, Any]) -> None:
    for name in _HEADER_FILTERS:
        modifier = as_object(route_filter.get(name))
        for header in (*dicts(modifier.get("set")), *dicts(modifier.get("add"))):
            if "value" in header:
                header["value"] = REDACTED


# ingress-nginx's configuration-, server-, auth- and stream-snippet (and other controllers'
# `*-snippet`, NGINX Inc's `nginx.org/server-snippets` and `location-snippets`): raw
# configuration, where a secret can sit in any form (`if ($http_x_api_key != "sk_live_…")`), so
# no pattern can pick it out. No check reads their content (ING-006 reads the controller's
# ConfigMap); that one is there stays visible.
_SNIPPET_ANNOTATION_SUFFIXES = ("-snippet", "-snippets")


def _redact_annotation_credentials(meta: object) -> None:
    """An Ingress's annotations are its controller's settings: a snippet may hold any secret, an
    auth URL may carry a password. Snippets lose their value; in the others the credential goes,
    the rest stays (checks read these annotations)."""
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict):
        for name, value in annotations.items():
            if str(name).lower().endswith(_SNIPPET_ANNOTATION_SUFFIXES):
                annotations[name] = REDACTED
            elif isinstance(value, str):
                annotations[name] = _without_inline_credentials(value)


def _applied_api_version(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        applied = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    version = applied.get("apiVersion") if isinstance(applied, dict) else None
    return version if isinstance(version, str) and len(version) < 100 else None


_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_CONTAINER_FIELDS = ("env", "command", "args")


def redact_pod_spec(spec: dict[str, Any]) -> None:
    for field in _CONTAINER_LISTS:
        containers = spec.get(field)
        if not isinstance(containers, list):
            continue
        for container in containers:
            if isinstance(container, dict):
                _redact_container(container)


def redact_pod_spec_part(key: str, field: str | None, value: Any) -> Any:
    """A part of a pod spec decoded on its own (`siblings.SpecSharing`), redacted as
    `redact_pod_spec` redacts it in a whole spec: `spec[key]` when `field` is None, else `field`
    of one entry of the list `spec[key]`."""
    if key not in _CONTAINER_LISTS:
        return value
    if field is None:
        redact_pod_spec({key: value})
        return value
    return _redacted_container_field(field, value)


def _redact_container(container: dict[str, Any]) -> None:
    for field in _CONTAINER_FIELDS:
        if field in container:
            container[field] = _redacted_container_field(field, container[field])


def _redacted_container_field(field: str, value: Any) -> Any:
    if not isinstance(value, list):
        return value
    if field == "env":
        for var in value:
            if isinstance(var, dict) and "value" in var and var.get("name") not in ENV_VALUES_KEPT:
                var["value"] = REDACTED
        return value
    return _redact_words(value) if field in ("command", "args") else value


def _is_secret_flag(name: str) -> bool:
    if _FLAG_NAME.fullmatch(name) is None:
        return False
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _redact_words(words: list[object]) -> list[object]:
    """`--password=x` keeps its name; in `--password x` the next word is the value. In any word
    (a flag's value, a `sh -c` script), a URL's password and an Authorization header's token."""
    out: list[object] = []
    value_follows = False
    for word in words:
        if value_follows and isinstance(word, str) and not word.startswith("-"):
            out.append(REDACTED)
            value_follows = False
            continue
        value_follows = False
        if not isinstance(word, str):
            out.append(word)
            continue
        if word.startswith("-"):
            name, equals, value = word.partition("=")
            if _is_secret_flag(name):
                if equals and value:
                    word = f"{name}={REDACTED}"
                elif not equals:
                    value_follows = True
        out.append(_without_inline_credentials(word))
    return out


# `postgres://app:s3cret@db/x`: the password, up to the `@` before the host.
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")
# `Authorization: Bearer eyJ…` in a curl or wget line: the credential after the scheme.
_AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic|authorization:\s*token)(\s+)[A-Za-z0-9._~+/-]{6,}=*")


def _without_inline_credentials(word: str) -> str:
    if "@" in word:
        word = _URL_PASSWORD.sub(rf"\1{REDACTED}@", word)
    if " " in word or "\t" in word:
        word = _AUTHORIZATION.sub(rf"\1\2{REDACTED}", word)
    return word


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))


# The rules compiled once: every ConfigMap of the cluster is looked up (tens of thousands).
_CONFIGMAP_RULES = tuple((_glob(ns), _glob(name), keys) for ns, name, keys in CONFIGMAP_VALUES_KEPT)
_ANY_KEPT_NAME = re.compile("|".join(f"(?:{rule.pattern})" for _, rule, _ in _CONFIGMAP_RULES))


def _kept_configmap_keys(namespace: str, name: str) -> tuple[str, ...]:
    if not _ANY_KEPT_NAME.match(name):
        return ()
    for ns_glob, name_glob, keys in _CONFIGMAP_RULES:
        if ns_glob.match(namespace) and name_glob.match(name):
            return keys
    return ()


def _redact_configmap(obj: dict[str, Any]) -> None:
    meta = obj.get("metadata") or {}
    kept = _kept_configmap_keys(str(meta.get("namespace", "")), str(meta.get("name", "")))
    for field in ("data", "binaryData"):
        values = obj.get(field)
        if not isinstance(values, dict):
            continue
        obj[field] = {
            k: (
                _redact_corefile_secrets(v)
                if field == "data" and any(fnmatch.fnmatchcase(k, g) for g in kept)
                else REDACTED
            )
            for k, v in values.items()
        }


def _redact_corefile_secrets(value: object) -> object:
    """Kept CoreDNS configuration may still carry credentials inline (etcd `credentials`, tsig
    `secret`, route53 `aws_access_key`, azure `secret`): mask the arguments of those lines."""
    return _COREFILE_SECRET_LINE.sub(rf"\1 {REDACTED}", value) if isinstance(value, str) else value


# `scheme://userinfo@`: the userinfo ends at the first `@` before any `/`, `?` or `#` (RFC 3986).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@]*)@")


def without_userinfo(url: str) -> tuple[str, str | None]:
    """`url` without a `user:password@` part, and that part as a Basic credential.

    kubectl sends such a part of a server address as basic auth when the kubeconfig's user has
    no credential (Go's HTTP client does), and so does `KubeAuth`. Cut here, it is never shown,
    stored in a snapshot or written into an error message, all of which name the address. Cut
    as text, so that an address that is not a valid URL loses it too.
    """
    match = _USERINFO.match(url)
    if match is None:
        return url, None
    user, _, password = match["userinfo"].partition(":")
    credential = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return match["scheme"] + url[match.end() :], f"Basic {credential}"

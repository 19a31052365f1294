"""What the cluster exposes, and what runs behind it; built once per inventory.

- Entry points: Services of type LoadBalancer or NodePort, Services with externalIPs,
  Ingresses, and Gateway API routes attached to a Gateway. Each knows how it is guarded
  (internal load balancer, source ranges, private address, auth annotation) and the addresses an
  opt-in probe would try.
- Backends: the pod templates (Deployments, DaemonSets, … or bare pods) a Service selects,
  found through the running pods (`inv.pods_selected_by`) and through the workloads' template
  labels (so a scaled-to-zero admin UI is still seen). Linear: one label index, one pass.
- Tables, data-driven and meant to grow: known admin interfaces (image, labels, ports and how to
  tell whether authentication is off), ingress controllers, and node agents that legitimately
  hold host privileges.
"""

from __future__ import annotations

import functools
import ipaddress
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from checks.etcd import etcd_settings
from checks.podspec import (
    ImageRef,
    bool_flag,
    command_tokens,
    container_name,
    container_ports,
    containers_of,
    env_value,
    flag_values,
    image_matches,
    parse_image,
)
from k8saudit.inventory import Inventory, label_selector_matches, selector_matches
from k8saudit.kinds import KINDS_BY_KEY
from k8saudit.model import Subject
from k8saudit.readers import annotations_of, as_list, as_object, dicts, labels_of, name_of, namespace_of
from k8saudit.redact import pod_labels_of, pod_spec_of

Obj = dict[str, Any]


# -- admin interfaces ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Auth:
    """What stands between a visitor and the interface."""

    open: bool  # True: no authentication at all
    reason: str


AuthRule = Callable[[Obj, ImageRef, tuple[int, ...]], Auth]  # container, image, reachable ports


@dataclass(frozen=True, slots=True)
class AdminInterface:
    name: str
    risk: str  # what a visitor gets
    images: tuple[str, ...] = ()  # image path globs (see podspec.image_matches)
    labels: tuple[dict[str, str], ...] = ()  # any of these label sets on the pod identifies it
    ports: tuple[int, ...] = ()  # where it listens (evidence, and port-based matching below)
    signature_ports: tuple[int, ...] = ()  # ports that identify it on their own
    # An extra condition for image and label matches (argocli is also the Argo CLI image).
    requires: Callable[[Obj, ImageRef], bool] | None = None
    auth: AuthRule = field(default=lambda c, i, p: Auth(True, "it has no authentication"))


def _always_open(reason: str) -> AuthRule:
    return lambda container, image, ports: Auth(True, reason)


def _dashboard_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    tokens = command_tokens(container)
    if bool_flag(tokens, "enable-skip-login"):
        return Auth(True, "--enable-skip-login puts a Skip button in place of the login")
    version = image.version
    if image.path.endswith("kubernetes-dashboard-amd64") and version is not None and version < (1, 7):
        return Auth(True, f"Dashboard {image.tag} predates the login screen (1.7)")
    return Auth(False, "token or kubeconfig login")


def _argo_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    modes = [
        m for value in flag_values(command_tokens(container), "auth-mode") if value for m in value.split(",")
    ]
    if "server" in modes:
        return Auth(True, "--auth-mode=server lets every visitor act as the Argo server's service account")
    if not modes and image.version is not None and image.version < (3,):
        return Auth(True, f"Argo {image.tag} defaults to --auth-mode=server")
    return Auth(False, f"auth mode {', '.join(modes) or 'client (default)'}")


_JUPYTER_TOKENS = ("NotebookApp.token", "ServerApp.token", "IdentityProvider.token")
_JUPYTER_PASSWORDS = (
    "NotebookApp.password",
    "ServerApp.password",
    "PasswordIdentityProvider.hashed_password",
)


def _jupyter_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    tokens = command_tokens(container)
    empty = {"", "''", '""'}
    token_off = any(
        v in empty for name in _JUPYTER_TOKENS for v in flag_values(tokens, name) if v is not None
    )
    password = any(v not in empty for name in _JUPYTER_PASSWORDS for v in flag_values(tokens, name) if v)
    if token_off and not password:
        return Auth(True, "token and password disabled")
    return Auth(False, "token login (a notebook is remote code execution by design)")


def _web_config_auth(product: str) -> AuthRule:
    def rule(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
        if flag_values(command_tokens(container), "web.config.file"):
            return Auth(False, "basic auth or TLS client certificates via --web.config.file")
        return Auth(True, f"{product} has no authentication of its own")

    return rule


def _grafana_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    anonymous = env_value(container, "GF_AUTH_ANONYMOUS_ENABLED")
    if anonymous is not None and anonymous.strip().lower() == "true":
        role = env_value(container, "GF_AUTH_ANONYMOUS_ORG_ROLE") or "Viewer"
        return Auth(True, f"anonymous access enabled (GF_AUTH_ANONYMOUS_ENABLED, role {role})")
    return Auth(False, "Grafana login (make sure the admin password is not the default)")


def _kibana_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    if image.path.endswith("opensearch-dashboards"):
        return Auth(False, "OpenSearch security plugin login")
    version = image.version
    if version is not None and version < (8,):
        return Auth(True, f"Kibana {image.tag}: Elasticsearch security was off by default before 8.0")
    return Auth(False, "Elasticsearch security login")


def _etcd_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    # The member's own rules (checks.etcd): a flag or its ETCD_* variable, and a CA file that
    # makes etcd demand certificates whatever --client-cert-auth says.
    settings = etcd_settings(container, command_tokens(container))
    plain, _ = settings.plain_http_clients()
    if plain:
        return Auth(True, f"clients served over plain HTTP ({plain[0]})")
    required, unknowns = settings.requires_certificates("")
    if required is None:
        return Auth(False, f"whether client certificates are required is not known: {unknowns[0]}")
    if required:
        return Auth(False, "client certificates required (--client-cert-auth or --trusted-ca-file)")
    return Auth(True, "client certificates not required (no --client-cert-auth, no --trusted-ca-file)")


def _docker_auth(container: Obj, image: ImageRef, ports: tuple[int, ...]) -> Auth:
    tokens = command_tokens(container)
    plain = 2375 in ports or 2375 in container_ports(container).values()
    if plain or bool_flag(tokens, "tls") is False or env_value(container, "DOCKER_TLS_CERTDIR") == "":
        return Auth(True, "plain-text Docker API on 2375, no client certificates")
    return Auth(False, "TLS client certificates (2376)")


def _is_dind(container: Obj, image: ImageRef) -> bool:
    return "dind" in image.tag or any("dockerd" in t for t in command_tokens(container))


def _argo_server(container: Obj, image: ImageRef) -> bool:
    return "server" in command_tokens(container)


ADMIN_INTERFACES: tuple[AdminInterface, ...] = (
    AdminInterface(
        "Weave Scope",
        "a shell in every container of the cluster (JW Player's miners came in this way)",
        images=("weaveworks/scope",),
        labels=(
            {"app": "weave-scope"},
            {"name": "weave-scope-app"},
            {"app.kubernetes.io/name": "weave-scope"},
        ),
        ports=(4040,),
        auth=_always_open("Weave Scope has no login"),
    ),
    AdminInterface(
        "Kubernetes Dashboard",
        "the cluster with the Dashboard's service account (Tesla's and Weight Watchers' exposed consoles)",
        images=(
            "kubernetesui/dashboard",
            "kubernetesui/dashboard-web",
            "kubernetesui/dashboard-api",
            "kubernetes-dashboard-amd64",
            "kubernetes-dashboard",
        ),
        labels=({"k8s-app": "kubernetes-dashboard"}, {"app.kubernetes.io/name": "kubernetes-dashboard"}),
        ports=(8443, 9090, 8000),
        auth=_dashboard_auth,
    ),
    AdminInterface(
        "Argo Workflows server",
        "submitting workflows (arbitrary pods) as the Argo server's service account",
        images=("argoproj/argocli",),
        labels=({"app": "argo-server"}, {"app.kubernetes.io/name": "argo-workflows-server"}),
        ports=(2746,),
        requires=_argo_server,
        auth=_argo_auth,
    ),
    AdminInterface(
        "Kubeflow dashboard",
        "notebooks and pipelines, i.e. arbitrary pods (Microsoft's 2020 Kubeflow mining campaign)",
        images=(
            "kubeflow/centraldashboard",
            "kubeflownotebookswg/centraldashboard",
            "kubeflow-images-public/centraldashboard",
            "ml-pipeline/frontend",
        ),
        labels=({"app": "centraldashboard"}, {"app": "ml-pipeline-ui"}),
        ports=(8082, 3000),
        auth=_always_open(
            "Kubeflow UIs trust the identity header of their Istio/Dex gateway; "
            "reached directly they have no login"
        ),
    ),
    AdminInterface(
        "Jupyter",
        "a Python shell in the pod, with its service account token and network reach",
        images=("jupyter/*", "jupyterhub/k8s-singleuser-sample", "jupyterhub/singleuser"),
        labels=({"component": "singleuser-server"},),
        ports=(8888,),
        auth=_jupyter_auth,
    ),
    AdminInterface(
        "JupyterHub",
        "spawning notebook servers (arbitrary code) for whoever gets past its authenticator",
        images=("jupyterhub/k8s-hub", "jupyterhub/configurable-http-proxy"),
        labels=({"app": "jupyterhub", "component": "proxy"}, {"app": "jupyterhub", "component": "hub"}),
        ports=(8000, 8081),
        auth=lambda container, image, ports: Auth(
            False, "JupyterHub login (check it is not the DummyAuthenticator)"
        ),
    ),
    AdminInterface(
        "Tiller (Helm 2)",
        "installing any chart as Tiller's service account, usually cluster-admin",
        images=("kubernetes-helm/tiller", "helm/tiller"),
        labels=({"app": "helm", "name": "tiller"},),
        ports=(44134,),
        signature_ports=(44134,),
        auth=_always_open("Tiller has no authentication"),
    ),
    AdminInterface(
        "Prometheus",
        "every metric and label of the cluster (and with --web.enable-admin-api, deleting them)",
        images=("prom/prometheus", "prometheus/prometheus", "bitnami/prometheus"),
        labels=({"app.kubernetes.io/name": "prometheus"},),
        ports=(9090,),
        auth=_web_config_auth("Prometheus"),
    ),
    AdminInterface(
        "Alertmanager",
        "silencing every alert before an attack",
        images=("prom/alertmanager", "prometheus/alertmanager", "bitnami/alertmanager"),
        labels=({"app.kubernetes.io/name": "alertmanager"},),
        ports=(9093,),
        auth=_web_config_auth("Alertmanager"),
    ),
    AdminInterface(
        "Grafana",
        "dashboards, data source credentials and queries against every data source",
        images=("grafana/grafana", "grafana/grafana-oss", "grafana/grafana-enterprise", "bitnami/grafana"),
        labels=({"app.kubernetes.io/name": "grafana"},),
        ports=(3000,),
        auth=_grafana_auth,
    ),
    AdminInterface(
        "Kibana",
        "every log line, with whatever secrets applications logged",
        images=("kibana/kibana", "kibana", "bitnami/kibana", "opensearchproject/opensearch-dashboards"),
        labels=({"common.k8s.elastic.co/type": "kibana"}, {"app": "kibana"}),
        ports=(5601,),
        auth=_kibana_auth,
    ),
    AdminInterface(
        "etcd",
        "the whole cluster state, every Secret included, read and write",
        images=("etcd", "coreos/etcd", "bitnami/etcd", "etcd-development/etcd"),
        ports=(2379,),
        signature_ports=(2379,),
        auth=_etcd_auth,
    ),
    AdminInterface(
        "Docker API",
        "starting privileged containers on the node",
        images=("docker",),
        ports=(2375, 2376),
        signature_ports=(2375, 2376),
        requires=_is_dind,
        auth=_docker_auth,
    ),
)
# Every (label, value) and signature port some interface is recognised by: most templates carry
# none of them, and testing that once spares them a test per interface.
_ADMIN_LABEL_ITEMS = frozenset(
    item for i in ADMIN_INTERFACES for labels in i.labels for item in labels.items()
)
_SIGNATURE_PORTS = frozenset(port for i in ADMIN_INTERFACES for port in i.signature_ports)


# -- ingress controllers and node agents ----------------------------------------------------------

INGRESS_CONTROLLER_IMAGES = (
    "ingress-nginx/controller",
    "ingress-nginx/controller-chroot",
    "nginx-ingress-controller",
    "nginx/nginx-ingress",
    "nginx/nginx-plus-ingress",
    "traefik",
    "haproxytech/kubernetes-ingress",
    "jcmoraisjr/haproxy-ingress",
    "envoyproxy/envoy",
    "istio/proxyv2",
    "kong",
    "kong/kong-gateway",
    "emissary-ingress/emissary",
    "datawire/emissary",
    "datawire/ambassador",
    "solo-io/gloo-ee/gateway-proxy",
    "gloo/gloo-envoy-wrapper",
    "zalando/skipper",
    "teapot/skipper",
)
WEB_PORTS = frozenset({80, 443, 8080, 8443})


@dataclass(frozen=True, slots=True)
class NodeAgent:
    name: str
    images: tuple[str, ...]


# Components that need host access to do their job. Recognised only inside the configured system
# namespaces, so the same image elsewhere is judged like any other workload.
NODE_AGENTS: tuple[NodeAgent, ...] = (
    NodeAgent("kube-proxy", ("kube-proxy", "kube-proxy-amd64", "kube-proxy-arm64")),  # GKE's: per arch
    NodeAgent(
        "control plane",
        ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "*cloud-controller-manager"),
    ),
    NodeAgent("cloud node manager", ("*cloud-node-manager",)),  # AKS and other out-of-tree providers
    NodeAgent("Calico", ("calico/*",)),
    NodeAgent("Cilium", ("cilium/*",)),
    NodeAgent("Flannel", ("flannel/*", "flannel-io/*", "flannelcni/*", "mirrored-flannelcni-flannel*")),
    NodeAgent("AWS VPC CNI", ("amazon-k8s-cni", "amazon-k8s-cni-init", "aws-network-policy-agent")),
    NodeAgent("Azure CNI", ("azure-cns", "azure-npm", "azure-cni*", "azure-ip-masq-merger")),
    NodeAgent("Weave Net", ("weaveworks/weave-kube", "weaveworks/weave-npc")),
    NodeAgent("kube-router", ("kube-router",)),
    NodeAgent("Antrea", ("antrea/*",)),
    NodeAgent("Multus", ("multus-cni", "multus-cni-thick")),
    NodeAgent("kindnet", ("kindnetd",)),
    NodeAgent("ip-masq-agent", ("ip-masq-agent*",)),
    NodeAgent(
        "CSI node plugin",
        (
            "csi-*",
            "*-csi-driver",
            "*-csi-plugin",
            "*csi-node*",
            "livenessprobe",
            "azuredisk-csi",
            "azurefile-csi",
        ),
    ),
    NodeAgent(
        "log shipper",
        (
            "fluent-bit",
            "fluent/fluent-bit",
            "fluentd*",
            "aws-for-fluent-bit",
            "promtail",
            "vector",
            "filebeat",
        ),
    ),
    NodeAgent(
        "node monitoring", ("node-exporter", "datadog/agent", "cloudwatch-agent", "opentelemetry-collector*")
    ),
    NodeAgent(
        "node add-on",
        (
            "k8s-dns-node-cache",
            "node-problem-detector",
            "k8s-device-plugin",
            "konnectivity-agent",
            "kube-vip",
            "metallb/speaker",
            "eks-pod-identity-agent",
            "aws-node-termination-handler",
            "gke-metadata-server",
            "klipper-lb",
        ),
    ),
)


PLATFORM_COMPONENT = "OpenShift platform component"


def node_agent(namespace: str, image: str, system_namespaces: Iterable[str]) -> str | None:
    """The node agent an image is, when it runs in a system namespace (None otherwise)."""
    if namespace not in system_namespaces:
        return None
    ref = parse_image(image)
    for agent in NODE_AGENTS:
        if image_matches(ref, agent.images):
            return agent.name
    return None


# -- load balancer guards -----------------------------------------------------------------------

# (annotation, values meaning internal; empty: any value but "false"), as the cloud providers'
# own (in-tree or cloud-controller-manager) load balancer code reads them. The in-tree AWS provider
# reads `aws-load-balancer-internal` ("true", or a CIDR in old examples), never
# `aws-load-balancer-scheme`: that one is read only by the controllers below.
INTERNAL_LB_ANNOTATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("service.beta.kubernetes.io/aws-load-balancer-internal", ()),
    ("networking.gke.io/load-balancer-type", ("internal",)),
    ("cloud.google.com/load-balancer-type", ("internal",)),
    ("service.beta.kubernetes.io/azure-load-balancer-internal", ("true",)),
    ("service.beta.kubernetes.io/openstack-internal-load-balancer", ("true",)),
    ("service.beta.kubernetes.io/oci-load-balancer-internal", ("true",)),
    ("oci-network-load-balancer.oraclecloud.com/internal", ("true",)),
    ("service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type", ("private",)),
    ("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type", ("intranet",)),
    ("service.kubernetes.io/qcloud-loadbalancer-internal-subnetid", ()),
    ("service.beta.kubernetes.io/do-loadbalancer-network", ("vpc",)),
)
# The AWS Load Balancer Controller (v2.2+) serves the Services of its class or load balancer types
# (the in-tree provider leaves those types to it) and makes their NLBs internal unless the scheme
# annotation, or the legacy internal one set to false, says otherwise.
AWS_LBC_CLASS = "service.k8s.aws/nlb"
# EKS Auto Mode's load balancing, built on the controller: it reads the same scheme annotation, but
# its default is not taken as internal here (unknown is not safe).
EKS_AUTO_MODE_CLASS = "eks.amazonaws.com/nlb"
AWS_LBC_TYPES = ("external", "nlb-ip")
AWS_LB_TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"
AWS_LB_SCHEME_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-scheme"
AWS_LB_INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
OPEN_RANGES = frozenset({"0.0.0.0/0", "::/0"})

INGRESS_AUTH_ANNOTATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nginx.ingress.kubernetes.io/auth-url", ()),
    ("nginx.ingress.kubernetes.io/auth-type", ()),
    # Only "on" turns a client without a certificate away: "optional" and "optional_no_ca" let it
    # through and merely pass the verification result upstream.
    ("nginx.ingress.kubernetes.io/auth-tls-verify-client", ("on",)),
    ("alb.ingress.kubernetes.io/auth-type", ("cognito", "oidc")),
    ("ingress.kubernetes.io/auth-type", ()),
    ("haproxy.org/auth-type", ()),
)
INGRESS_ALLOWLIST_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/whitelist-source-range",
    "nginx.ingress.kubernetes.io/allowlist-source-range",
    "alb.ingress.kubernetes.io/inbound-cidrs",
    "ingress.kubernetes.io/whitelist-source-range",
    "haproxy.org/allow-list",
)
# The AWS Load Balancer Controller's ALBs are internal unless this annotation says internet-facing,
# and an IngressClassParams named by the Ingress's class overrides the annotation.
ALB_CONTROLLER = "ingress.k8s.aws/alb"
ALB_CLASS = "alb"  # the controller's default --ingress-class
ALB_SCHEME_ANNOTATION = "alb.ingress.kubernetes.io/scheme"


AWS_LBC_DEFAULT = (
    f"the AWS Load Balancer Controller's default without {AWS_LB_SCHEME_ANNOTATION}: internet-facing"
)


def internal_annotation(service: Obj) -> str | None:
    """Why the Service's load balancer is internal (None: nothing makes it so)."""
    annotations = annotations_of(service)
    if _served_by_aws_lbc(service, annotations):
        return _aws_scheme_internal(annotations, AWS_LBC_DEFAULT)
    if _load_balancer_class(service) == EKS_AUTO_MODE_CLASS:
        return _aws_scheme_internal(annotations, None)
    for name, internal_values in INTERNAL_LB_ANNOTATIONS:
        if name not in annotations:
            continue
        value = str(annotations[name]).strip().lower()
        if (internal_values and value in internal_values) or (
            not internal_values and value not in ("", "false")
        ):
            return f"{name}: {annotations[name]}"
    return None


def reads_aws_scheme(service: Obj) -> bool:
    """Whether the Service's load balancer is made by a controller that reads
    `aws-load-balancer-scheme` (the AWS Load Balancer Controller, EKS Auto Mode) rather than by
    the in-tree AWS provider, which reads only `aws-load-balancer-internal`."""
    return (
        _served_by_aws_lbc(service, annotations_of(service))
        or _load_balancer_class(service) == EKS_AUTO_MODE_CLASS
    )


def _load_balancer_class(service: Obj) -> object:
    return as_object(service.get("spec")).get("loadBalancerClass")


def _served_by_aws_lbc(service: Obj, annotations: dict[str, str]) -> bool:
    load_balancer_class = _load_balancer_class(service)
    if load_balancer_class is not None:
        return load_balancer_class == AWS_LBC_CLASS
    return str(annotations.get(AWS_LB_TYPE_ANNOTATION, "")).strip().lower() in AWS_LBC_TYPES


def _aws_scheme_internal(annotations: dict[str, str], default: str | None) -> str | None:
    """How the AWS Load Balancer Controller decides: the scheme annotation, else the legacy
    internal one, else its default (None: not known to be internal)."""
    if AWS_LB_SCHEME_ANNOTATION in annotations:
        scheme = str(annotations[AWS_LB_SCHEME_ANNOTATION]).strip().lower()
        return f"{AWS_LB_SCHEME_ANNOTATION}: {scheme}" if scheme == "internal" else None
    if AWS_LB_INTERNAL_ANNOTATION in annotations:
        internal = str(annotations[AWS_LB_INTERNAL_ANNOTATION]).strip().lower()
        return f"{AWS_LB_INTERNAL_ANNOTATION}: {internal}" if internal not in ("", "false") else None
    return default


def source_ranges(service: Obj) -> list[str]:
    ranges = [str(r) for r in (service.get("spec") or {}).get("loadBalancerSourceRanges") or ()]
    if not ranges and SOURCE_RANGES_ANNOTATION in annotations_of(service):
        ranges = [
            r.strip() for r in str(annotations_of(service)[SOURCE_RANGES_ANNOTATION]).split(",") if r.strip()
        ]
    return ranges


def is_private_address(address: str) -> bool | None:
    """Whether an IP is unreachable from the internet (private, CGNAT, link-local, documentation
    ranges…); None for a hostname, which cannot be told."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return not ip.is_global


def lb_addresses(service: Obj) -> list[str]:
    ingress = as_object((service.get("status") or {}).get("loadBalancer")).get("ingress")
    return [str(i.get("ip") or i.get("hostname")) for i in dicts(ingress) if i.get("ip") or i.get("hostname")]


def load_balancer_guard(service: Obj) -> str:
    """Why a LoadBalancer is not open to the internet ("" when it is, as far as one can tell)."""
    internal = internal_annotation(service)
    if internal:
        return f"internal load balancer ({internal})"
    ranges = source_ranges(service)
    if ranges and not OPEN_RANGES & set(ranges):
        return f"restricted to {', '.join(ranges)}"
    addresses = lb_addresses(service)
    if addresses and all(is_private_address(a) for a in addresses):
        return f"private address {', '.join(addresses)}"
    return ""


def ingress_guard(ingress: Obj, inv: Inventory) -> tuple[str, str]:
    """(What keeps the Ingress off the internet, "" when nothing does; why that cannot be told,
    "" when it can.)"""
    annotations = annotations_of(ingress)
    for name, values in INGRESS_AUTH_ANNOTATIONS:
        value = str(annotations.get(name, "")).strip().lower()
        if name in annotations and value and value != "none" and (not values or value in values):
            return f"authentication at the ingress ({name})", ""
    for name in INGRESS_ALLOWLIST_ANNOTATIONS:
        ranges = [r.strip() for r in str(annotations.get(name, "")).split(",") if r.strip()]
        if ranges and not OPEN_RANGES & set(ranges):
            return f"source allow-list ({name}: {', '.join(ranges)})", ""
    class_name = str(
        as_object(ingress.get("spec")).get("ingressClassName")
        or annotations.get("kubernetes.io/ingress.class", "")
    )
    alb = _alb_guard(ingress, class_name, inv)
    if alb is not None:
        return alb
    if str(annotations.get(ALB_SCHEME_ANNOTATION, "")).lower() == "internal":
        return f"internal ALB ({ALB_SCHEME_ANNOTATION}: internal)", ""
    if any(word in class_name.lower() for word in ("internal", "private")):
        return f"ingress class {class_name}", ""
    return "", ""


def _alb_guard(ingress: Obj, class_name: str, inv: Inventory) -> tuple[str, str] | None:
    """`ingress_guard`'s answer for an Ingress the AWS Load Balancer Controller serves, None for
    any other: its IngressClass names that controller, or (no such IngressClass) its class is
    the controller's default name."""
    by_field = bool(as_object(ingress.get("spec")).get("ingressClassName"))
    # Only the field names an IngressClass; the legacy annotation names the controller's class.
    ingress_class = inv.get("ingressclasses", "", class_name) if by_field else None
    if ingress_class is None:
        if class_name != ALB_CLASS:
            return None
        if by_field and not inv.readable("ingressclasses"):
            return "", (
                f"{inv.unreadable_reason('ingressclasses')}, and IngressClass {class_name} may name "
                "IngressClassParams that set the ALB's scheme"
            )
    else:
        class_spec = as_object(ingress_class.get("spec"))
        if class_spec.get("controller") != ALB_CONTROLLER:
            return None
        parameters = as_object(class_spec.get("parameters"))
        if parameters.get("kind") == "IngressClassParams":
            return "", (
                f"IngressClass {class_name} names IngressClassParams {parameters.get('name')}, "
                "which may set the ALB's scheme and is not collected"
            )
    scheme = str(annotations_of(ingress).get(ALB_SCHEME_ANNOTATION, "")).strip().lower()
    if not scheme:
        return (
            "internal ALB (the AWS Load Balancer Controller's default without "
            f"{ALB_SCHEME_ANNOTATION}: internet-facing)",
            "",
        )
    return (f"internal ALB ({ALB_SCHEME_ANNOTATION}: internal)" if scheme == "internal" else ""), ""


# -- Gateway API ----------------------------------------------------------------------------------

GATEWAY_GROUP = "gateway.networking.k8s.io"
GATEWAYS = "gateway.gateways"
ROUTE_KEYS = (
    "gateway.httproutes",
    "gateway.grpcroutes",
    "gateway.tlsroutes",
    "gateway.tcproutes",
    "gateway.udproutes",
)
# A parent that adds listeners to a Gateway from another namespace, by (group, kind).
LISTENER_SETS = {
    (GATEWAY_GROUP, "ListenerSet"): "gateway.listenersets",
    ("gateway.networking.x-k8s.io", "XListenerSet"): "gateway.xlistenersets",
}
# Besides Services (every exposure check's declared input): what else can be a way in.
ENTRY_KINDS = ("ingresses", GATEWAYS, *LISTENER_SETS.values(), *ROUTE_KEYS)
# Classes whose load balancer only has addresses inside the VPC (GKE's regional internal L7).
INTERNAL_GATEWAY_CLASSES = frozenset({"gke-l7-rilb", "gke-l7-rilb-mc"})
# What implementations label the Service they make for a Gateway with: the Gateway API's own
# label (Istio, NGINX Gateway Fabric, Kong), Envoy Gateway's owner labels (its Services live in
# its own namespace), Cilium's.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
ENVOY_OWNER_NAME = "gateway.envoyproxy.io/owning-gateway-name"
ENVOY_OWNER_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
CILIUM_OWNER = "io.cilium.gateway/owning-gateway"
# The route kinds a listener takes by default, by protocol (an implementation's own protocol: any).
PROTOCOL_ROUTE_KINDS = {
    "HTTP": ("HTTPRoute", "GRPCRoute"),
    "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TLS": ("TLSRoute", "TCPRoute"),
    "TCP": ("TCPRoute",),
    "UDP": ("UDPRoute",),
}
# A multi-cluster ServiceImport stands for the Service of its name in every cluster, this one's too.
SERVICE_IMPORT_GROUPS = frozenset({"multicluster.x-k8s.io", "net.gke.io"})


@dataclass(frozen=True, slots=True)
class Attachment:
    """A Gateway a route is attached to, through the listeners that admit it."""

    gateway: Obj
    listeners: tuple[Obj, ...]


def gateway_addresses(gateway: Obj) -> list[str]:
    status = as_object(gateway.get("status")).get("addresses")
    return [str(a["value"]) for a in dicts(status) if a.get("value")]


def gateway_service_owner(service: Obj) -> tuple[str, str] | None:
    """The (namespace, name) of the Gateway an implementation made this Service for, if any."""
    labels = labels_of(service)
    if ENVOY_OWNER_NAME in labels:
        return str(labels.get(ENVOY_OWNER_NAMESPACE) or namespace_of(service)), str(labels[ENVOY_OWNER_NAME])
    name = labels.get(GATEWAY_NAME_LABEL) or labels.get(CILIUM_OWNER)
    return (namespace_of(service), str(name)) if name else None


def is_internal_hostname(address: str) -> bool:
    """An in-cluster Service name (Istio reports one for a ClusterIP Gateway), or an AWS load
    balancer created with the internal scheme (its DNS name starts with `internal-`)."""
    host = address.lower().rstrip(".")
    return host.endswith((".svc", ".svc.cluster.local")) or (
        host.startswith("internal-") and host.endswith(".elb.amazonaws.com")
    )


def _parent_identity(ref: Obj, route_namespace: str) -> tuple[str, ...]:
    """A parentRef with its defaults filled in, as spec and status both name it."""
    return (
        str(ref.get("group", GATEWAY_GROUP)),
        str(ref.get("kind", "Gateway")),
        str(ref.get("namespace") or route_namespace),
        str(ref.get("name")),
        str(ref.get("sectionName") or ""),
        str(ref.get("port") or ""),
    )


def _parent_verdicts(route: Obj) -> dict[tuple[str, ...], bool]:
    """Per parentRef, whether the implementation reports the route accepted (absent: not yet)."""
    verdicts = {}
    for status in dicts(as_object(route.get("status")).get("parents")):
        for condition in dicts(status.get("conditions")):
            if condition.get("type") == "Accepted" and condition.get("status") in ("True", "False"):
                identity = _parent_identity(as_object(status.get("parentRef")), namespace_of(route))
                verdicts[identity] = condition["status"] == "True"
    return verdicts


def _refs_not_permitted(route: Obj) -> bool:
    """Whether an implementation reports a backend in another namespace without a ReferenceGrant."""
    return any(
        c.get("type") == "ResolvedRefs"
        and c.get("status") == "False"
        and c.get("reason") == "RefNotPermitted"
        for status in dicts(as_object(route.get("status")).get("parents"))
        for c in dicts(status.get("conditions"))
    )


def _section_matches(listener: Obj, identity: tuple[str, ...]) -> bool:
    section, port = identity[4], identity[5]
    return (not section or str(listener.get("name")) == section) and (
        not port or str(listener.get("port")) == port
    )


def listeners_of(owner: Obj) -> list[Obj]:
    """The listeners of a Gateway or a ListenerSet."""
    return dicts(as_object(owner.get("spec")).get("listeners"))


def route_backend_names(route: Obj) -> list[tuple[str, str]]:
    """The (namespace, name) of each Service the route's rules send traffic to. A backend in
    another namespace that the implementation reports not permitted (no ReferenceGrant) gets
    nothing forwarded and does not count."""
    namespace = namespace_of(route)
    refused_elsewhere = _refs_not_permitted(route)
    names: list[tuple[str, str]] = []
    for rule in dicts(as_object(route.get("spec")).get("rules")):
        for backend in dicts(rule.get("backendRefs")):
            group, kind = backend.get("group") or "", backend.get("kind", "Service")
            if (group, kind) != ("", "Service") and not (
                kind == "ServiceImport" and group in SERVICE_IMPORT_GROUPS
            ):
                continue
            name = (str(backend.get("namespace") or namespace), str(backend.get("name", "")))
            if name[1] and name not in names and not (refused_elsewhere and name[0] != namespace):
                names.append(name)
    return names


def _route_probes(route: Obj, attachments: list[Attachment]) -> list[dict[str, Any]]:
    """GETs an opt-in probe may send: on each HTTP(S) listener the route is attached through,
    its hostnames (else the listener's, else its Gateway's addresses), at its path prefixes."""
    spec = as_object(route.get("spec"))
    hostnames = [str(h) for h in as_list(spec.get("hostnames")) if isinstance(h, str) and "*" not in h]
    paths = dict.fromkeys(
        str(path["value"])
        for rule in dicts(spec.get("rules"))
        for match in dicts(rule.get("matches"))
        for path in [as_object(match.get("path"))]
        if path.get("type", "PathPrefix") in ("PathPrefix", "Exact") and isinstance(path.get("value"), str)
    ) or {"/": None}
    probes = []
    for attachment in attachments:
        for listener in attachment.listeners:
            scheme, port = str(listener.get("protocol", "")).lower(), listener.get("port")
            if scheme not in ("http", "https") or not isinstance(port, int):
                continue
            listener_host = str(listener.get("hostname") or "*")
            hosts = hostnames or (
                [listener_host] if "*" not in listener_host else gateway_addresses(attachment.gateway)
            )
            probes.extend(
                {"scheme": scheme, "host": host, "port": port, "path": path}
                for host in hosts
                for path in paths
            )
    return probes


# -- templates, entry points, index ----------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Template:
    """One pod spec to judge: a workload's template or a bare pod. Read-only by convention (not
    frozen: one is built per workload, and a frozen dataclass costs twice as much to build)."""

    key: str
    obj: Obj
    spec: Obj
    labels: dict[str, str]
    # The distribution runs it in a namespace of its own (OpenShift's `openshift-*`): its node
    # agents carry release-payload digests no image pattern names.
    platform_owned: bool = False
    # (key, namespace, name) and (role, container) pairs: asked for every template by every
    # exposure check, so kept.
    ident: tuple[str, str, str] = field(init=False, compare=False, repr=False)
    containers: tuple[tuple[str, Obj], ...] = field(init=False, compare=False, repr=False)
    _subject: Subject | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.ident = (self.key, namespace_of(self.obj), name_of(self.obj))
        self.containers = tuple(containers_of(self.spec))

    @property
    def namespace(self) -> str:
        return self.ident[1]

    def subject(self, inv: Inventory) -> Subject:
        # Kept: every exposure check asks for every template's.
        if self._subject is None:
            self._subject = inv.subject(self.key, self.obj)
        return self._subject


@dataclass(frozen=True, slots=True)
class AdminMatch:
    interface: AdminInterface
    template: Template
    container: str
    image: str
    ports: tuple[int, ...]
    auth: Auth
    matched_by: str


@dataclass(slots=True)
class EntryPoint:
    """A way into the cluster from outside: an exposed Service, an Ingress or a Gateway route."""

    key: str  # services | ingresses | a Gateway API route kind
    obj: Obj
    how: str  # "LoadBalancer", "NodePort", "externalIPs", "Ingress", "HTTPRoute", "GRPCRoute", …
    guard: str  # "" when open
    services: list[Obj]  # the Services whose pods it reaches
    probe: list[dict[str, Any]]  # addresses an opt-in probe would try
    backends: list[Template] = field(default_factory=list)
    # Why whether it is open cannot be told ("" when it can; only when there is no guard).
    unsure: str = ""
    # Named in the evidence of every finding about each backend, by several checks: built once.
    _description: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kind = f"{self.how} Service" if self.key == "services" else self.how
        self._description = f"{kind} {namespace_of(self.obj)}/{name_of(self.obj)}"

    def describe(self) -> str:
        return self._description


_CACHE: weakref.WeakKeyDictionary[Inventory, ExposureIndex] = weakref.WeakKeyDictionary()
# NodePorts answer on every address a node reports for itself, the internal one included.
NODE_PORT_ADDRESS_TYPES = ("ExternalIP", "InternalIP")
TEMPLATE_KEYS = ("deployments", "daemonsets", "statefulsets", "cronjobs", "jobs", "replicasets", "pods")


class ExposureIndex:
    def __init__(self, inv: Inventory) -> None:
        # Not the inventory itself: `_CACHE` keeps the index as long as its inventory lives, and
        # an index holding its own key would keep every inventory checked in this process (each
        # rescan, each snapshot opened in the UI: over a GiB each at 100k pods) alive for good.
        self.inv = weakref.proxy(inv)
        owns = inv.provider.owns_namespace
        self.templates: list[Template] = [
            Template(key, obj, spec, pod_labels_of(key, obj), owns(namespace_of(obj)))
            for key, obj, spec in inv.pod_templates()
        ]
        # By the workload or pod object (its id; the inventory holds every object): the Services'
        # pods find their template without building a name tuple per pod.
        self._by_object = {id(t.obj): t for t in self.templates}
        self._by_label: dict[tuple[str, str, str], list[Template]] = defaultdict(list)
        for template in self.templates:
            for k, v in template.labels.items():
                self._by_label[(template.namespace, k, str(v))].append(template)
        self.node_addresses = _node_addresses(inv)
        self.entry_points: list[EntryPoint] = list(self._entry_points())
        self.exposed: dict[tuple[str, str, str], list[EntryPoint]] = defaultdict(list)
        for entry in self.entry_points:
            for template in entry.backends:
                self.exposed[template.ident].append(entry)

    @classmethod
    def of(cls, inv: Inventory) -> ExposureIndex:
        index = _CACHE.get(inv)
        if index is None:
            index = _CACHE[inv] = cls(inv)
        return index

    def backends(self, service: Obj) -> list[Template]:
        """Templates behind a Service: via its running pods, and via matching template labels."""
        selector = (service.get("spec") or {}).get("selector")
        if not isinstance(selector, dict) or not selector:
            return []
        found: dict[tuple[str, str, str], Template] = {}
        for pod in self.inv.pods_selected_by(service):
            owner = self.inv.top_owner(pod)
            obj = owner[1] if owner is not None else pod
            template = self._by_object.get(id(obj))
            if template is not None and template.obj is obj:
                found.setdefault(template.ident, template)
        namespace = namespace_of(service)
        candidates = min(
            (self._by_label.get((namespace, k, str(v)), []) for k, v in selector.items()), key=len
        )
        for template in candidates:
            if selector_matches(selector, template.labels):
                found.setdefault(template.ident, template)
        return sorted(found.values(), key=lambda t: t.ident)

    def _entry_points(self) -> Iterable[EntryPoint]:
        for service in self.inv.items("services"):
            exposure = self._service_exposure(service)
            if exposure is None:
                continue
            how, guard, hosts, port_field = exposure
            entry = EntryPoint("services", service, how, guard, [service], [])
            entry.probe = _service_probes(service, hosts, port_field)
            entry.backends = self.backends(service)
            yield entry
        for ingress in self.inv.items("ingresses"):
            services = []
            for name in _ingress_backend_names(ingress):
                service = self.inv.get("services", namespace_of(ingress), name)
                if service is not None and service not in services:
                    services.append(service)
            guard, unsure = ingress_guard(ingress, self.inv)
            entry = EntryPoint("ingresses", ingress, "Ingress", guard, services, _ingress_probes(ingress))
            entry.unsure = unsure
            entry.backends = self._services_backends(services)
            yield entry
        for key in ROUTE_KEYS:
            for route in self.inv.items(key):
                entry = self._route_entry(key, route)
                if entry is not None:
                    yield entry

    def _route_entry(self, key: str, route: Obj) -> EntryPoint | None:
        """A Gateway API route as a way in, None when it is attached to no Gateway."""
        attachments, missing = self.route_attachments(key, route)
        if not attachments and not missing:
            return None
        services = [
            s for s in (self.inv.get("services", *n) for n in route_backend_names(route)) if s is not None
        ]
        guard, unsure = self._route_guard(attachments, missing)
        entry = EntryPoint(
            key, route, KINDS_BY_KEY[key].kind, guard, services, _route_probes(route, attachments)
        )
        entry.unsure = unsure
        entry.backends = self._services_backends(services)
        return entry

    def route_attachments(self, key: str, route: Obj) -> tuple[list[Attachment], str]:
        """(The Gateways the route is attached to, through which listeners; why some may be
        missing, "" when none can be.) A parent reporting the route accepted is believed, one
        refusing it too; without a report, the listeners' `allowedRoutes` decide. A mesh
        Service as parent is east-west traffic: no way in from outside."""
        kind, namespace = KINDS_BY_KEY[key].kind, namespace_of(route)
        verdicts = _parent_verdicts(route)
        attachments: list[Attachment] = []
        missing = ""
        for ref in dicts(as_object(route.get("spec")).get("parentRefs")):
            identity = _parent_identity(ref, namespace)
            accepted = verdicts.get(identity)
            if accepted is False:
                continue
            owner, why = self._listener_owner(identity)
            if owner is None:
                missing = missing or why
                continue
            gateway, listeners, owner_namespace = owner
            chosen = tuple(
                listener
                for listener in listeners
                if _section_matches(listener, identity)
                and (accepted or self._admits_route(listener, kind, namespace, owner_namespace))
            )
            if chosen:
                attachments.append(Attachment(gateway, chosen))
        return attachments, missing

    def _listener_owner(self, identity: tuple[str, ...]) -> tuple[tuple[Obj, list[Obj], str] | None, str]:
        """((The Gateway, the listeners a parentRef names, their namespace), or None and why it
        cannot be told ("" when there is simply no such parent))."""
        group, kind, namespace, name = identity[:4]
        if (group, kind) == (GATEWAY_GROUP, "Gateway"):
            gateway = self.inv.get(GATEWAYS, namespace, name)
            return (
                ((gateway, listeners_of(gateway), namespace), "")
                if gateway
                else (None, self._unread(GATEWAYS))
            )
        key = LISTENER_SETS.get((group, kind))
        listener_set = self.inv.get(key, namespace, name) if key else None
        if listener_set is None:
            return None, self._unread(key) if key else ""
        parent = as_object(as_object(listener_set.get("spec")).get("parentRef"))
        gateway = self.inv.get(GATEWAYS, str(parent.get("namespace") or namespace), str(parent.get("name")))
        if gateway is None:
            return None, self._unread(GATEWAYS)
        allowed = as_object(
            as_object(as_object(gateway.get("spec")).get("allowedListeners")).get("namespaces")
        )
        # A Gateway takes no ListenerSet unless it says from where (`allowedListeners`).
        if not self._admits_namespace(allowed, namespace, namespace_of(gateway), default="None"):
            return None, ""
        return (gateway, listeners_of(listener_set), namespace), ""

    def _unread(self, key: str) -> str:
        return "" if self.inv.readable(key) else self.inv.unreadable_reason(key)

    def _admits_route(self, listener: Obj, kind: str, namespace: str, owner_namespace: str) -> bool:
        allowed = as_object(listener.get("allowedRoutes"))
        kinds = dicts(allowed.get("kinds"))
        if kinds:
            if not any(
                k.get("kind") == kind and k.get("group", GATEWAY_GROUP) == GATEWAY_GROUP for k in kinds
            ):
                return False
        elif kind not in PROTOCOL_ROUTE_KINDS.get(str(listener.get("protocol")), (kind,)):
            return False
        return self._admits_namespace(
            as_object(allowed.get("namespaces")), namespace, owner_namespace, "Same"
        )

    def _admits_namespace(self, namespaces: Obj, namespace: str, owner_namespace: str, default: str) -> bool:
        """Whether `namespaces` (`from` and `selector`, as in allowedRoutes) admits `namespace`;
        a selector on a namespace that could not be read admits it (it cannot be told)."""
        origin = namespaces.get("from", default)
        if origin == "All":
            return True
        if origin == "Same":
            return namespace == owner_namespace
        if origin == "Selector":
            found = self.inv.get("namespaces", "", namespace)
            return found is None or label_selector_matches(namespaces.get("selector"), labels_of(found))
        return False

    def _route_guard(self, attachments: list[Attachment], missing: str) -> tuple[str, str]:
        """A route is as open as the most open Gateway it is attached to."""
        guards = [self.gateway_guard(a.gateway) for a in attachments]
        if any(not guard and not unsure for guard, unsure in guards):
            return "", ""
        unsure = "; ".join(u for _, u in guards if u) or missing
        if unsure:
            return "", unsure
        return "; ".join(dict.fromkeys(guard for guard, _ in guards)), ""

    def gateway_guard(self, gateway: Obj) -> tuple[str, str]:
        """(What keeps the Gateway off the internet, "" when nothing does; why that cannot be
        told, "" when it can.) Judged by its class, the load balancer annotations it hands its
        implementation (`spec.infrastructure.annotations`), the Service the implementation made
        for it (Envoy Gateway, Istio, Cilium, NGINX Gateway Fabric), then its addresses."""
        spec = as_object(gateway.get("spec"))
        class_name = str(spec.get("gatewayClassName", ""))
        if class_name in INTERNAL_GATEWAY_CLASSES or any(
            w in class_name.lower() for w in ("internal", "private")
        ):
            return f"gateway class {class_name}", ""
        infrastructure = as_object(spec.get("infrastructure"))
        internal = internal_annotation(
            {"metadata": {"annotations": as_object(infrastructure.get("annotations"))}}
        )
        if internal:
            return f"internal load balancer ({internal})", ""
        services = self._gateway_services.get((namespace_of(gateway), name_of(gateway)))
        if services:
            return self._services_guard(services), ""
        addresses = gateway_addresses(gateway)
        if not addresses:
            return "", f"Gateway {namespace_of(gateway)}/{name_of(gateway)} reports no address yet"
        if all(is_private_address(a) or is_internal_hostname(a) for a in addresses):
            return f"private address {', '.join(addresses)}", ""
        return "", ""

    @functools.cached_property
    def _gateway_services(self) -> dict[tuple[str, str], list[Obj]]:
        found: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for service in self.inv.items("services"):
            owner = gateway_service_owner(service)
            if owner is not None:
                found[owner].append(service)
        return found

    def _services_guard(self, services: list[Obj]) -> str:
        """What keeps every one of a Gateway's Services off the internet, "" when one is open."""
        guards = []
        for service in services:
            exposure = self._service_exposure(service)
            if exposure is None:
                kind = (service.get("spec") or {}).get("type", "ClusterIP")
                guard = f"Service {namespace_of(service)}/{name_of(service)} is {kind}, in-cluster only"
            else:
                guard = exposure[1]
            if not guard:
                return ""
            guards.append(guard)
        return "; ".join(dict.fromkeys(guards))

    def _service_exposure(self, service: Obj) -> tuple[str, str, list[str], str] | None:
        """(How a Service is reachable from outside, what guards it ("" nothing), the addresses a
        probe would try, the port field it would use there); None when it is in-cluster only."""
        spec = service.get("spec") or {}
        kind = spec.get("type", "ClusterIP")
        external_ips = [str(ip) for ip in spec.get("externalIPs") or ()]
        if kind == "LoadBalancer":
            return kind, load_balancer_guard(service), lb_addresses(service), "port"
        if kind == "NodePort":
            guard = "" if self.nodes_public else "no node has a public address"
            return kind, guard, self.node_addresses[:3], "nodePort"
        if external_ips:
            private = all(is_private_address(ip) for ip in external_ips)
            guard = f"private external IPs {', '.join(external_ips)}" if private else ""
            return "externalIPs", guard, external_ips, "port"
        return None

    def _services_backends(self, services: list[Obj]) -> list[Template]:
        seen: dict[tuple[str, str, str], Template] = {}
        for service in services:
            for template in self.backends(service):
                seen.setdefault(template.ident, template)
        return sorted(seen.values(), key=lambda t: t.ident)

    @functools.cached_property
    def nodes_public(self) -> bool:
        """Whether NodePorts may be reachable from the internet (True when it can't be told).

        A node is public with a globally routable ExternalIP, or InternalIP: k3s and kubeadm on a
        VPS without a cloud controller report the public address as InternalIP, and no ExternalIP.
        Kept: asked for every NodePort Service."""
        if not self.inv.readable("nodes"):
            return True
        known = False
        for node in self.inv.items("nodes"):
            for address in dicts(as_object(node.get("status")).get("addresses")):
                known = True
                if address.get("type") in NODE_PORT_ADDRESS_TYPES and (
                    is_private_address(str(address.get("address"))) is False
                ):
                    return True
        return not known

    @functools.cached_property
    def debugged_pods(self) -> list[Template]:
        """Controller-owned pods with ephemeral containers (`kubectl debug`), each holding those
        containers alone. Ephemeral containers exist only on pods, never in a template, and the
        rest of such a pod is its workload's template, judged as that. One pass, a dict lookup
        per pod; most have none."""
        found = []
        for pod in self.inv.items("pods"):
            spec = pod_spec_of("pods", pod)
            if spec is None or not spec.get("ephemeralContainers"):
                continue
            template = self._by_object.get(id(pod))
            if template is None or template.obj is not pod:  # a bare pod's are in its template
                found.append(Template("pods", pod, _ephemeral_only(spec), pod_labels_of("pods", pod)))
        return found

    def templates_and_debugged_pods(self) -> Iterator[Template]:
        """What per-container checks judge: every template, then the debugged pods."""
        yield from self.templates
        yield from self.debugged_pods

    def admin_matches(self, entry: EntryPoint) -> list[AdminMatch]:
        target_ports = _target_ports(entry.services)
        matches = [match_admin_interface(t, target_ports) for t in entry.backends]
        return [m for m in matches if m is not None]


def _ephemeral_only(spec: Obj) -> Obj:
    """The pod spec with its ephemeral containers and none of its regular or init ones."""
    return {k: v for k, v in spec.items() if k not in ("containers", "initContainers")}


def match_admin_interface(template: Template, target_ports: set[int | str]) -> AdminMatch | None:
    """The known admin interface a template serves, by image, then labels, then signature port.

    Only regular containers serve; `target_ports` are the Services' targetPorts (numbers or
    container port names) that reach the pod."""
    containers = [c for role, c in template.containers if role == "container"]
    if not containers:
        return None
    reachable = {
        c_name: _reachable_ports(c, target_ports)
        for c_name, c in ((container_name(c), c) for c in containers)
    }
    # Asked for every exposed template against every interface: what depends on the container
    # alone (its image's matches, its ports) is worked out once, not once per interface.
    refs = [(container, _image_facts(str(container.get("image", "")))) for container in containers]
    for number, interface in enumerate(ADMIN_INTERFACES) if any(m for _, (_, m) in refs) else ():
        for container, (ref, matching) in refs:
            if number in matching and _required(interface, container, ref):
                return _admin_match(interface, template, container, reachable, f"image {ref.path}")
    declared = [set(container_ports(c).values()) for c in containers]
    for interface in ADMIN_INTERFACES if _may_carry_admin_labels(template.labels) else ():
        if not any(
            all(template.labels.get(k) == v for k, v in labels.items()) for labels in interface.labels
        ):
            continue
        listening = [c for c, ports in zip(containers, declared, strict=True) if ports & set(interface.ports)]
        container = (listening or containers)[0]
        if _required(interface, container, _image_facts(str(container.get("image", "")))[0]):
            return _admin_match(interface, template, container, reachable, "labels")
    listening_on = [
        reachable[container_name(c)] | ports for c, ports in zip(containers, declared, strict=True)
    ]
    for interface in (
        ADMIN_INTERFACES if any(not _SIGNATURE_PORTS.isdisjoint(p) for p in listening_on) else ()
    ):
        for container, ports in zip(containers, listening_on, strict=True):
            hit = ports.intersection(interface.signature_ports)
            if hit:
                return _admin_match(interface, template, container, reachable, f"port {min(hit)}")
    return None


def _may_carry_admin_labels(labels: dict[str, str]) -> bool:
    try:
        return not _ADMIN_LABEL_ITEMS.isdisjoint(labels.items())
    except TypeError:  # a template label that is not a string (a hand-edited snapshot): test them all
        return True


@functools.lru_cache(maxsize=1 << 14)
def _image_facts(image: str) -> tuple[ImageRef, frozenset[int]]:
    """The parsed image and the positions in ADMIN_INTERFACES of those whose image globs match it
    (per image: a cluster runs a few hundred images in tens of thousands of containers)."""
    ref = parse_image(image)
    return ref, frozenset(n for n, i in enumerate(ADMIN_INTERFACES) if image_matches(ref, i.images))


def _required(interface: AdminInterface, container: Obj, ref: ImageRef) -> bool:
    return interface.requires is None or interface.requires(container, ref)


def _reachable_ports(container: Obj, target_ports: set[int | str]) -> set[int]:
    declared = container_ports(container)
    by_name = {n for name, n in declared.items() if name in target_ports}
    return by_name | {p for p in target_ports if isinstance(p, int)}


def _admin_match(
    interface: AdminInterface,
    template: Template,
    container: Obj,
    reachable: dict[str, set[int]],
    matched_by: str,
) -> AdminMatch:
    name = container_name(container)
    image = str(container.get("image", ""))
    listening = set(container_ports(container).values()) | reachable[name]
    ports = tuple(sorted(listening & set(interface.ports))) or tuple(sorted(listening))
    auth = interface.auth(container, _image_facts(image)[0], ports)
    return AdminMatch(interface, template, name, image, ports, auth, matched_by)


def _target_ports(services: list[Obj]) -> set[int | str]:
    ports: set[int | str] = set()
    for service in services:
        for port in dicts((service.get("spec") or {}).get("ports")):
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, int | str):
                ports.add(int(target) if isinstance(target, str) and target.isdigit() else target)
    return ports


def _service_probes(service: Obj, hosts: list[str], port_field: str) -> list[dict[str, Any]]:
    probes = []
    for host in hosts:
        for port in dicts((service.get("spec") or {}).get("ports")):
            number = port.get(port_field)
            if isinstance(number, int):
                scheme = "https" if number in (443, 8443) or port.get("name") in ("https", "tls") else "http"
                probes.append({"scheme": scheme, "host": host, "port": number, "path": "/"})
    return probes


def _ingress_backend_names(ingress: Obj) -> list[str]:
    spec = ingress.get("spec") or {}
    backends = [spec.get("defaultBackend"), spec.get("backend")]
    for rule in dicts(spec.get("rules")):
        for path in dicts(as_object(rule.get("http")).get("paths")):
            backends.append(path.get("backend"))
    names = []
    for backend in backends:
        if not isinstance(backend, dict):
            continue
        name = (
            (backend.get("service") or {}).get("name")
            if isinstance(backend.get("service"), dict)
            else backend.get("serviceName")
        )
        if name and name not in names:
            names.append(str(name))
    return names


def _ingress_probes(ingress: Obj) -> list[dict[str, Any]]:
    spec = ingress.get("spec") or {}
    tls_hosts = {str(h) for t in dicts(spec.get("tls")) for h in as_list(t.get("hosts"))}
    fallback = lb_addresses(ingress)
    probes = []
    for rule in dicts(spec.get("rules")):
        hosts = [str(rule["host"])] if rule.get("host") else fallback
        for host in hosts:
            for path in dicts(as_object(rule.get("http")).get("paths")) or [{"path": "/"}]:
                scheme = "https" if host in tls_hosts else "http"
                probes.append(
                    {
                        "scheme": scheme,
                        "host": host,
                        "port": 443 if scheme == "https" else 80,
                        "path": str(path.get("path") or "/"),
                    }
                )
    return probes


def _node_addresses(inv: Inventory) -> list[str]:
    """One address per node, external first: where a NodePort answers."""
    addresses = []
    for node in inv.items("nodes"):
        by_type = {
            a.get("type"): str(a.get("address")) for a in dicts((node.get("status") or {}).get("addresses"))
        }
        address = by_type.get("ExternalIP") or by_type.get("InternalIP")
        if address:
            addresses.append(address)
    return addresses

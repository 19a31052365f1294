"""Provider detection: managed control planes are told apart from self-managed ones."""

from __future__ import annotations

import pytest

from k8saudit.provider import Provider, detect_provider
from tests import factories as f


def detect(version: str = "v1.29.3", server: str = "https://10.0.0.1:6443", nodes=(), pods=(), configmaps=()):
    return detect_provider({"gitVersion": version}, server, nodes, pods, configmaps)


@pytest.mark.parametrize(
    ("version", "server", "name"),
    [
        ("v1.29.3-eks-adc7111", "https://10.0.0.1", "eks"),
        ("v1.29.1-gke.1589000", "https://34.1.2.3", "gke"),
        ("v1.29.3+k3s1", "https://10.0.0.1:6443", "k3s"),
        ("v1.29.3+rke2r1", "https://10.0.0.1:6443", "rke2"),
        ("v1.29.3", "https://ABCDEF0123.gr7.eu-central-1.eks.amazonaws.com", "eks"),
        ("v1.29.3", "https://ABCDEF0123.yl4.cn-north-1.eks.amazonaws.com.cn", "eks"),
        ("v1.29.3", "https://shop-dns-1a2b3c.hcp.westeurope.azmk8s.io:443", "aks"),
        ("v1.29.3", "https://api.prod.abcd.p1.openshiftapps.com:6443", "rosa"),
        ("v1.29.3", "https://api.prod.westeurope.aroapp.io:6443", "aro"),
        ("v1.29.3", "https://gke-0123abcd.europe-west1.gke.goog", "gke"),
        ("v1.29.3", "https://1a2b.k8s.ondigitalocean.com", "doks"),
    ],
)
def test_version_and_server_markers(version: str, server: str, name: str) -> None:
    assert detect(version, server).name == name


@pytest.mark.parametrize(
    ("node", "name"),
    [
        (f.node("n1", labels={"eks.amazonaws.com/nodegroup": "ng-1"}), "eks"),
        (f.node("n1", labels={"eks.amazonaws.com/compute-type": "fargate"}), "eks"),
        (f.node("n1", labels={"cloud.google.com/gke-nodepool": "default-pool"}), "gke"),
        (f.node("n1", labels={"kubernetes.azure.com/agentpool": "nodepool1"}), "aks"),
        (
            f.node(
                "aks-nodepool1-12345678-vmss000000",
                provider_id="azure:///subscriptions/s/resourceGroups/mc_rg_shop_westeurope/providers/"
                "Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0",
            ),
            "aks",
        ),
        (f.node("n1", labels={"kops.k8s.io/instancegroup": "nodes"}), "kops"),
        (f.node("n1", kubelet="v1.29.3+k3s1"), "k3s"),
    ],
)
def test_node_markers(node, name: str) -> None:
    assert detect(nodes=[node]).name == name


def test_kube_system_markers() -> None:
    etcd_manager = f.pod(
        "etcd-manager-main-ip-10-0-1-10", "kube-system", labels={"k8s-app": "etcd-manager-main"}
    )
    assert detect(pods=[etcd_manager]).name == "kops"
    apiserver = f.pod("kube-apiserver-cp-1", "kube-system", labels={"component": "kube-apiserver"})
    assert detect(pods=[apiserver]).name == "kubeadm"
    kubeadm_config = f.configmap("kubeadm-config", "kube-system")
    provider = detect(configmaps=[kubeadm_config])
    assert (provider.name, provider.evidence) == ("kubeadm", ("ConfigMap kube-system/kubeadm-config",))
    elsewhere = f.pod("kube-apiserver-cp-1", "default", labels={"component": "kube-apiserver"})
    assert detect(pods=[elsewhere]).name == "unknown"


def test_managed_markers_are_overruled_by_a_visible_control_plane() -> None:
    """EKS Anywhere and EKS-D build `-eks-` versions, but their etcd is the operator's to back up."""
    apiserver = f.pod("kube-apiserver-cp-1", "kube-system", labels={"component": "kube-apiserver"})
    provider = detect("v1.28.3-eks-1-28-9", pods=[apiserver])
    assert provider.name == "kubeadm"
    assert not provider.managed_control_plane
    assert "self-managed" in provider.evidence[0]
    control_plane_node = f.node("cp-1", control_plane=True)
    assert not detect("v1.28.3-eks-1-28-9", nodes=[control_plane_node]).managed_control_plane


def test_managed_and_unknown() -> None:
    assert detect("v1.29.3-eks-adc7111").managed_control_plane
    assert not detect().managed_control_plane
    assert detect().name == "unknown"
    unrecognised = detect(nodes=[f.node("cp-1", control_plane=True)])
    assert unrecognised.name == "unknown" and "control-plane node" in unrecognised.evidence[0]
    assert f.make_inventory(version="v1.28.9-eks-036c24b").provider.name == "eks"


OPENSHIFT_MASTER = f.node(
    "master-0", labels={"node-role.kubernetes.io/master": "", "node.openshift.io/os_id": "rhcos"}
)


@pytest.mark.parametrize(
    ("server", "name"),
    [
        ("https://api.shop.a1b2.p1.openshiftapps.com:6443", "rosa"),
        ("https://api.shop.westeurope.aroapp.io:6443", "aro"),
    ],
)
def test_rosa_classic_and_aro_stay_managed_with_their_masters_visible(server: str, name: str) -> None:
    """Their control-plane nodes are in the cluster, but Red Hat and Microsoft SREs run them."""
    provider = detect(server=server, nodes=[OPENSHIFT_MASTER])
    assert provider.name == name
    assert provider.managed_control_plane and provider.is_openshift


@pytest.mark.parametrize(
    ("node", "name"),
    [
        (f.node("ip-10-0-1-5", labels={"hypershift.openshift.io/nodePool": "workers"}), "openshift"),
        (
            f.node(
                "shop-worker-westeurope1-x7k2p",
                labels={"node.openshift.io/os_id": "rhcos"},
                provider_id="azure:///subscriptions/s/resourceGroups/aro-k3x9q2/providers/"
                "Microsoft.Compute/virtualMachines/shop-worker-westeurope1-x7k2p",
            ),
            "aro",
        ),
        (
            f.node(
                "worker-0",
                labels={"node.openshift.io/os_id": "rhcos"},
                provider_id="azure:///subscriptions/s/resourceGroups/platform/providers/"
                "Microsoft.Compute/virtualMachines/worker-0",
            ),
            "openshift",  # self-managed OpenShift on Azure
        ),
    ],
)
def test_openshift_node_markers(node, name: str) -> None:
    provider = detect(nodes=[node])
    assert provider.name == name and provider.is_openshift


def test_only_openshift_distributions_are_openshift() -> None:
    assert not detect("v1.29.3-eks-adc7111").is_openshift


def namespaces(*names: str) -> list[dict]:
    return [{"metadata": {"name": name}} for name in names]


@pytest.mark.parametrize(
    ("names", "name"),
    [
        (("openshift-config", "openshift-azure-operator", "openshift-managed-upgrade-operator"), "aro"),
        (("openshift-config", "openshift-ocm-agent-operator"), "rosa"),
        (("openshift-config", "openshift-managed-upgrade-operator"), "rosa"),
        (("openshift-config", "default"), "openshift"),
    ],
)
def test_openshift_namespaces_tell_who_runs_it_when_nodes_cannot_be_read(names, name: str) -> None:
    provider = detect_provider(
        {"gitVersion": "v1.29.3"}, "https://api.shop.example.com:6443", (), (), (), namespaces(*names)
    )
    assert provider.name == name and provider.is_openshift
    assert provider.managed_control_plane == (name != "openshift")
    assert any("namespace openshift-" in why for why in provider.evidence)


def test_a_rosa_classic_node_label_with_a_custom_domain_stays_managed() -> None:
    """Its nodes say OpenShift; Red Hat SRE's operators say who runs it."""
    provider = detect_provider(
        {"gitVersion": "v1.29.3"},
        "https://api.shop.example.com:6443",
        [OPENSHIFT_MASTER],
        (),
        (),
        namespaces("openshift-config", "openshift-ocm-agent-operator"),
    )
    assert provider.name == "rosa" and provider.managed_control_plane
    assert "node.openshift.io/os_id" in provider.evidence[0] and "Red Hat SRE" in provider.evidence[1]


def test_namespace_signals_never_overrule_a_stronger_one_or_a_malformed_name() -> None:
    eks = detect_provider(
        {"gitVersion": "v1.29.3-eks-adc7111"}, "", (), (), (), namespaces("openshift-config")
    )
    assert eks.name == "eks"
    garbage = [{"metadata": {"name": ["openshift-config"]}}, {"metadata": "x"}, {}]
    assert detect_provider({}, "", (), (), (), garbage).name == "unknown"


def test_the_inventory_reads_the_namespaces_for_the_provider() -> None:
    inventory = f.make_inventory(
        server="https://api.shop.example.com:6443",
        namespaces=[f.namespace("openshift-config"), f.namespace("openshift-azure-operator")],
    )
    assert inventory.provider.name == "aro"


@pytest.mark.parametrize(
    ("provider", "namespace", "owned"),
    [
        ("openshift", "openshift-etcd", True),
        ("rosa", "openshift-ovn-kubernetes", True),
        ("openshift", "openshift-operators", False),  # OLM installs any catalog's operators here
        ("openshift", "shop", False),
        ("eks", "openshift-etcd", False),  # the prefix means nothing elsewhere
    ],
)
def test_openshift_owns_its_reserved_namespaces(provider, namespace, owned) -> None:
    assert Provider(provider).owns_namespace(namespace) is owned

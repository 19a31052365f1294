"""Fixtures for the etcd area. The catalog test judges them at 2026-11-20T08:00:00Z."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.check_fixtures import fixture

Obj = dict[str, Any]

KUBEADM_ETCD_FLAGS = [
    "etcd",
    "--advertise-client-urls=https://10.0.0.10:2379",
    "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
    "--client-cert-auth=true",
    "--data-dir=/var/lib/etcd",
    "--initial-cluster=cp-1=https://10.0.0.10:2380",
    "--key-file=/etc/kubernetes/pki/etcd/server.key",
    "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.10:2379",
    "--listen-peer-urls=https://10.0.0.10:2380",
    "--name=cp-1",
    "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
    "--peer-client-cert-auth=true",
    "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
    "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
    "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
]


def kubeadm_control_plane(etcd_image: str = "registry.k8s.io/etcd:3.5.16-0", etcd_command=None) -> dict:
    """A kubeadm control-plane node with its static etcd and kube-apiserver pods."""
    node = "cp-1"
    etcd = f.pod(
        f"etcd-{node}",
        "kube-system",
        node_name=node,
        labels={"component": "etcd", "tier": "control-plane"},
        containers=[
            f.container(
                "etcd",
                etcd_image,
                readiness=False,
                command=etcd_command or KUBEADM_ETCD_FLAGS,
                memory_limit=None,
            )
        ],
        spec={"hostNetwork": True, "priorityClassName": "system-node-critical"},
    )
    apiserver = f.pod(
        f"kube-apiserver-{node}",
        "kube-system",
        node_name=node,
        labels={"component": "kube-apiserver", "tier": "control-plane"},
        containers=[f.container("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.29.3", readiness=False)],
    )
    return {"nodes": [f.node(node, control_plane=True), f.node("worker-1")], "pods": [etcd, apiserver]}


# The etcd container's script of an OpenShift 4 static pod (cluster-etcd-operator's
# bindata/etcd/pod.yaml, shortened): etcd is exec'd by a shell script, with some flag values
# coming from the container's environment when the script runs.
OPENSHIFT_ETCD_FLAGS = (
    "--logger=zap --log-level=${VERBOSITY} "
    "--initial-advertise-peer-urls=https://${NODE_master_0_IP}:2380 "
    "--cert-file=/etc/kubernetes/static-pod-certs/secrets/etcd-all-certs/etcd-serving-master-0.crt "
    "--key-file=/etc/kubernetes/static-pod-certs/secrets/etcd-all-certs/etcd-serving-master-0.key "
    "--trusted-ca-file=/etc/kubernetes/static-pod-certs/configmaps/etcd-serving-ca/ca-bundle.crt "
    "--client-cert-auth=true "
    "--peer-cert-file=/etc/kubernetes/static-pod-certs/secrets/etcd-all-certs/etcd-peer-master-0.crt "
    "--peer-key-file=/etc/kubernetes/static-pod-certs/secrets/etcd-all-certs/etcd-peer-master-0.key "
    "--peer-trusted-ca-file=/etc/kubernetes/static-pod-certs/configmaps/etcd-peer-client-ca/ca-bundle.crt "
    "--peer-client-cert-auth=true "
    "--advertise-client-urls=https://${NODE_master_0_IP}:2379 "
    "--listen-client-urls=https://${LISTEN_ON_ALL_IPS}:2379,unixs://${NODE_master_0_IP}:0 "
    "--listen-peer-urls=https://${LISTEN_ON_ALL_IPS}:2380 "
    "--metrics=extensive --listen-metrics-urls=https://${LISTEN_ON_ALL_IPS}:9978"
)
OPENSHIFT_RELEASE_IMAGE = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + "a" * 64


def openshift_etcd_script(etcd_flags: str = OPENSHIFT_ETCD_FLAGS) -> str:
    lines = " \\\n  ".join(etcd_flags.split(" "))
    return (
        "#!/bin/sh\nset -euo pipefail\n\netcdctl member list || true\n\n"
        "ETCD_INITIAL_CLUSTER=$(discover-etcd-initial-cluster \\\n"
        "  --cacert=/etc/kubernetes/static-pod-certs/configmaps/etcd-serving-ca/ca-bundle.crt \\\n"
        "  --endpoints=${ALL_ETCD_ENDPOINTS} --data-dir=/var/lib/etcd --target-name=master-0)\n"
        "export ETCD_INITIAL_CLUSTER\n\n"
        "# See https://etcd.io/docs/v3.4.0/tuning/ for why we use ionice\n"
        f"exec nice -n -19 ionice -c2 -n0 etcd \\\n  {lines} || "
        "mv /etc/kubernetes/etcd-backup-dir/etcd-member.yaml /etc/kubernetes/manifests\n"
    )


def openshift_etcd_pod(node: str = "master-0", etcd_flags: str = OPENSHIFT_ETCD_FLAGS) -> Obj:
    """An OpenShift 4 etcd static pod: etcdctl first, the etcd server, and its metrics proxy."""

    def scripted(name: str, script: str) -> Obj:
        env = [
            {"name": "LISTEN_ON_ALL_IPS", "value": "0.0.0.0"},
            {"name": "ETCD_DATA_DIR", "value": "/var/lib/etcd"},
        ]
        return f.container(
            name, OPENSHIFT_RELEASE_IMAGE, readiness=False, command=["/bin/sh", "-c", script], env=env
        )

    return f.pod(
        f"etcd-{node}",
        "openshift-etcd",
        node_name=node,
        labels={"app": "etcd", "etcd": "true", "k8s-app": "etcd"},
        annotations={"kubernetes.io/config.mirror": "x"},
        owner_kind="Node",
        containers=[
            f.container(
                "etcdctl",
                OPENSHIFT_RELEASE_IMAGE,
                readiness=False,
                command=["/bin/bash", "-c", "trap TERM INT; sleep infinity & wait"],
            ),
            scripted("etcd", openshift_etcd_script(etcd_flags)),
            scripted(
                "etcd-metrics",
                "#!/bin/sh\nset -euo pipefail\n\nexec nice -n -18 etcd grpc-proxy start \\\n"
                "  --endpoints https://${NODE_master_0_ETCD_URL_HOST}:9978 \\\n"
                '  --listen-addr ${LOCALHOST_IP}:9977 --advertise-client-url ""\n',
            ),
        ],
        spec={"hostNetwork": True, "priorityClassName": "system-node-critical"},
    )


def openshift_control_plane(etcd_flags: str = OPENSHIFT_ETCD_FLAGS):
    nodes = [
        f.node(
            f"master-{i}", labels={"node-role.kubernetes.io/master": "", "node.openshift.io/os_id": "rhcos"}
        )
        for i in range(3)
    ]
    return f.make_inventory(
        version="v1.29.6+aba1e8d", nodes=nodes, pods=[openshift_etcd_pod(etcd_flags=etcd_flags)]
    )


def kops_etcd_manager_pod(
    node: str = "ip-10-0-1-10",
    *,
    cluster: str = "main",
    backup_store: str = "s3://shop-kops-state/shop-prod/backups/etcd/main",
) -> dict:
    """A kops etcd-manager static pod, shaped like kops 1.28+ writes it."""
    return f.pod(
        f"etcd-manager-{cluster}-{node}",
        "kube-system",
        node_name=node,
        labels={"k8s-app": f"etcd-manager-{cluster}"},
        containers=[
            f.container(
                "etcd-manager",
                "registry.k8s.io/etcdadm/etcd-manager-slim:v3.0.20240617",
                readiness=False,
                command=[
                    "/bin/sh",
                    "-c",
                    "mkfifo /tmp/pipe; (tee -a /var/log/etcd.log < /tmp/pipe & ) ; exec /etcd-manager "
                    f"--backup-store={backup_store} --client-urls=https://__name__:4001 "
                    "--cluster-name=etcd --containerized=true > /tmp/pipe 2>&1",
                ],
            )
        ],
        spec={
            "initContainers": [
                f.container("init-etcd-3-4-13", "registry.k8s.io/etcd:3.4.13-0", readiness=False),
                f.container("init-etcd-3-5-9", "registry.k8s.io/etcd:3.5.9-0", readiness=False),
            ]
        },
    )


def etcd_backup_cronjob(
    name: str = "etcd-backup", *, suspend: bool = False, last_successful: str | None = "2026-11-20T06:00:00Z"
) -> Obj:
    script = (
        "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/pki/ca.crt "
        "--cert=/pki/healthcheck-client.crt --key=/pki/healthcheck-client.key "
        "snapshot save /backup/etcd-$(date +%F-%H%M).db && aws s3 cp /backup s3://backups/etcd --recursive"
    )
    return f.cronjob(
        name,
        "kube-system",
        schedule="0 */6 * * *",
        suspend=suspend,
        last_successful=last_successful,
        containers=[
            f.container("snapshot", "registry.k8s.io/etcd:3.5.16-0", command=["/bin/sh", "-c", script])
        ],
    )


def velero_schedule(
    name: str = "cluster-daily", *, paused: bool = False, last_backup: str | None = None
) -> Obj:
    status: Obj = {"phase": "Enabled"}
    if last_backup:
        status["lastBackup"] = last_backup
    return f.custom_resource(
        "Schedule",
        name,
        "velero",
        spec={
            "schedule": "0 2 * * *",
            "paused": paused,
            "template": {"includedNamespaces": ["*"], "ttl": "720h0m0s"},
        },
        status=status,
    )


def velero_backup(name: str, schedule: str | None, phase: str, started: str, completed: str | None) -> Obj:
    status: Obj = {"phase": phase, "startTimestamp": started, "version": 1}
    if completed:
        status["completionTimestamp"] = completed
    if phase == "Failed":
        status["failureReason"] = (
            "error getting backup storage location: BackupStorageLocation default not found"
        )
    labels = {"velero.io/schedule-name": schedule} if schedule else None
    return f.custom_resource(
        "Backup", name, "velero", spec={"includedNamespaces": ["*"]}, status=status, labels=labels
    )


def k3s_snapshot(name: str, node: str, created: str, *, ready: bool = True, error: str | None = None) -> Obj:
    status: Obj = {"creationTime": created, "readyToUse": ready, "size": "12345678"}
    if error:
        status = {"readyToUse": False, "error": {"time": created, "message": error}}
    return f.custom_resource(
        "ETCDSnapshotFile",
        name,
        None,
        spec={
            "snapshotName": name,
            "nodeName": node,
            "location": f"file:///var/lib/rancher/k3s/server/db/snapshots/{name}",
        },
        status=status,
    )


def k3s_cluster(**objects: list[Obj]):
    nodes = [
        f.node(
            f"server-{i}",
            kubelet="v1.29.3+k3s1",
            control_plane=True,
            labels={"node-role.kubernetes.io/etcd": "true", "node-role.kubernetes.io/control-plane": "true"},
        )
        for i in (1, 2, 3)
    ]
    return f.make_inventory(version="v1.29.3+k3s1", nodes=nodes, **objects)


# -- ETCD-001 ----------------------------------------------------------------------------------


@fixture("ETCD-001", "pass")
def mechanism_pass():
    cp = kubeadm_control_plane()
    return f.make_inventory(**cp, cronjobs=[etcd_backup_cronjob()], jobs=[])


@fixture("ETCD-001", "fail")
def mechanism_fail():
    cp = kubeadm_control_plane()
    return f.make_inventory(**cp, cronjobs=[], jobs=[])


# -- ETCD-002 ----------------------------------------------------------------------------------


@fixture("ETCD-002", "pass")
def velero_pass():
    return f.make_inventory(
        velero__schedules=[velero_schedule(last_backup="2026-11-20T02:00:00Z")],
        velero__backups=[
            velero_backup(
                "cluster-daily-20261120020000",
                "cluster-daily",
                "Completed",
                "2026-11-20T02:00:00Z",
                "2026-11-20T02:04:10Z",
            ),
            velero_backup(
                "cluster-daily-20261119020000",
                "cluster-daily",
                "Completed",
                "2026-11-19T02:00:00Z",
                "2026-11-19T02:03:55Z",
            ),
        ],
    )


@fixture("ETCD-002", "fail")
def velero_fail():
    return f.make_inventory(
        velero__schedules=[velero_schedule(paused=True, last_backup="2026-11-11T02:00:00Z")],
        velero__backups=[
            velero_backup(
                "cluster-daily-20261111020000",
                "cluster-daily",
                "Completed",
                "2026-11-11T02:00:00Z",
                "2026-11-11T02:05:00Z",
            ),
        ],
    )


# -- ETCD-003 ----------------------------------------------------------------------------------


@fixture("ETCD-003", "pass")
def etcdctl_pass():
    return f.make_inventory(cronjobs=[etcd_backup_cronjob()], jobs=[])


@fixture("ETCD-003", "fail")
def etcdctl_fail():
    return f.make_inventory(
        cronjobs=[etcd_backup_cronjob(suspend=True, last_successful="2026-10-02T06:00:00Z")], jobs=[]
    )


# -- ETCD-004 ----------------------------------------------------------------------------------


@fixture("ETCD-004", "pass")
def k3s_pass():
    return k3s_cluster(
        k3s__etcdsnapshotfiles=[
            k3s_snapshot(f"etcd-snapshot-server-{i}-1763611200-local", f"server-{i}", "2026-11-20T00:00:00Z")
            for i in (1, 2, 3)
        ]
    )


@fixture("ETCD-004", "fail")
def k3s_fail():
    return k3s_cluster(
        k3s__etcdsnapshotfiles=[
            k3s_snapshot("etcd-snapshot-server-1-1763524800-local", "server-1", "2026-11-19T00:00:00Z"),
            k3s_snapshot(
                "etcd-snapshot-server-1-1763611200-local",
                "server-1",
                "2026-11-20T00:00:00Z",
                error="failed to save snapshot: write /var/lib/rancher/k3s/server/db/snapshots: disk full",
            ),
        ]
    )


# -- ETCD-005 ----------------------------------------------------------------------------------


@fixture("ETCD-005", "pass")
def fresh_pass():
    cp = kubeadm_control_plane()
    return f.make_inventory(
        **cp,
        cronjobs=[],
        jobs=[],
        velero__schedules=[velero_schedule(last_backup="2026-11-20T02:00:00Z")],
        velero__backups=[
            velero_backup(
                "cluster-daily-20261120020000",
                "cluster-daily",
                "Completed",
                "2026-11-20T02:00:00Z",
                "2026-11-20T02:04:10Z",
            )
        ],
    )


@fixture("ETCD-005", "fail")
def fresh_fail():
    cp = kubeadm_control_plane()
    return f.make_inventory(
        **cp,
        cronjobs=[etcd_backup_cronjob(last_successful="2026-11-16T06:00:00Z")],
        jobs=[],
    )


# -- ETCD-006 ----------------------------------------------------------------------------------


@fixture("ETCD-006", "pass")
def version_pass():
    return f.make_inventory(**kubeadm_control_plane("registry.k8s.io/etcd:3.5.16-0"))


@fixture("ETCD-006", "fail")
def version_fail():
    return f.make_inventory(**kubeadm_control_plane("registry.k8s.io/etcd:3.5.1-0"))


# -- ETCD-007 ----------------------------------------------------------------------------------


@fixture("ETCD-007", "pass")
def client_auth_pass():
    return f.make_inventory(**kubeadm_control_plane())


@fixture("ETCD-007", "fail")
def client_auth_fail():
    # etcd requires certificates from a named CA file alone: drop those too, or nothing is insecure.
    insecure = [w.replace("--client-cert-auth=true", "--client-cert-auth=false") for w in KUBEADM_ETCD_FLAGS]
    insecure = [w for w in insecure if not w.startswith(("--peer-client-cert-auth", "--trusted-ca-file"))]
    return f.make_inventory(**kubeadm_control_plane(etcd_command=insecure))

"""Test-side fake Kubernetes API server replaying recorded kube-apiserver v1.24 responses.

    with ReplayServer() as srv:                      # or the ``replay_server`` pytest fixture
        srv.url, srv.ca_pem_path                     # https://127.0.0.1:PORT, trustme CA
        kubeconfig = srv.write_kubeconfig(tmp_path / "config", auth="token")  # cert, exec, ...
        srv.load(generate_cluster(nodes=50, pods=2_000).collections, replace=True)
        srv.forbid("secrets", identity="auditor"); srv.fail("/api/v1/pods", 429, retry_after=1)
        ...                                          # run the code under test
        srv.requests                                 # what it asked, as whom (never the token)

Modules: ``server`` (ReplayServer), ``store`` (objects and paging), ``faults``, ``kubeconfig``,
``generate`` (large clusters from recorded templates), ``recorded`` (the fixture files),
``process`` (``start_in_subprocess``; also ``python -m tests.replay --pods N --nodes M``).
"""

from .generate import GeneratedCluster, generate_cluster
from .kubeconfig import ContextSpec, closed_port_url, exec_plugin_calls, exec_tokens_path
from .process import ReplayProcess, start_in_subprocess
from .server import ClientCert, ReplayServer, RequestRecord

__all__ = [
    "ClientCert",
    "ContextSpec",
    "GeneratedCluster",
    "ReplayProcess",
    "ReplayServer",
    "RequestRecord",
    "closed_port_url",
    "exec_plugin_calls",
    "exec_tokens_path",
    "generate_cluster",
    "start_in_subprocess",
]

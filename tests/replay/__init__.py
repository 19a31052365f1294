"""Test-side fake Kubernetes API server replaying recorded kube-apiserver v1.24 responses."""

from .kubeconfig import ContextSpec, closed_port_url, exec_plugin_calls, exec_tokens_path
from .server import ClientCert, ReplayServer, RequestRecord

__all__ = [
    "ClientCert",
    "ContextSpec",
    "ReplayServer",
    "RequestRecord",
    "closed_port_url",
    "exec_plugin_calls",
    "exec_tokens_path",
]

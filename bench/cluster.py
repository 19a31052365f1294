"""The benchmark's cluster: a generated cluster served by the replay API server in its own
process, and the list requests every contender makes against it."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.sizes import Size
from k8saudit.collector import JSON_ACCEPT, METADATA_ONLY_ACCEPT
from k8saudit.kinds import KINDS, ResourceKind
from tests.replay.process import ReplayProcess, start_in_subprocess


@dataclass(frozen=True, slots=True)
class ListTarget:
    """One kind as the collector lists it: the collection path and the Accept header."""

    key: str
    kind: str
    resource: str
    group: str
    version: str
    path: str
    accept: str
    namespaced: bool


@dataclass(frozen=True, slots=True)
class Served:
    """Everything a contender needs to reach the served cluster."""

    url: str
    ca_pem_path: str
    token: str
    kubeconfig: str
    targets: tuple[ListTarget, ...]

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["targets"] = [asdict(t) for t in self.targets]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Served:
        targets = tuple(ListTarget(**t) for t in data["targets"])  # type: ignore[arg-type, union-attr]
        return cls(
            str(data["url"]), str(data["ca_pem_path"]), str(data["token"]), str(data["kubeconfig"]), targets
        )


@contextlib.contextmanager
def served_cluster(size: Size, workdir: Path, gzip: bool = True) -> Iterator[tuple[Served, ReplayProcess]]:
    """Start the replay server with a generated cluster of `size`; stop it on exit. With `gzip`,
    answers over 128 KiB are gzipped for clients that accept it, as kube-apiserver does."""
    kubeconfig = workdir / f"kubeconfig-{size.label}"
    with start_in_subprocess(pods=size.pods, nodes=size.nodes, kubeconfig=kubeconfig, compress=gzip) as proc:
        targets = list_targets(proc.url, str(proc.ca_pem_path), proc.token)
        yield Served(proc.url, str(proc.ca_pem_path), proc.token, str(kubeconfig), targets), proc


def list_targets(url: str, ca_pem_path: str, token: str) -> tuple[ListTarget, ...]:
    """The kinds the collector would list on this server, each under the version it would pick."""
    context = ssl.create_default_context(cafile=ca_pem_path)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, verify=context, headers=headers, timeout=60) as client:
        served = set(client.get("/api").json().get("versions") or [])
        for group in client.get("/apis").json().get("groups") or []:
            served.update(v["groupVersion"] for v in group.get("versions") or [])
        resources: dict[str, set[str]] = {}
        targets = []
        for kind in KINDS:
            gv = next((gv for gv in kind.versions if gv.api_version in served), None)
            if gv is None:
                continue
            if gv.path not in resources:
                listed = client.get(gv.path).json().get("resources") or []
                resources[gv.path] = {r["name"] for r in listed}
            if kind.resource in resources[gv.path]:
                targets.append(_target(kind, gv.group, gv.version, gv.path))
    return tuple(targets)


def _target(kind: ResourceKind, group: str, version: str, base: str) -> ListTarget:
    accept = METADATA_ONLY_ACCEPT if kind.metadata_only else JSON_ACCEPT
    return ListTarget(
        kind.key, kind.kind, kind.resource, group, version, f"{base}/{kind.resource}", accept, kind.namespaced
    )

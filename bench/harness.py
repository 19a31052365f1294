"""Run one measured child process: wall time, peak RSS (wait4's rusage of that very child), and
the JSON result line it prints."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(slots=True)
class Measurement:
    name: str
    seconds: float  # the work as timed by the child (imports excluded), else the process wall time
    process_seconds: float  # the whole child process, interpreter start-up included
    peak_rss_mib: float  # the child's ru_maxrss, in MiB
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    # Every run's `seconds` when this is the fastest of several, in the order they ran (a failed
    # run as None): how far apart the runs were, and which ran in the same round as which.
    runs: list[float | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 4),
            "process_seconds": round(self.process_seconds, 4),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "result": self.result,
            "error": self.error,
            "runs": [None if r is None else round(r, 4) for r in self.runs],
        }


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


def run_child(name: str, command: list[str], timeout: float = 1800) -> Measurement:
    """Run `command` and reap it with wait4, which returns the rusage of that child alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env(), stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    peak_mib = usage.ru_maxrss / 1024  # Linux: KiB
    if proc.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        reason = "timed out" if wall >= timeout else (lines[-1] if lines else f"exit code {proc.returncode}")
        return Measurement(name, wall, wall, peak_mib, error=reason[:300])
    result: dict[str, Any] = {}
    lines = stdout.decode(errors="replace").strip().splitlines()
    if lines:
        try:
            parsed = orjson.loads(lines[-1])
            result = parsed if isinstance(parsed, dict) else {}
        except orjson.JSONDecodeError:
            result = {}
    return Measurement(name, float(result.get("seconds", wall)), wall, peak_mib, result)

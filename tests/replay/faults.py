"""Fault injection for the replay server.

A fault matches requests by *pattern* and optionally by identity, and applies to the first
``times`` matching requests (``None``: until cleared). Patterns:

- ``None``: every request;
- a path starting with ``/``: that exact path (query ignored), or a glob if it contains ``*?[``
  (``/api/v1/namespaces/*/pods``);
- anything else: a resource name, matching every path of that resource — list, namespaced list
  and single object (``"secrets"``; ``"deployments.apps"`` to also pin the group).

Faults are checked in the order they were added. ``slow`` faults add their delay and let the
search go on; the first other matching fault decides the answer and is consumed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

FaultKind = Literal["forbid", "fail", "expire_continue", "slow", "drop", "corrupt"]


@dataclass(frozen=True)
class RequestTarget:
    """What a fault can match on."""

    path: str
    resource: str | None
    group: str | None
    identity: str | None
    has_continue: bool


def matches_pattern(pattern: str | None, target: RequestTarget) -> bool:
    if pattern is None:
        return True
    if pattern.startswith("/"):
        if any(ch in pattern for ch in "*?["):
            return fnmatchcase(target.path, pattern)
        return target.path == pattern or target.path == pattern.rstrip("/")
    if target.resource is None:
        return False
    if pattern == target.resource:
        return True
    return bool(target.group) and pattern == f"{target.resource}.{target.group}"


@dataclass
class Fault:
    kind: FaultKind
    pattern: str | None
    identity: str | None = None
    times: int | None = 1
    status: int = 0
    retry_after: float | int | None = None
    body: Any = None
    seconds: float = 0.0
    mode: str = "truncated"
    continued_only: bool = False  # only requests carrying a `continue` token (page 2 onwards)
    hits: int = field(default=0)

    def matches(self, target: RequestTarget) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.identity is not None and self.identity != target.identity:
            return False
        if (self.kind == "expire_continue" or self.continued_only) and not target.has_continue:
            return False
        return matches_pattern(self.pattern, target)


@dataclass
class Decision:
    """What the faults say about one request: a delay, then maybe a fault that answers it."""

    delay: float = 0.0
    fault: Fault | None = None


class FaultTable:
    """Thread-safe ordered list of faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.times is None or f.hits < f.times]

    def forbids(self, target: RequestTarget) -> bool:
        """Whether a forbid fault would answer this target (without consuming it)."""
        with self._lock:
            return any(f.kind == "forbid" and f.matches(target) for f in self._faults)

    def decide(self, target: RequestTarget) -> Decision:
        decision = Decision()
        with self._lock:
            for fault in self._faults:
                if not fault.matches(target):
                    continue
                fault.hits += 1
                if fault.kind == "slow":
                    decision.delay += fault.seconds
                    continue
                decision.fault = fault
                break
            self._faults = [f for f in self._faults if f.times is None or f.hits < f.times]
        return decision

"""Access to the kube-apiserver v1.24 responses recorded in ``../shared/fixtures``.

Each recording is one JSON file holding the request that was sent (method, path, params, accept,
auth alias) and the response that came back (status, headers, body). ``index.json`` lists them.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES_ENV = "K8SAUDIT_FIXTURES"

# tests/replay/recorded.py -> parents[2] is the repository; its parent holds ``shared/``.
DEFAULT_FIXTURES_DIR = (
    Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "kube-apiserver-v1.24"
)


def fixtures_dir() -> Path:
    """The directory of recorded responses (``$K8SAUDIT_FIXTURES`` overrides the default)."""
    override = os.environ.get(FIXTURES_ENV)
    return Path(override) if override else DEFAULT_FIXTURES_DIR


@dataclass(frozen=True)
class Recording:
    """One recorded request/response pair."""

    file: str
    method: str
    path: str
    params: dict[str, str]
    accept: str
    auth: str
    status: int
    headers: dict[str, str]
    body: Any

    def body_copy(self) -> Any:
        """A deep copy of the response body, safe to modify."""
        return copy.deepcopy(self.body)


class Recordings:
    """The recorded responses of one fixtures directory, by file name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        index_path = directory / "index.json"
        if not index_path.is_file():
            raise FileNotFoundError(
                f"recorded kube-apiserver fixtures not found: {index_path} "
                f"(set {FIXTURES_ENV} to the fixtures directory)"
            )
        self.index: list[dict[str, Any]] = json.loads(index_path.read_text())
        self.by_file: dict[str, Recording] = {}
        for entry in self.index:
            raw = json.loads((directory / entry["file"]).read_text())
            request, response = raw["request"], raw["response"]
            self.by_file[entry["file"]] = Recording(
                file=entry["file"],
                method=request["method"],
                path=request["path"],
                params=dict(request.get("params") or {}),
                accept=request.get("accept", "application/json"),
                auth=request.get("auth", ""),
                status=response["status"],
                headers=dict(response.get("headers") or {}),
                body=response["body"],
            )

    def __getitem__(self, file: str) -> Recording:
        return self.by_file[file]

    def __iter__(self):
        return iter(self.by_file.values())

    def discovery(self) -> list[Recording]:
        """Recordings of ``/version``, ``/api``, ``/apis`` and the group-version documents."""
        return [
            r
            for r in self
            if r.method == "GET"
            and r.status == 200
            and (r.path in ("/version", "/api", "/apis") or r.body.get("kind") == "APIResourceList")
        ]

    def full_lists(self) -> list[Recording]:
        """Recorded list responses holding a whole collection (not the ``limit=25`` pages)."""
        return [
            r
            for r in self
            if r.file.startswith("list_")
            and r.status == 200
            and "continue" not in r.params
            and not r.body.get("metadata", {}).get("continue")
        ]


@cache
def load_recordings(directory: str | None = None) -> Recordings:
    """Load (once per directory) the recordings; ``None`` means :func:`fixtures_dir`."""
    return Recordings(Path(directory) if directory else fixtures_dir())

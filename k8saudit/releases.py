"""The Kubernetes release calendar: minors, release and end-of-life dates, newest patches.

It ships with the package (`k8saudit/data/releases.json`) so audits work offline; the report says
how old it is, because "the newest patch" is only as true as the calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import orjson

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    """`v1.29.3-eks-adc7111` -> (1, 29, 3); None when it is not a Kubernetes version string."""
    match = _VERSION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def format_version(version: Version) -> str:
    return f"{version[0]}.{version[1]}.{version[2]}"


@dataclass(frozen=True, slots=True)
class MinorRelease:
    minor: tuple[int, int]
    released: date
    end_of_life: date
    latest: Version

    @property
    def name(self) -> str:
        return f"{self.minor[0]}.{self.minor[1]}"


@dataclass(frozen=True, slots=True)
class ReleaseCalendar:
    minors: tuple[MinorRelease, ...]  # oldest first
    as_of: date
    source: str

    @classmethod
    def shipped(cls) -> ReleaseCalendar:
        raw = resources.files("k8saudit.data").joinpath("releases.json").read_bytes()
        return cls.from_dict(orjson.loads(raw))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReleaseCalendar:
        minors = []
        for entry in data["minors"]:
            major, minor = (int(part) for part in str(entry["minor"]).split("."))
            latest = parse_version(str(entry["latest"]))
            if latest is None:
                raise ValueError(f"bad latest version {entry['latest']!r}")
            minors.append(
                MinorRelease(
                    (major, minor),
                    date.fromisoformat(entry["released"]),
                    date.fromisoformat(entry["end_of_life"]),
                    latest,
                )
            )
        minors.sort(key=lambda m: m.minor)
        return cls(tuple(minors), date.fromisoformat(data["as_of"]), str(data.get("source", "")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "minors": [
                {
                    "minor": m.name,
                    "released": m.released.isoformat(),
                    "end_of_life": m.end_of_life.isoformat(),
                    "latest": format_version(m.latest),
                }
                for m in self.minors
            ],
        }

    def release(self, major: int, minor: int) -> MinorRelease | None:
        for m in self.minors:
            if m.minor == (major, minor):
                return m
        return None

    def newest_released(self, on: date) -> MinorRelease:
        """The newest minor already released on `on` (the calendar may list announced ones)."""
        released = [m for m in self.minors if m.released <= on]
        return released[-1] if released else self.minors[0]

    def age_days(self, on: date) -> int:
        return (on - self.as_of).days

"""The cluster sizes the benchmark knows: pods, nodes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Size:
    label: str
    pods: int
    nodes: int


SIZES: dict[str, Size] = {
    "1k": Size("1k", 1_000, 100),
    "10k": Size("10k", 10_000, 1_000),
    "100k": Size("100k", 100_000, 5_000),
    # ~50,000 findings: where the filter-keystroke target is set (`--sizes 15k`; not in the default
    # run, whose columns grow 10× each).
    "15k": Size("15k", 15_000, 1_500),
}


def parse_sizes(text: str) -> list[Size]:
    """`"1k,10k"` -> sizes; an unknown label is a one-line ValueError."""
    labels = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [label for label in labels if label not in SIZES]
    if unknown or not labels:
        raise ValueError(f"unknown size(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SIZES)}")
    return [SIZES[label] for label in labels]

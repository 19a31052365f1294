"""Type-safe readers of cluster objects' fields.

The boundary checks only the top-level fields of what it lets in (`inventory.malformed`, the
schemas); deeper down, a file or a broken server may put anything. A reader returns what the
Kubernetes type promises or an empty value, so a check judges that one object as lacking the
field instead of failing for the whole cluster. A module of its own so that modules the inventory
imports (`provider`) read fields the same way.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def as_object(value: object) -> Obj:
    """`value` where the Kubernetes type has an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def dicts(value: object) -> list[Obj]:
    """The objects of `value` where the Kubernetes type has a list of objects (see `as_object`)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def as_list(value: object) -> list[Any]:
    """`value` where the Kubernetes type has a list (of strings: verbs, hosts), else an empty one."""
    return value if isinstance(value, list) else []


def as_count(value: object, default: int = 0) -> int:
    """An integer field (replicas, ready counts) as an int, else `default` (see `as_object`)."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():  # False for inf and nan
        return int(value)
    return default


# These four run millions of times per scan of a large cluster: kept to one call each.


def meta(obj: Obj) -> Obj:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def name_of(obj: Obj) -> str:
    m = obj.get("metadata")
    name = m.get("name", "") if isinstance(m, dict) else ""
    return name if type(name) is str else str(name)


def namespace_of(obj: Obj) -> str:
    m = obj.get("metadata")
    namespace = m.get("namespace") if isinstance(m, dict) else None
    return namespace if type(namespace) is str else str(namespace or "")


def labels_of(obj: Obj) -> dict[str, str]:
    m = obj.get("metadata")
    labels = m.get("labels") if isinstance(m, dict) else None
    return labels if isinstance(labels, dict) else {}


def annotations_of(obj: Obj) -> dict[str, str]:
    annotations = meta(obj).get("annotations")
    return annotations if isinstance(annotations, dict) else {}

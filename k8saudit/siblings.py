"""Sibling objects: the pods of one ReplicaSet, DaemonSet or Job are near-copies of each other.

Neighbours in a pod list are usually siblings (they sort together by name), with equal
tolerations, labels and owner references, and containers that differ only in the mount of each
pod's own token volume. Neighbours in a list of Services (one namespace's) or Nodes (one pool's)
are alike too: the same type, IP families and ports; the same labels, taints, capacity and
versions. One copy serves them all:

- in memory, `share_with` lets a pod use its predecessor's copy of each equal part, down to the
  equal fields of its containers, volumes and statuses, and `SpecSharing` builds each pod spec
  from the raw JSON of its fields with the predecessor's copy of each field whose bytes are the
  same (collection);
- on disk, `table`/`stored` write such a part once and `null` where a later sibling repeats it,
  with a table naming those places, and `restore` puts the shared copy back (snapshots);
- `inventory.share_pod_templates` lets a ReplicaSet use its Deployment's pod spec (collection
  and loading).

Sharing is invisible because the inventory is read-only once collected or loaded: checks never
change what they read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson

Obj = dict[str, Any]

# Kinds whose neighbours share many parts: pods (the replicas of a ReplicaSet, DaemonSet, Job),
# services and nodes (at 100k pods, 35 and 11 MiB less; comparing them, 0.1 and 0.02 s on their
# own, did not show in the Collector's time, which builds fewer objects in exchange).
SIBLING_KINDS = frozenset({"pods", "services", "nodes"})
# Of those, kinds whose spec is a pod spec, built by `SpecSharing` from the raw JSON of its fields.
RAW_SPEC_KINDS = frozenset({"pods"})
SECTIONS = ("metadata", "spec", "status")
# What `share_with` is left to share of a pod whose spec `SpecSharing` built.
BESIDE_BUILT_SPEC = ("metadata", "status")
_CONTAINERS = (dict, list)

# Where a shared part sits: (section, key), ("spec", "tolerations"), or (section, key, index,
# field) in a list of `_ENTRY_PLACE_LISTS`, ("spec", "containers", 0, "env"). Written
# "spec.tolerations" and "spec.containers[0].env".
Place = tuple[str, str] | tuple[str, str, int, str]


# Lists whose entries differ between sibling pods in a field or two, their other fields equal:
# each container mounts the pod's own token volume (`kube-api-access-<random>`), the volume
# carries that name, container statuses and conditions have their own IDs and times.
_ENTRY_LISTS = frozenset(
    {"containers", "initContainers", "volumes", "containerStatuses", "initContainerStatuses", "conditions"}
)
# Those whose entries hold shared objects, not only strings (a table names places of objects; a
# status entry's objects are its own: its state and times).
_ENTRY_PLACE_LISTS = frozenset({"containers", "initContainers", "volumes"})


def share_with(previous: Obj, item: Obj, sections: tuple[str, ...] = SECTIONS) -> None:
    """Let `item` use `previous`'s copy of each part of its `sections` that is equal in both,
    strings included; in the lists of `_ENTRY_LISTS` that are not equal as a whole, of each
    entry's equal fields. The comparisons run in C (`==` on dicts and lists) and stop at the
    first difference."""
    for section in sections:
        mine, theirs = item.get(section), previous.get(section)
        if type(mine) is dict and type(theirs) is dict:
            _share_fields(theirs, mine, descend=True)


def _share_fields(theirs: Obj, mine: Obj, descend: bool) -> None:
    for key, value in mine.items():
        kind = type(value)
        if kind is str:  # a pod's scalars repeat its sibling's ("Running", node and image names)
            other = theirs.get(key)
            if other == value and other is not value:
                mine[key] = other  # an existing key: safe while iterating
        elif value and kind in _CONTAINERS:
            other = theirs.get(key)
            if other is value:
                continue
            if other == value:
                mine[key] = other
            elif descend and key in _ENTRY_LISTS and kind is list and type(other) is list:
                for entry, match in zip(value, other, strict=False):  # entries past the shorter: none
                    if type(entry) is dict and type(match) is dict:
                        _share_fields(match, entry, descend=False)


# What `SpecSharing` hands a decoded part to, and keeps what it returns (redaction): the key of the
# spec's field, and None for the whole field or the field of one entry of that field's list.
Fresh = Callable[[str, str | None, Any], Any]
RawFields = dict[str, msgspec.Raw]
# A list of `_ENTRY_LISTS` built entry by entry: the raw fields of each entry, and the entries.
_Entries = tuple[list[RawFields], list[Obj]]

_decode = msgspec.json.decode
_ENTRY_FIELDS = msgspec.json.Decoder(list[RawFields])


class SpecSharing:
    """Each pod spec of a list built, in list order, from the raw JSON of its fields (the
    collector's pages are decoded with `raw_specs`), with the previous pod's decoded value for
    every field whose bytes are the same: neither decoded again nor compared as objects.

    In a list of `_ENTRY_LISTS` whose bytes differ (each container mounts its pod's own token
    volume), the same holds entry by entry for each entry's fields. So siblings share what
    `share_with` has them share (equal numbers and empty objects too), and only what differs is
    decoded. At 100k pods, decoding, redacting and sharing the pod pages takes 3.6-3.9 s so,
    against 4.8-5.3 s when every spec was decoded whole and then compared with the previous one.

    What is decoded goes through `fresh(key, field, value)` first (redaction). So every part of
    a built spec went through `fresh`, itself or as an earlier pod's part for the same bytes.
    `build` raises what msgspec raises on a value the page's syntax check let through (a number
    past a float's range); the previous pod is then forgotten.
    """

    __slots__ = ("_entries", "_fresh", "_raws", "_spec")

    def __init__(self, fresh: Fresh) -> None:
        self._fresh = fresh
        self.reset()

    def reset(self) -> None:
        """Forget the previous pod: the next spec is decoded whole."""
        self._raws: RawFields = {}
        self._spec: Obj = {}
        self._entries: dict[str, _Entries] = {}

    def build(self, raws: RawFields) -> Obj:
        previous_raws, previous, previous_entries = self._raws, self._spec, self._entries
        self.reset()  # until this spec is built: a refused one leaves no half-built previous
        spec: Obj = {}
        entries: dict[str, _Entries] = {}
        for key, raw in raws.items():
            if previous_raws.get(key) == raw:
                spec[key] = previous[key]
                if key in previous_entries:
                    entries[key] = previous_entries[key]
            elif key in _ENTRY_LISTS and (built := self._entry_list(key, raw, previous_entries.get(key))):
                spec[key] = built[1]
                entries[key] = built
            else:
                spec[key] = self._fresh(key, None, _decode(raw))
        # The raw fields are slices of their page: keeping them keeps at most one page alive.
        self._raws, self._spec, self._entries = raws, spec, entries
        return spec

    def _entry_list(self, key: str, raw: msgspec.Raw, previous: _Entries | None) -> _Entries | None:
        """The list `spec[key]` built entry by entry against the previous pod's, or None if it is
        not a list of objects (it is then decoded whole)."""
        try:
            entry_raws = _ENTRY_FIELDS.decode(raw)
        except msgspec.ValidationError:
            return None
        previous_raws, previous_entries = previous or ([], [])
        built: list[Obj] = []
        for index, fields in enumerate(entry_raws):
            if index < len(previous_raws):
                theirs_raws, theirs = previous_raws[index], previous_entries[index]
            else:
                theirs_raws, theirs = {}, {}
            entry: Obj = {}
            for name, value in fields.items():
                if theirs_raws.get(name) == value:
                    entry[name] = theirs[name]
                else:
                    entry[name] = self._fresh(key, name, _decode(value))
            built.append(entry)
        return entry_raws, built


@dataclass(slots=True)
class SharingTable:
    """Which parts of each item are its predecessor's very object. `marks[i]` is 0 for none, or
    n for the places `patterns[n - 1]`: a few patterns serve a whole list."""

    patterns: list[tuple[Place, ...]] = field(default_factory=list)
    marks: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patterns": [[_text(place) for place in places] for places in self.patterns],
            "items": self.marks,
        }


def table(items: list[Obj]) -> SharingTable:
    """The places where each item holds the same object as the one before it (by identity, as
    `share_with` or an earlier `restore` left them: no comparison of contents)."""
    numbers: dict[tuple[Place, ...], int] = {(): 0}
    marks = [0] * len(items)
    for index in range(1, len(items)):
        places = _same_places(items[index - 1], items[index])
        if places:
            marks[index] = numbers.setdefault(places, len(numbers))
    return SharingTable([places for places in numbers if places], marks)


def _same_places(previous: Obj, item: Obj) -> tuple[Place, ...]:
    places: list[Place] = []
    for section in SECTIONS:
        mine, theirs = item.get(section), previous.get(section)
        if type(mine) is not dict or type(theirs) is not dict:
            continue
        for key, value in mine.items():
            if type(value) not in _CONTAINERS:
                continue
            other = theirs.get(key)
            if other is value:
                if "[" not in key:  # "[" would read back as an entry's place
                    places.append((section, key))
            elif key in _ENTRY_PLACE_LISTS and type(value) is list and type(other) is list:
                for index, (entry, match) in enumerate(zip(value, other, strict=False)):
                    if type(entry) is dict and type(match) is dict:
                        for field, part in entry.items():
                            if type(part) in _CONTAINERS and match.get(field) is part and field.isalnum():
                                places.append((section, key, index, field))
    return tuple(places)


def stored(items: list[Obj], sharing: SharingTable) -> Iterator[Obj]:
    """`items` as written: a shared part is `null` in every item after the first that holds it.
    Copies only the dicts on the way to a `null`; the items themselves are untouched."""
    for item, mark in zip(items, sharing.marks, strict=True):
        if not mark:
            yield item
            continue
        copy = dict(item)
        for place in sharing.patterns[mark - 1]:
            section = copy[place[0]] = _own(copy[place[0]], item[place[0]])
            if len(place) == 2:
                section[place[1]] = None
                continue
            _, key, index, field = place
            entries = section[key] = _own(section[key], item[place[0]][key])
            entry = entries[index] = _own(entries[index], item[place[0]][key][index])
            entry[field] = None
        yield copy


def _own(current: Any, original: Any) -> Any:
    """`current`, copied first if it is still the item's own `original` (never changed)."""
    return original.copy() if current is original else current


def restore(items: list[Obj], data: object, budget: int) -> int:
    """Undo `stored`, in place, from a table read from a file: each `null` the table names gets
    the previous item's object. Returns the bytes of JSON the restored parts stand for, and
    raises ValueError if they pass `budget` (a few KB of table repeating a big part in every pod
    would make the checks walk far more than the file holds) or if the table does not fit."""
    patterns, marks = _parse(data, len(items))
    grouped = [_by_holder(places) for places in patterns]
    weights: dict[int, int] = {}  # id of a shared part -> its size as JSON, computed once
    expanded = 0
    for index, mark in enumerate(marks):
        if not mark:
            continue
        if index == 0:
            raise ValueError("the first item cannot repeat a previous one")
        previous, item = items[index - 1], items[index]
        for path, keys in grouped[mark - 1]:
            mine, theirs = _holder(item, path), _holder(previous, path)
            for key in keys:
                if mine is None or mine.get(key, 0) is not None:
                    raise ValueError(f"item {index} has no null {_named((*path, key))} to restore")
                value = theirs.get(key) if theirs is not None else None
                if type(value) not in _CONTAINERS:
                    raise ValueError(f"item {index - 1} has no {_named((*path, key))} to share")
                mine[key] = value
                weight = weights.get(id(value))
                if weight is None:
                    weight = weights[id(value)] = len(orjson.dumps(value))
                expanded += weight
        if expanded > budget:
            raise ValueError("its shared parts, written out, pass the size limit; raise --max-snapshot-size")
    return expanded


# Where the dict holding a place's last key sits: (section,) or (section, key, index).
HolderPath = tuple[str] | tuple[str, str, int]


def _by_holder(places: tuple[Place, ...]) -> list[tuple[HolderPath, list[str]]]:
    """A pattern's places grouped by the dict that holds them: each is found once per item."""
    groups: dict[HolderPath, list[str]] = {}
    for place in places:
        groups.setdefault(place[:-1], []).append(place[-1])  # type: ignore[index]
    return list(groups.items())


def _parse(data: object, count: int) -> tuple[list[tuple[Place, ...]], list[int]]:
    if not isinstance(data, dict):
        raise TypeError("a sharing table is not an object")
    patterns, marks = data.get("patterns"), data.get("items")
    if not isinstance(patterns, list) or not isinstance(marks, list) or len(marks) != count:
        raise ValueError("a sharing table does not match its list")
    parsed = [tuple(_place(name) for name in _strings(places)) for places in patterns]
    for mark in marks:
        if type(mark) is not int or not 0 <= mark <= len(parsed):
            raise ValueError(f"a sharing table names pattern {str(mark)[:20]!r}, which it lacks")
    return parsed, marks


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a sharing pattern is not a list of strings")
    return value


def _holder(obj: Obj, path: HolderPath) -> Obj | None:
    """The dict at `path` in `obj`, or None if `obj` has no such dict."""
    node: Any = obj.get(path[0])
    if len(path) == 3:
        entries = node.get(path[1]) if type(node) is dict else None
        node = entries[path[2]] if type(entries) is list and path[2] < len(entries) else None
    return node if type(node) is dict else None


def _text(place: Place) -> str:
    return f"{place[0]}.{place[1]}" if len(place) == 2 else f"{place[0]}.{place[1]}[{place[2]}].{place[3]}"


def _named(place: Place) -> str:
    """A place for an error message: the key comes from the file, so it is quoted and clipped."""
    return f"{place[0]}.{place[1][:40]!r}" + (f"[{place[2]}].{place[3][:40]!r}" if len(place) == 4 else "")


_ENTRY_PLACE = re.compile(r"(\w+)\.(\w+)\[(\d{1,6})\]\.([A-Za-z0-9]+)")


def _place(name: str) -> Place:
    entry = _ENTRY_PLACE.fullmatch(name)
    if entry and entry[1] in SECTIONS and entry[2] in _ENTRY_PLACE_LISTS:
        return entry[1], entry[2], int(entry[3]), entry[4]
    section, _, key = name.partition(".")
    if section not in SECTIONS or not key or "[" in key:
        raise ValueError(f"a sharing table names {name[:40]!r}, not a part of an object")
    return section, key

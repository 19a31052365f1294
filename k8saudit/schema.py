"""Each built-in kind's fields as a msgspec schema: list pages and snapshots decoded in C,
without ever building `managedFields`, and without a per-item shape test.

Two fifths of what a server sends for a pod is `metadata.managedFields`, which redaction drops
at once. Parsed generically, it is built as Python objects only to be freed again: most of the
collector's time on a big cluster. msgspec decodes a page against a schema instead, and skips in
C, unbuilt, every field the schema does not name. The schema of each built-in kind names the
fields of its Kubernetes type (ObjectMeta without `managedFields`), so nothing a check reads is
lost.

The schema also encodes the shape `inventory.malformed` demands (an object per item, string
name/namespace/uid, maps of strings for labels and annotations, a list of objects for owner
references), so what it accepts needs no per-item shape test: not in a list page, not in a
snapshot's inventory. What it rejects, for any reason, is parsed again by orjson, the generic
parser, and judged item by item as before: the schema never changes which objects are kept or
flagged. Two differences remain on the fast path, both about what no real API server sends and
k8saudit never writes: a field outside the Kubernetes type is not kept, and an integer past 64
bits stays an int where orjson reads a float (the snapshot writer, `textsafe.dump_json`, writes
it as that float; the snapshot loader refuses a file holding one). Custom resources, whose
fields are not ours to name, always take the generic parser.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple, TypedDict

import msgspec
import orjson


class ListPage(NamedTuple):
    body: Any  # the parsed document, None if it is not JSON
    shape_checked: bool  # every item already has the shape `inventory.malformed` wants
    raw_specs: bool = False  # each item's spec is its fields' raw JSON, for `siblings.SpecSharing`


# ObjectMeta, less managedFields. Typed where `malformed` has a rule; Any elsewhere, as the
# generic parser would read it. (A class: the field names are Kubernetes', not snake case.)
class _Metadata(TypedDict, total=False):
    name: str | None
    namespace: str | None
    uid: str | None
    labels: dict[str, str] | None
    annotations: dict[str, str] | None
    ownerReferences: list[dict[str, Any]] | None
    generateName: Any
    selfLink: Any
    resourceVersion: Any
    generation: Any
    creationTimestamp: Any
    deletionTimestamp: Any
    deletionGracePeriodSeconds: Any
    finalizers: Any


METADATA_FIELDS = frozenset(_Metadata.__annotations__)

# What a top-level field must be when present and not null, by its Kubernetes type; None: any
# JSON (scalars, which checks read leniently). Checks read these as dicts and lists, so one of
# another type would make a check fail as a whole rather than judge that object.
OBJECT, OBJECTS, STRING_MAP = "an object", "a list of objects", "a map of strings"
_SHAPE_TYPES: dict[str | None, Any] = {
    OBJECT: dict[str, Any] | None,
    OBJECTS: list[dict[str, Any]] | None,
    STRING_MAP: dict[str, str] | None,
    None: Any,
}
_SPEC_STATUS = {"spec": OBJECT, "status": OBJECT}
_SPEC = {"spec": OBJECT}
_RULES = {"rules": OBJECTS}
_BINDING = {"subjects": OBJECTS, "roleRef": OBJECT}
_WEBHOOKS = {"webhooks": OBJECTS}

# The top-level fields of each built-in kind's type, besides apiVersion, kind and metadata.
TOP_LEVEL_FIELDS: dict[str, dict[str, str | None]] = {
    "nodes": _SPEC_STATUS,
    "namespaces": _SPEC_STATUS,
    "pods": _SPEC_STATUS,
    "services": _SPEC_STATUS,
    "endpoints": {"subsets": OBJECTS},
    "configmaps": {"data": STRING_MAP, "binaryData": STRING_MAP, "immutable": None},
    "serviceaccounts": {
        "secrets": OBJECTS,
        "imagePullSecrets": OBJECTS,
        "automountServiceAccountToken": None,
    },
    # Listed as PartialObjectMetadata; were a server to send the values anyway, they are skipped
    # here, unbuilt, before redaction drops them again.
    "secrets": {},
    "resourcequotas": _SPEC_STATUS,
    "limitranges": _SPEC,
    "deployments": _SPEC_STATUS,
    "daemonsets": _SPEC_STATUS,
    "statefulsets": _SPEC_STATUS,
    "replicasets": _SPEC_STATUS,
    "jobs": _SPEC_STATUS,
    "cronjobs": _SPEC_STATUS,
    "ingresses": _SPEC_STATUS,
    "ingressclasses": _SPEC,
    "networkpolicies": _SPEC_STATUS,
    "poddisruptionbudgets": _SPEC_STATUS,
    "priorityclasses": dict.fromkeys(("value", "globalDefault", "description", "preemptionPolicy")),
    "clusterroles": {**_RULES, "aggregationRule": OBJECT},
    "clusterrolebindings": _BINDING,
    "roles": _RULES,
    "rolebindings": _BINDING,
    "validatingwebhookconfigurations": _WEBHOOKS,
    "mutatingwebhookconfigurations": _WEBHOOKS,
    "customresourcedefinitions": _SPEC_STATUS,
}
# Custom resources: their fields are the CRD's, but by convention spec and status are objects,
# and the checks of the ones k8saudit reads rely on it.
CUSTOM_FIELDS: dict[str, str | None] = _SPEC_STATUS


def shape_problem(key: str, obj: dict[str, Any]) -> str | None:
    """Which top-level field of `obj`, an object of inventory kind `key`, is not of its
    Kubernetes type (the generic parser's side of what the schema checks), or None."""
    for field, shape in TOP_LEVEL_FIELDS.get(key, CUSTOM_FIELDS).items():
        if shape is not None and not fits(obj.get(field), shape):
            return f"{field} is not {shape}"
    return None


def fits(value: object, shape: str) -> bool:
    """Whether `value` is null or of `shape` (OBJECT, OBJECTS or STRING_MAP)."""
    if value is None:
        return True
    if shape == OBJECT:
        return isinstance(value, dict)
    if shape == OBJECTS:
        return isinstance(value, list) and all(isinstance(entry, dict) for entry in value)
    return isinstance(value, dict) and all(isinstance(entry, str) for entry in value.values())


# Not decodable by a schema, yet perhaps by orjson: the generic parser then decides.
SCHEMA_REFUSALS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


@cache
def item_schema(key: str, raw_spec: bool = False) -> Any:
    """The schema of one object of built-in inventory kind `key` (a TypedDict); with `raw_spec`,
    its spec is left as a map of each field to its raw JSON (slices of the page, not copies)."""
    fields: dict[str, Any] = {"apiVersion": Any, "kind": Any, "metadata": _Metadata | None}
    fields.update({name: _SHAPE_TYPES[shape] for name, shape in TOP_LEVEL_FIELDS[key].items()})
    if raw_spec and "spec" in fields:
        fields["spec"] = dict[str, msgspec.Raw] | None
    return TypedDict(f"Item_{key}{'_raw_spec' * raw_spec}", fields, total=False)  # type: ignore[operator]


@cache
def _decoder(key: str, raw_specs: bool = False) -> msgspec.json.Decoder[Any]:
    items = list[item_schema(key, raw_specs)]  # type: ignore[misc]
    page_fields = {"apiVersion": Any, "kind": Any, "metadata": Any, "items": items}
    return msgspec.json.Decoder(TypedDict(f"Page_{key}", page_fields, total=False))  # type: ignore[operator]


def decode_list_page(raw: bytes, key: str, raw_specs: bool = False) -> ListPage:
    """The page of inventory kind `key` in `raw`: by the kind's schema when it has one and the
    page fits it, else by the generic parser. With `raw_specs` (a kind whose objects have a
    spec), the schema leaves each spec's fields as raw JSON, for `siblings.SpecSharing` to build;
    a page off the schema is the generic parser's, specs and all."""
    if key in TOP_LEVEL_FIELDS:
        try:
            return ListPage(_decoder(key, raw_specs).decode(raw), True, raw_specs)
        except SCHEMA_REFUSALS:
            pass
    try:
        return ListPage(orjson.loads(raw), False)
    except orjson.JSONDecodeError:
        return ListPage(None, False)

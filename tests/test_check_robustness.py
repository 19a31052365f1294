"""Objects whose fields are not of their Kubernetes type (a hand-edited snapshot, a broken proxy
or aggregated API server): every check still judges every other object.

- A top-level field of the wrong type (`spec` a list, `rules` a bool) is stopped where data
  enters: the kind's list is not trusted (`test_api_faults`), a snapshot holding one is refused.
- Deeper down, the boundary lets anything through (the schemas name top-level fields only), so
  each check reads such a field as missing: no check may fail as a whole (an `error` finding),
  which would drop its findings on every well-formed object too.
"""

from __future__ import annotations

import gzip
import os
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit import snapshot
from k8saudit.cli import demo_snapshot_path
from k8saudit.engine import run_checks
from k8saudit.errors import SnapshotError
from k8saudit.inventory import Inventory, malformed
from k8saudit.model import Status
from k8saudit.registry import Config, Context
from k8saudit.schema import decode_list_page
from tests.strategies import json_values

# Values of every JSON type, nested ones included, for any field.
WRONG_VALUES = st.one_of(
    st.sampled_from([None, True, 0, -1, 1.5, "", "x", [], {}, [1], [{"a": [1]}], {"a": {"b": 1}}]),
    json_values(max_leaves=4),
)


MUTATIONS_PER_EXAMPLE = 8


@pytest.fixture(scope="module")
def demo() -> snapshot.Snapshot:
    return snapshot.load(demo_snapshot_path())


def places(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in an object below its top level's apiVersion, kind and metadata; lists cut to
    their first three entries."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if prefix or key not in ("apiVersion", "kind", "metadata"):
                found += [(*prefix, key), *places(value, (*prefix, key))]
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            found += [(*prefix, index), *places(value, (*prefix, index))]
    return found


def stopped_at_the_boundary(obj: dict[str, Any], key: str) -> bool:
    page = decode_list_page(orjson.dumps({"items": [obj]}), key)
    return not page.shape_checked and malformed(page.body["items"][0], key) is not None


def with_a_wrong_value(data: st.DataObject, objects: dict[str, list[Any]]) -> None:
    """One object of `objects` with one field below its top level given a value of another type
    (the boundary's side, top-level fields, is tested apart); an object the boundary would stop
    is left as it was."""
    key = data.draw(st.sampled_from(sorted(k for k, items in objects.items() if items)))
    items = objects[key]
    index = data.draw(st.integers(0, len(items) - 1))
    obj = orjson.loads(orjson.dumps(items[index]))
    deep = [place for place in places(obj) if len(place) > 1]
    if not deep:
        return
    # Depth first: a place near the top (spec.template) is as likely as one among the hundreds
    # further down, where a uniform draw would nearly never land on it.
    depth = data.draw(st.sampled_from(sorted({len(place) for place in deep})))
    place = data.draw(st.sampled_from([place for place in deep if len(place) == depth]))
    holder = obj
    for step in place[:-1]:
        holder = holder[step]
    holder[place[-1]] = data.draw(WRONG_VALUES)
    if not stopped_at_the_boundary(obj, key):
        objects[key] = [*items[:index], obj, *items[index + 1 :]]


@settings(
    max_examples=int(os.environ.get("K8SAUDIT_FUZZ_EXAMPLES", "300")),
    deadline=None,
    derandomize=True,  # the suite's verdict never depends on the draw; hunt longer with the env
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_no_check_fails_on_a_field_of_the_wrong_type(demo: snapshot.Snapshot, data: st.DataObject) -> None:
    inventory = demo.inventory
    objects = dict(inventory.objects)
    for _ in range(MUTATIONS_PER_EXAMPLE):  # many at once: each example tries that many places
        with_a_wrong_value(data, objects)
    mutated = Inventory(
        objects,
        inventory.coverage,
        inventory.cluster,
        inventory.served_api_versions,
        inventory.applied_api_versions,
    )
    context = Context(now=demo.collection.finished_at, calendar=demo.calendar, config=Config())
    failed = [f"{f.check_id}: {f.message}" for f in run_checks(mutated, context) if f.status is Status.ERROR]
    assert not failed, failed


@pytest.mark.parametrize(
    ("key", "field", "value", "problem"),
    [
        ("clusterroles", "rules", True, "rules is not a list of objects"),
        ("services", "spec", ["ClusterIP"], "spec is not an object"),
        ("configmaps", "data", {"Corefile": 7}, "data is not a map of strings"),
    ],
)
def test_a_snapshot_with_a_top_level_field_of_the_wrong_type_is_refused_in_one_line(
    key: str, field: str, value: object, problem: str
) -> None:
    document = orjson.loads(gzip.decompress(demo_snapshot_path().read_bytes()))
    document["inventory"]["objects"][key][0][field] = value
    with pytest.raises(SnapshotError) as refused:
        snapshot.loads(orjson.dumps(document), "edited.json")
    assert str(refused.value) == (
        f"edited.json is not a valid k8saudit snapshot: inventory.objects.{key}[0] {problem}"
    )

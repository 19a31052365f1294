"""The schema decoder of list pages: the generic parser's answer less managedFields, or the
generic parser's answer itself; never a third one."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit import schema, siblings, snapshot
from k8saudit.cli import demo_snapshot_path
from k8saudit.collector import Collector, CollectorSettings, _KindState
from k8saudit.connection import connect
from k8saudit.inventory import Inventory, malformed
from k8saudit.kinds import KINDS, kind
from k8saudit.schema import METADATA_FIELDS, TOP_LEVEL_FIELDS, decode_list_page
from k8saudit.textsafe import dump_json
from tests.replay import ReplayServer
from tests.replay.generate import generate_cluster
from tests.replay.recorded import load_recordings
from tests.strategies import json_scalars, json_values

BUILT_IN = [k.key for k in KINDS if not k.custom]


def without_managed_fields(document: Any) -> Any:
    expected = copy.deepcopy(document)
    for item in expected.get("items") or ():
        if isinstance(item, dict) and isinstance(item.get("metadata"), dict):
            item["metadata"].pop("managedFields", None)
    return expected


def as_typed(items: list[Any], key: str) -> list[Any]:
    """`items` as the schema of kind `key` keeps them: the fields of the Kubernetes type only."""
    kept = {"apiVersion", "kind", "metadata", *TOP_LEVEL_FIELDS[key]}
    out = []
    for item in items:
        item = {k: v for k, v in item.items() if k in kept}
        if isinstance(item.get("metadata"), dict):
            item["metadata"] = {k: v for k, v in item["metadata"].items() if k in METADATA_FIELDS}
        out.append(item)
    return out


def page(*items: Any) -> bytes:
    return orjson.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": list(items)})


def test_every_built_in_kind_has_its_fields_named_and_no_custom_one_does() -> None:
    assert sorted(TOP_LEVEL_FIELDS) == sorted(BUILT_IN)
    assert not [k.key for k in KINDS if k.custom and k.key in TOP_LEVEL_FIELDS]


def _inventory_key(path: str) -> str | None:
    resource = path.rstrip("/").rsplit("/", 1)[-1]
    return resource if resource in TOP_LEVEL_FIELDS else None


def test_recorded_lists_decode_as_the_generic_parser_less_managed_fields() -> None:
    """Real kube-apiserver answers, with their real defaults and managedFields."""
    decoded = 0
    for recording in load_recordings().full_lists():
        key = _inventory_key(recording.path)
        if key is None or "items" not in recording.body:
            continue
        raw = orjson.dumps(recording.body)
        result = decode_list_page(raw, key)
        assert result.shape_checked, recording.file
        assert result.body == without_managed_fields(orjson.loads(raw)), recording.file
        assert not [i for i in result.body["items"] if "managedFields" in i["metadata"]]
        decoded += 1
    assert decoded >= 10, "the recordings hold lists of most built-in kinds"


def test_generated_cluster_pages_keep_their_order_of_keys() -> None:
    cluster = generate_cluster(nodes=2, pods=12, seed=3)
    for (_, _, resource), items in cluster.collections.items():
        result = decode_list_page(page(*items), resource)
        expected = as_typed(items, resource)
        assert result.shape_checked and result.body["items"] == expected
        for got, want in zip(result.body["items"], expected, strict=True):
            assert list(got) == list(want) and list(got["metadata"]) == list(want["metadata"])


@pytest.mark.parametrize(
    "metadata",
    [
        {"name": 7},
        {"name": "a", "labels": {"app": ["x"]}},
        {"name": "a", "annotations": {"n": 1}},
        {"name": "a", "ownerReferences": ["ReplicaSet/x"]},
        "not an object",
    ],
)
def test_a_page_off_the_schema_is_the_generic_parsers_to_judge(metadata: object) -> None:
    raw = page({"metadata": {"name": "good"}}, {"metadata": metadata, "spec": {}})
    result = decode_list_page(raw, "pods")
    assert not result.shape_checked
    assert result.body == orjson.loads(raw)  # managedFields and all: redaction drops them as before
    assert malformed(result.body["items"][1], "pods") is not None


def test_custom_resources_keep_every_field() -> None:
    raw = page({"metadata": {"name": "nightly", "managedFields": [{}]}, "spec": {}, "extra": 1})
    result = decode_list_page(raw, "velero.schedules")
    assert not result.shape_checked and result.body == orjson.loads(raw)


def test_fields_outside_the_kubernetes_type_are_not_kept() -> None:
    raw = page({"metadata": {"name": "a", "zzz": 1, "managedFields": [{"manager": "kubectl"}]}, "zzz": 2})
    assert decode_list_page(raw, "pods").body["items"] == [{"metadata": {"name": "a"}}]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"items":[',
        b'{"items":[{"metadata":{"name":"\\ud800"}}]}',  # a lone surrogate
        b'{"items":[{"metadata":{"name":"\xff"}}]}',  # not UTF-8
        b'{"items":[]} trailing',
        b"\xef\xbb\xbf{}",
        b'{"items":' + b"[" * 1100 + b"]" * 1100 + b"}",
    ],
    ids=["truncated", "surrogate", "not utf-8", "trailing", "bom", "too deep"],
)
def test_what_the_generic_parser_refuses_is_not_json(raw: bytes) -> None:
    assert decode_list_page(raw, "pods").body is None


def test_an_integer_past_64_bits_is_written_as_a_json_reader_would_read_it() -> None:
    """The schema decoder keeps a 30-digit number as an int, which orjson cannot write: the
    snapshot writer makes it the float orjson's reader would have made of it."""
    raw = b'{"items":[{"metadata":{"name":"a"},"spec":{"replicas":123456789012345678901234567890}}]}'
    item = decode_list_page(raw, "deployments").body["items"][0]
    assert orjson.loads(dump_json(item)) == orjson.loads(orjson.dumps(orjson.loads(raw)["items"][0]))
    assert orjson.loads(dump_json({"n": 10**400})) == {"n": str(10**400)}


small_json = json_values(max_leaves=12)
metadata_keys = st.sampled_from(
    ["name", "namespace", "uid", "labels", "annotations", "ownerReferences", "managedFields", "generation"]
)
metadatas = st.one_of(
    small_json,
    st.dictionaries(
        metadata_keys,
        st.one_of(
            small_json,
            st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
            st.lists(st.dictionaries(st.text(max_size=4), json_scalars, max_size=2), max_size=2),
        ),
        max_size=6,
    ),
)
# A top-level field: any JSON, or the shapes the Kubernetes types give them (objects, lists of
# objects, maps of strings), so that both sides of each field's rule are drawn.
fields = st.one_of(
    small_json,
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
    st.lists(st.dictionaries(st.text(max_size=4), json_scalars, max_size=2), max_size=2),
)
items = st.one_of(
    small_json,
    st.fixed_dictionaries(
        {"metadata": metadatas},
        optional=dict.fromkeys(("spec", "status", "data", "rules", "subjects", "roleRef", "subsets"), fields),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, max_size=4), st.sampled_from(BUILT_IN))
def test_the_schema_only_ever_takes_the_fast_path_to_the_same_answer(page_items: list[Any], key: str) -> None:
    raw = orjson.dumps({"items": page_items})
    result = decode_list_page(raw, key)
    generic = orjson.loads(raw)
    if not result.shape_checked:
        assert result.body == generic
        return
    assert [malformed(item, key) for item in result.body["items"]] == [None] * len(page_items)
    assert result.body["items"] == as_typed(generic["items"], key)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, max_size=4))
def test_pod_specs_left_raw_and_built_are_the_schemas_answer(page_items: list[Any]) -> None:
    raw = orjson.dumps({"items": page_items})
    page = decode_list_page(raw, "pods", raw_specs=True)
    if not page.shape_checked:
        assert page.body == orjson.loads(raw) and not page.raw_specs
        return
    keep_as_decoded = siblings.SpecSharing(lambda key, field, value: value)
    for item in page.body["items"]:
        if item.get("spec"):
            item["spec"] = keep_as_decoded.build(item["spec"])
    assert page.body == decode_list_page(raw, "pods").body


class _Refusing:
    def decode(self, raw: bytes) -> None:
        raise msgspec.ValidationError("refused, so that the generic parser reads the file")


def test_a_snapshot_loads_the_same_by_the_schema_and_by_the_generic_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = demo_snapshot_path()
    fast = snapshot.load(path)
    monkeypatch.setattr(snapshot, "_document_decoder", _Refusing)
    generic = snapshot.load(path)
    assert fast.inventory.objects == generic.inventory.objects
    assert [f.to_dict() for f in fast.findings] == [f.to_dict() for f in generic.findings]
    assert snapshot.dumps(fast.report()) == snapshot.dumps(generic.report()), "kinds written in one order"


def test_secret_values_a_server_sends_anyway_are_never_built() -> None:
    raw = page({"metadata": {"name": "db"}, "data": {"password": "aHVudGVyMg=="}, "stringData": {"x": "y"}})
    result = decode_list_page(raw, "secrets")
    assert result.shape_checked and result.body["items"] == [{"metadata": {"name": "db"}}]


def collector_of(
    replay_server: ReplayServer, tmp_path: Path, pods: int, seed: int
) -> Callable[[], Awaitable[Inventory]]:
    """A scan, pages of 20, of the recorded cluster plus generated workloads on a real server."""
    replay_server.load(generate_cluster(nodes=4, pods=pods, seed=seed).collections)
    kubeconfig = str(replay_server.write_kubeconfig(tmp_path / "k"))

    async def collect() -> Inventory:
        inventory, _ = await Collector(connect(kubeconfig), CollectorSettings(page_size=20)).collect()
        return inventory

    return collect


async def test_a_scan_collects_the_same_inventory_by_schema_and_by_the_generic_parser(
    replay_server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded cluster plus generated workloads, read through a real server with paging."""
    collect = collector_of(replay_server, tmp_path, pods=90, seed=9)
    fast = await collect()
    monkeypatch.setattr(schema, "_decoder", lambda key, raw_specs=False: _Refusing())
    generic = await collect()
    assert len(fast.items("pods")) >= 90 and fast.objects == generic.objects
    outcome = {key: (c.state, c.count, c.pages, c.message) for key, c in fast.coverage.items()}
    assert outcome == {key: (c.state, c.count, c.pages, c.message) for key, c in generic.coverage.items()}
    assert fast.applied_api_versions == generic.applied_api_versions


async def test_a_pod_spec_value_msgspec_refuses_sends_its_page_to_the_generic_parser(
    replay_server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pod specs are built from raw JSON after the page's syntax check (`siblings.SpecSharing`):
    a value refused there has the generic parser read that page, and nothing is lost."""
    collect = collector_of(replay_server, tmp_path, pods=60, seed=11)
    expected = await collect()
    refusals = []

    def refuse_once(raw: msgspec.Raw) -> Any:
        if not refusals:
            refusals.append(bytes(raw))
            raise msgspec.ValidationError("refused once")
        return msgspec.json.decode(raw)

    monkeypatch.setattr(siblings, "_decode", refuse_once)
    inventory = await collect()
    assert refusals and inventory.coverage["pods"].state == "ok"
    assert inventory.objects == expected.objects


def test_a_pod_page_no_parser_here_reads_is_an_error_not_a_crash() -> None:
    """A number past a float's range passes the page's syntax check and no parser reads it."""
    state = _KindState(kind("pods"))
    raw = b'{"metadata":{},"items":[{"metadata":{"name":"a"},"spec":{"priority":1e400}}]}'
    assert Collector._keep_page(state, httpx.Response(200, content=raw)) is None
    assert state.items == []
    fine = b'{"metadata":{},"items":[{"metadata":{"name":"a"},"spec":{"priority":1}}]}'
    assert Collector._keep_page(state, httpx.Response(200, content=fine)) is not None
    assert state.items == [{"metadata": {"name": "a"}, "spec": {"priority": 1}}]

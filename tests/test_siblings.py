"""Sibling pods: their shared parts are written once in a snapshot, and come back shared."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from k8saudit import snapshot
from k8saudit.errors import SnapshotError
from k8saudit.inventory import share_pod_templates
from k8saudit.redact import REDACTED, redact, redact_pod_spec_part
from k8saudit.report import CollectionInfo, evaluate, utcnow
from k8saudit.schema import decode_list_page
from k8saudit.siblings import SpecSharing, share_with
from tests import factories as f
from tests.replay.generate import generate_cluster


def replicas(count: int, *, shared: bool = True) -> list[dict[str, Any]]:
    """The pods of one ReplicaSet, as the collector leaves them (shared) or as a v1 file gave them."""
    owner = {"metadata": {"name": "web-5d8f", "uid": "rs-1"}}  # the ReplicaSet
    pods = [f.pod(f"web-5d8f-{i:02d}", "shop", labels={"app": "web"}, owner=owner) for i in range(count)]
    if shared:
        for previous, item in itertools.pairwise(pods):
            share_with(previous, item)
    return pods


def saved_document(pods: list[dict[str, Any]]) -> dict[str, Any]:
    inventory = f.make_inventory(pods=pods, nodes=[f.node("node-1")])
    return orjson.loads(snapshot.dumps(evaluate(inventory, CollectionInfo(utcnow(), utcnow()))))


def test_shared_parts_are_written_once_and_come_back_shared(tmp_path: Path) -> None:
    pods = replicas(12)
    inventory = f.make_inventory(pods=pods, nodes=[f.node("node-1")])
    report = evaluate(inventory, CollectionInfo(utcnow(), utcnow()))
    path = snapshot.save(report, tmp_path / "s.json")
    document = orjson.loads(path.read_bytes())
    stored = document["inventory"]["objects"]["pods"]
    assert stored[0]["spec"]["containers"] and stored[1]["spec"]["containers"] is None
    assert document["inventory"]["same_as_previous"]["pods"]["items"][:2] == [0, 1]
    assert len(path.read_bytes()) < len(orjson.dumps({**document, "inventory": pods}))

    loaded = snapshot.load(path)
    again = loaded.inventory.items("pods")
    assert again == pods, "a reader sees every pod whole"
    assert again[0]["spec"]["containers"] is again[11]["spec"]["containers"]
    assert snapshot.dumps(loaded.report()) == snapshot.dumps(report), "saved again: the same file"


def test_pods_that_share_nothing_have_no_table() -> None:
    document = saved_document(replicas(3, shared=False))
    assert document["inventory"]["same_as_previous"] == {}
    assert all(p["spec"]["containers"] for p in document["inventory"]["objects"]["pods"])


def test_a_format_1_snapshot_still_loads(tmp_path: Path) -> None:
    document = saved_document(replicas(3, shared=False))
    document["format"] = "k8saudit.snapshot/1"
    del document["inventory"]["same_as_previous"]
    path = tmp_path / "v1.json"
    path.write_bytes(orjson.dumps(document))
    assert [p["metadata"]["name"] for p in snapshot.load(path).inventory.items("pods")] == [
        "web-5d8f-00",
        "web-5d8f-01",
        "web-5d8f-02",
    ]


def broken_tables() -> dict[str, tuple[Any, str]]:
    return {
        "not an object": (["x"], "not an object"),
        "items of another length": ({"patterns": [["spec.containers"]], "items": [0, 1]}, "does not match"),
        "a missing pattern": ({"patterns": [], "items": [0, 1, 1]}, "which it lacks"),
        "a boolean mark": ({"patterns": [["spec.containers"]], "items": [0, True, 0]}, "which it lacks"),
        "a foreign place": ({"patterns": [["data.x"]], "items": [0, 1, 0]}, "not a part of an object"),
        "a pattern of numbers": ({"patterns": [[1]], "items": [0, 1, 0]}, "not a list of strings"),
        "the first item": ({"patterns": [["spec.containers"]], "items": [1, 0, 0]}, "first item"),
        "a place that holds data": ({"patterns": [["spec.tolerations"]], "items": [0, 1, 0]}, "no null"),
        "a huge hostile key": (
            {"patterns": [["spec.\x1b[2J" + "k" * 10_000]], "items": [0, 1, 0]},
            "not a part of an object",  # "[" belongs to an entry's place only
        ),
        "a huge key that is no part": (
            {"patterns": [["spec." + "k" * 10_000]], "items": [0, 1, 0]},
            "no null",
        ),
        "an entry of a list that has none": (
            {"patterns": [["spec.containers[7].env"]], "items": [0, 1, 0]},
            "no null",
        ),
        "an entry place in another list": (
            {"patterns": [["spec.tolerations[0].key"]], "items": [0, 1, 0]},
            "not a part of an object",
        ),
    }


@pytest.mark.parametrize("case", sorted(broken_tables()))
def test_a_broken_sharing_table_is_one_clear_error(tmp_path: Path, case: str) -> None:
    table, reason = broken_tables()[case]
    document = saved_document(replicas(3))
    document["inventory"]["same_as_previous"]["pods"] = table
    path = tmp_path / "s.json"
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(SnapshotError) as error:
        snapshot.load(path)
    message = str(error.value)
    assert "not a valid k8saudit snapshot" in message and "same_as_previous.pods" in message
    assert reason in message and "\n" not in message and "\x1b" not in message and len(message) < 400


def test_a_table_for_objects_the_file_lacks_is_an_error(tmp_path: Path) -> None:
    document = saved_document(replicas(3))
    document["inventory"]["same_as_previous"]["nodes"] = {"patterns": [], "items": [0]}
    del document["inventory"]["objects"]["nodes"]
    path = tmp_path / "s.json"
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(SnapshotError, match=r"same_as_previous\.nodes is for objects the file does not have"):
        snapshot.load(path)


def test_a_table_for_a_kind_this_version_does_not_know_is_dropped_with_it(tmp_path: Path) -> None:
    document = saved_document(replicas(3))
    document["inventory"]["objects"]["gizmos"] = [{"metadata": {"name": "g"}}]
    document["inventory"]["same_as_previous"]["gizmos"] = {"patterns": [["spec.x"]], "items": [1]}
    path = tmp_path / "s.json"
    path.write_bytes(orjson.dumps(document))
    loaded = snapshot.load(path)
    assert len(loaded.inventory.items("pods")) == 3
    assert any("gizmos" in note for note in loaded.collection.notes)


def test_sharing_cannot_make_a_small_file_stand_for_more_than_the_size_limit(tmp_path: Path) -> None:
    """A few KB of table that repeats a big part in every pod would make the checks walk far more
    than the file holds: what the shared parts stand for counts against the size limit."""
    pods = replicas(400)
    pods[0]["spec"]["containers"][0]["args"] = ["x" * 64] * 100  # ~7 KB, shared by all 400
    for previous, item in itertools.pairwise(pods):
        item["spec"]["containers"] = previous["spec"]["containers"]
    path = tmp_path / "s.json"
    path.write_bytes(orjson.dumps(saved_document(pods)))
    size = path.stat().st_size
    assert size < 400 * 7000 / 2, "the shared part is written once"
    part = len(orjson.dumps(pods[0]["spec"]["containers"]))
    assert len(snapshot.load(path, max_bytes=450 * part).inventory.items("pods")) == 400
    with pytest.raises(
        SnapshotError, match="shared parts, written out, pass the size limit; raise --max-snapshot-size"
    ):
        snapshot.load(path, max_bytes=300 * part)


def test_sibling_pods_share_the_equal_fields_of_entries_that_differ() -> None:
    """Real sibling pods differ inside their containers (each mounts its own token volume,
    `kube-api-access-<random>`), container statuses (container IDs) and conditions (times): the
    other fields of those entries, and their equal strings, are still one copy for all of them."""
    cluster = generate_cluster(nodes=2, pods=3, pods_per_deployment=3, seed=2)
    pods = orjson.loads(orjson.dumps(cluster[("", "v1", "pods")]))  # no object shared yet
    expected = orjson.loads(orjson.dumps(pods))
    for previous, item in itertools.pairwise(pods):
        share_with(previous, item)
    assert pods == expected, "sharing never changes a value"
    first, last = pods[0], pods[2]
    assert first["spec"]["containers"] is not last["spec"]["containers"]
    assert first["spec"]["containers"][0]["env"] is last["spec"]["containers"][0]["env"]
    assert first["spec"]["containers"][0]["resources"] is last["spec"]["containers"][0]["resources"]
    assert first["spec"]["volumes"][0]["projected"] is last["spec"]["volumes"][0]["projected"]
    assert (
        first["status"]["containerStatuses"][0]["state"]
        is not last["status"]["containerStatuses"][0]["state"]
    )
    assert first["spec"]["tolerations"] is last["spec"]["tolerations"]
    assert first["status"]["phase"] is last["status"]["phase"], "equal strings: one copy"
    assert first["status"]["conditions"][1]["type"] is last["status"]["conditions"][1]["type"]
    assert first["status"]["startTime"] != last["status"]["startTime"]


def test_shared_parts_of_entries_are_written_once_and_come_back_shared(tmp_path: Path) -> None:
    cluster = generate_cluster(nodes=2, pods=6, pods_per_deployment=3, seed=4)
    pods = orjson.loads(orjson.dumps(cluster[("", "v1", "pods")]))
    for pod in pods:
        redact("pods", pod)  # as collected
    expected = orjson.loads(orjson.dumps(pods))
    for previous, item in itertools.pairwise(pods):
        share_with(previous, item)
    report = evaluate(
        f.make_inventory(pods=pods, nodes=[f.node("node-1")]), CollectionInfo(utcnow(), utcnow())
    )
    path = snapshot.save(report, tmp_path / "s.json")
    assert pods == expected, "writing leaves the inventory as it was"

    document = orjson.loads(path.read_bytes())
    assert document["format"] == "k8saudit.snapshot/3"
    second = document["inventory"]["objects"]["pods"][1]
    assert second["spec"]["containers"][0]["env"] is None
    assert second["spec"]["containers"][0]["volumeMounts"], "its own token mount is written"
    assert second["spec"]["volumes"][0]["projected"] is None
    places = {
        place
        for pattern in document["inventory"]["same_as_previous"]["pods"]["patterns"]
        for place in pattern
    }
    assert {"spec.containers[0].env", "spec.volumes[0].projected", "spec.tolerations"} <= places

    again = snapshot.load(path).inventory.items("pods")
    assert again == expected
    assert again[1]["spec"]["containers"][0]["env"] is again[0]["spec"]["containers"][0]["env"]
    assert again[1]["spec"]["volumes"][0]["projected"] is again[0]["spec"]["volumes"][0]["projected"]
    assert snapshot.dumps(snapshot.load(path).report()) == snapshot.dumps(report), (
        "saved again: the same file"
    )


def test_a_replicaset_uses_its_deployments_pod_spec_and_an_older_one_keeps_its_own(tmp_path: Path) -> None:
    cluster = generate_cluster(nodes=2, pods=6, pods_per_deployment=3, seed=5)
    deployments = orjson.loads(orjson.dumps(cluster[("apps", "v1", "deployments")]))
    replicasets = orjson.loads(orjson.dumps(cluster[("apps", "v1", "replicasets")]))
    older = orjson.loads(orjson.dumps(replicasets[0]))  # the same Deployment's previous rollout
    older["metadata"].update(name="older", uid="older-uid")
    older["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/example/web:2.4.0"
    replicasets.append(older)
    objects = {"deployments": deployments, "replicasets": replicasets}
    for key, items in objects.items():
        for item in items:
            redact(key, item)  # as collected
    expected = orjson.loads(orjson.dumps(objects))

    share_pod_templates(objects)
    assert objects == expected, "sharing never changes a value"
    pod_spec = [d["spec"]["template"]["spec"] for d in deployments]
    assert [r["spec"]["template"]["spec"] is pod_spec[i] for i, r in enumerate(replicasets[:2])] == [
        True,
        True,
    ]
    assert older["spec"]["template"]["spec"] is not pod_spec[0]

    inventory = f.make_inventory(deployments=deployments, replicasets=replicasets, nodes=[f.node("node-1")])
    path = snapshot.save(evaluate(inventory, CollectionInfo(utcnow(), utcnow())), tmp_path / "s.json")
    loaded = snapshot.load(path).inventory
    again = loaded.items("replicasets")
    assert again[0]["spec"]["template"]["spec"] is loaded.items("deployments")[0]["spec"]["template"]["spec"]
    assert {"deployments": loaded.items("deployments"), "replicasets": again} == expected


def built_specs(pods: list[dict[str, Any]]) -> list[Any]:
    """The pods' specs as the collector builds them from a page decoded with raw specs."""
    page = decode_list_page(orjson.dumps({"items": pods}), "pods", raw_specs=True)
    assert page.raw_specs and page.shape_checked
    sharing = SpecSharing(redact_pod_spec_part)
    return [sharing.build(item["spec"]) for item in page.body["items"]]


def test_specs_built_from_raw_fields_are_the_specs_decoded_redacted_and_shared() -> None:
    cluster = generate_cluster(nodes=3, pods=24, pods_per_deployment=4, seed=7)
    pods = cluster[("", "v1", "pods")]
    expected = orjson.loads(orjson.dumps(pods))
    for pod in expected:
        redact("pods", pod)
    for previous, item in itertools.pairwise(expected):
        share_with(previous, item)
    specs = built_specs(pods)
    assert specs == [pod["spec"] for pod in expected]

    def shared_places(pairs: Any) -> set[tuple[int, str, int, str]]:
        """Where a spec holds its predecessor's very object (a field, or an entry's field)."""
        places = set()
        for index, (before, spec) in enumerate(pairs):
            for key, value in spec.items():
                if isinstance(value, (dict, list)) and value and before.get(key) is value:
                    places.add((index, key, -1, ""))
                if key in ("containers", "volumes") and isinstance(value, list):
                    for at, entry in enumerate(value[: len(before.get(key) or [])]):
                        for name, part in entry.items():
                            if isinstance(part, (dict, list)) and before[key][at].get(name) is part:
                                places.add((index, key, at, name))
        return places

    wanted = shared_places(itertools.pairwise(pod["spec"] for pod in expected))
    assert any(place[2] >= 0 for place in wanted) and any(place[2] < 0 for place in wanted)
    assert wanted <= shared_places(itertools.pairwise(specs)), "at least what share_with shares"


def test_a_secret_in_the_one_part_where_a_sibling_differs_is_redacted() -> None:
    """Only what differs from the previous pod is decoded: it is redacted there, in every list
    of containers, whether the list is built entry by entry or whole."""
    canary = "CANARY-s3cr3t-9c2e"

    def sibling(index: int, env_value: str = "plain", **spec: Any) -> dict[str, Any]:
        app = f.container("app", env=[{"name": "MODE", "value": env_value}], args=["--port=80"])
        return f.pod(f"web-{index}", "shop", containers=[app], spec=spec)

    secret_args = {"args": ["--api-key", canary, "--db-password=" + canary]}
    pods = [
        sibling(0),
        sibling(1, env_value=canary),
        sibling(2, initContainers=[f.container("init", env=[{"name": "TOKEN", "value": canary}])]),
        sibling(3, ephemeralContainers=[f.container("debug", **secret_args)]),
        sibling(4, initContainers=["not an object", f.container("init", **secret_args)]),
        sibling(5),
    ]
    specs = built_specs(pods)
    text = orjson.dumps(specs).decode()
    assert canary not in text
    assert text.count(REDACTED) >= 6
    whole = orjson.loads(orjson.dumps(pods))
    for pod in whole:
        redact("pods", pod)
    assert specs == [pod["spec"] for pod in whole], "the same redaction as a whole spec's"
    assert specs[5]["containers"][0]["env"] is specs[4]["containers"][0]["env"], "equal bytes: shared"


def test_a_spec_value_msgspec_refuses_leaves_no_previous_pod_behind() -> None:
    raws = decode_list_page(b'{"items":[{"spec":{"a":[1],"b":1e400}},{"spec":{"a":[1]}}]}', "pods", True)
    first, second = (item["spec"] for item in raws.body["items"])
    decoded: list[str] = []

    def fresh(key: str, field: str | None, value: Any) -> Any:
        decoded.append(key)
        return value

    sharing = SpecSharing(fresh)
    with pytest.raises(msgspec.ValidationError):
        sharing.build(first)
    assert decoded == ["a"]
    built = sharing.build(second)
    assert built == {"a": [1]} and decoded == ["a", "a"], "decoded anew: nothing kept of the refused one"
    assert sharing.build(second)["a"] is built["a"] and decoded == ["a", "a"], "built against the last"

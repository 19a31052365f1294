"""`k8saudit manifests`: every document is a valid Kubernetes object (checked field by field
against the kubernetes package's models, so a typo'd field fails) and the CronJob runs a command
the CLI accepts."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pytest
import yaml
from kubernetes import client

from k8saudit.access import ROLE_NAME
from k8saudit.cli import build_parser, main
from k8saudit.manifests import POLICY_DIR, POLICY_KEY, SNAPSHOT_DIR, CronJobOptions, cronjob_manifests

MODELS = {
    "Namespace": "V1Namespace",
    "ClusterRole": "V1ClusterRole",
    "ServiceAccount": "V1ServiceAccount",
    "ClusterRoleBinding": "V1ClusterRoleBinding",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "CronJob": "V1CronJob",
}
PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float), "datetime": str, "bytes": str}
# Recent clients write "List[V1Container]", "Dict[str, str]"; older ones "list[...]", "dict(str, ...)".
LIST_TYPE = re.compile(r"^[Ll]ist\[(.*)\]$")
DICT_TYPE = re.compile(r"^(?:Dict\[|dict\()\s*str\s*,\s*(.*)[\])]$")


class InvalidManifest(AssertionError):
    pass


def strict(type_name: str, value: Any, path: str) -> None:
    """`value` fits `type_name` of the Kubernetes OpenAPI models exactly: no unknown field."""
    listed = LIST_TYPE.match(type_name)
    mapped = DICT_TYPE.match(type_name)
    if listed:
        if not isinstance(value, list):
            raise InvalidManifest(f"{path}: expected a list")
        for i, item in enumerate(value):
            strict(listed.group(1), item, f"{path}[{i}]")
    elif mapped:
        if not isinstance(value, dict):
            raise InvalidManifest(f"{path}: expected a mapping")
        for key, item in value.items():
            strict(mapped.group(1), item, f"{path}.{key}")
    elif type_name in PRIMITIVES:
        if not isinstance(value, PRIMITIVES[type_name]) or (type_name == "int" and isinstance(value, bool)):
            raise InvalidManifest(f"{path}: expected {type_name}, got {value!r}")
    elif type_name == "object":
        return
    else:
        model = getattr(client.models, type_name)
        if not isinstance(value, dict):
            raise InvalidManifest(f"{path}: expected a {type_name} mapping")
        fields = {json_key: attr for attr, json_key in model.attribute_map.items()}
        for key, item in value.items():
            if key not in fields:
                raise InvalidManifest(f"{path}.{key}: not a field of {type_name}")
            strict(model.openapi_types[fields[key]], item, f"{path}.{key}")


class _Response:
    def __init__(self, document: dict[str, Any]) -> None:
        self.data = json.dumps(document)


def deserialize(document: dict[str, Any], model: str) -> Any:
    """`ApiClient.deserialize` as if the API server had answered with `document`."""
    api = client.ApiClient()
    if "content_type" in inspect.signature(api.deserialize).parameters:  # recent clients take the text
        return api.deserialize(json.dumps(document), model, "application/json")
    return api.deserialize(_Response(document), model)


def validate(document: dict[str, Any]) -> Any:
    """Strict field check, then the client's own deserialisation (required fields, enums)."""
    model = MODELS[document["kind"]]
    strict(model, document, document["kind"])
    return deserialize(document, model)


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return cronjob_manifests()


def test_every_document_is_a_valid_kubernetes_object(documents) -> None:
    assert [d["kind"] for d in documents] == list(MODELS)
    for document in documents:
        obj = validate(document)
        assert obj.kind == document["kind"] and obj.metadata.name


def test_the_validator_catches_a_typo(documents) -> None:
    cronjob = json.loads(json.dumps(documents[-1]))
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["imagePullPolcy"] = container.pop("imagePullPolicy")
    with pytest.raises(InvalidManifest, match="imagePullPolcy: not a field of V1Container"):
        validate(cronjob)
    broken = json.loads(json.dumps(documents[-1]))
    broken["spec"]["jobTemplate"]["spec"]["backoffLimit"] = "1"
    with pytest.raises(InvalidManifest, match="backoffLimit: expected int"):
        validate(broken)
    missing = json.loads(json.dumps(documents[-1]))
    del missing["spec"]["schedule"]
    with pytest.raises(ValueError, match="schedule"):
        validate(missing)


def pod_spec(documents) -> dict[str, Any]:
    return documents[-1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_cronjob_command_is_one_the_cli_accepts(documents) -> None:
    container = pod_spec(documents)["containers"][0]
    argv = container["command"] + container["args"]
    assert argv[0] == "k8saudit"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.context, args.quiet, args.keep) == ("scan", "in-cluster", True, 28)
    assert container["workingDir"] == SNAPSHOT_DIR, "default snapshot names land on the volume"


def test_identity_storage_and_hardening(documents) -> None:
    namespace, role, account, binding, pvc, cronjob = documents
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert binding["roleRef"]["name"] == role["metadata"]["name"] == ROLE_NAME
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "k8saudit", "namespace": "k8saudit"}]
    assert {v for r in role["rules"] for v in r["verbs"]} <= {"get", "list", "create"}
    spec = pod_spec(documents)
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    claim = next(v for v in spec["volumes"] if "persistentVolumeClaim" in v)
    assert claim["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    hardening = spec["containers"][0]["securityContext"]
    assert hardening == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"


def test_options_change_what_they_say() -> None:
    options = CronJobOptions(
        namespace="audit",
        schedule="@daily",
        image="registry.example.com/k8saudit:1.2.3",
        storage="10Gi",
        storage_class="fast-ssd",
        service_account="auditor",
        keep=7,
        waivers_configmap="k8saudit-policy",
    )
    documents = cronjob_manifests(options)
    for document in documents:
        validate(document)
    pvc, cronjob = documents[-2], documents[-1]
    assert pvc["spec"]["storageClassName"] == "fast-ssd" and pvc["metadata"]["namespace"] == "audit"
    assert cronjob["spec"]["schedule"] == "@daily"
    spec = pod_spec(documents)
    container = spec["containers"][0]
    assert container["image"] == "registry.example.com/k8saudit:1.2.3"
    args = build_parser().parse_args(container["command"][1:] + container["args"])
    assert args.keep == 7 and args.waivers == f"{POLICY_DIR}/{POLICY_KEY}"
    policy_volume = next(v for v in spec["volumes"] if "configMap" in v)
    assert policy_volume["configMap"]["name"] == "k8saudit-policy"
    assert {"name": policy_volume["name"], "mountPath": POLICY_DIR, "readOnly": True} in container[
        "volumeMounts"
    ]
    assert documents[3]["subjects"][0] == {"kind": "ServiceAccount", "name": "auditor", "namespace": "audit"}


def test_cli_prints_yaml_documents(capsys) -> None:
    assert main(["manifests", "--namespace", "audit", "--schedule", "*/30 * * * *"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# k8saudit in the cluster")
    documents = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in documents] == list(MODELS)
    for document in documents:
        validate(document)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--schedule", "every hour"], "is not a cron schedule"),
        (["--schedule", "0 * * *"], "is not a cron schedule"),
        (["--namespace", "Audit_NS"], "is not a valid namespace name"),
        # Applied, the restricted Pod Security label would land on a namespace kube-proxy lives in.
        (["--namespace", "kube-system"], "--namespace kube-system is shared"),
        (["--namespace", "default"], "--namespace default is shared"),
        (["--storage", "lots"], "is not a storage quantity"),
        (["--image", "bad image"], "is not an image reference"),
        (["--image", "Registry.example.com/Team/K8saudit:1"], "is not an image reference"),  # upper-case path
        (["--keep", "0"], "must be positive"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, argv: list[str], message: str) -> None:
    assert main(["manifests", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8saudit: error:") and message in err and err.count("\n") == 1


def test_in_cluster_context_name_matches_the_connection_module() -> None:
    from k8saudit.connection import IN_CLUSTER

    container = pod_spec(cronjob_manifests())["containers"][0]
    assert re.search(rf"--context', '{IN_CLUSTER}'", str(container["command"] + container["args"]))


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ("99 * * * *", "99 is out of range for the minute field"),
        ("60 * * * *", "60 is out of range for the minute field"),
        ("0 24 * * *", "24 is out of range for the hour field"),
        ("0 0 0 * *", "0 is out of range for the day of month field"),
        ("0 0 32 * *", "32 is out of range for the day of month field"),
        ("0 0 * 13 *", "13 is out of range for the month field"),
        ("0 0 * * 8", "8 is out of range for the day of week field"),
        ("0 0 * * 7", "7 is out of range for the day of week field"),  # robfig/cron: 0-6
        ("*/0 * * * *", "the step in the minute field must be a positive number"),
        ("0 0 30 2 *", "never fires"),
        ("TZ=UTC 0 0 * * *", "refuses a TZ= or CRON_TZ= prefix"),
    ],
)
def test_a_schedule_the_api_server_would_reject_names_the_field(capsys, schedule: str, field: str) -> None:
    assert main(["manifests", "--schedule", schedule]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("k8saudit: error: --schedule is not a cron schedule:")
    assert field in captured.err and captured.err.count("\n") == 1


@pytest.mark.parametrize("schedule", ["0 9 * * mon-fri", "*/15 0-6 1,15 jan-jun ?", "@weekly", "@every 6h"])
def test_schedules_the_api_server_accepts_are_written(schedule: str) -> None:
    cronjob = cronjob_manifests(CronJobOptions(schedule=schedule))[-1]
    assert cronjob["spec"]["schedule"] == schedule

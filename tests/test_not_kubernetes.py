"""A kubeconfig that does not lead to a Kubernetes API server is refused, not scanned.

- A web server (or a proxy answering 404 to everything) at the kubeconfig's address once scanned
  as grade A, every kind "not served". It is a connection failure: exit 2, one line, and the TUI
  says so. A real cluster that forbids everything still scans (a report of what is forbidden).
- A context naming a user or cluster the kubeconfig lacks once went on without credentials and
  was reported as rejected credentials (401). It is a kubeconfig error, before any request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from k8saudit.cli import main
from k8saudit.collector import RULES_REVIEW_PATH, Collector, CollectorSettings
from k8saudit.connection import connect
from k8saudit.errors import EXIT_CLUSTER, ConnectionFailure
from k8saudit.inventory import FORBIDDEN
from screens.picker import ContextPickerScreen
from tests.replay import ReplayServer
from tests.tui_support import SIZE, make_app, screen_text, wait_for

NOT_KUBERNETES = "does not look like a Kubernetes API server"
WEB_PAGE = "<html><body><h1>Welcome to nginx!</h1></body></html>"
# Quick retries: a non-JSON page is retried like a cut-off one before its kind is given up.
FAST = CollectorSettings(backoff_base_s=0.01, backoff_max_s=0.05, max_retries=2, request_timeout_s=5.0)


def scan(kubeconfig: Path) -> int:
    return main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"])


# -- a server that is not Kubernetes --------------------------------------------------------------


def test_a_server_answering_404_everywhere_is_refused_with_exit_2(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    replay_server.fail(None, 404, times=None)
    code = scan(replay_server.write_kubeconfig(tmp_path / "config"))
    out, err = capsys.readouterr()
    assert code == EXIT_CLUSTER, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("k8saudit: error: "), err
    for fragment in (
        replay_server.url,
        NOT_KUBERNETES,
        "/version answered 404",
        "API discovery found no API",
    ):
        assert fragment in err, (fragment, err)
    assert replay_server.requests_to(RULES_REVIEW_PATH, "POST") == [], "nothing is posted to a foreign server"


async def test_a_server_answering_a_web_page_everywhere_is_refused(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.fail(None, 200, times=None, body=WEB_PAGE)
    connection = connect(str(replay_server.write_kubeconfig(tmp_path / "config")))
    with pytest.raises(ConnectionFailure, match=NOT_KUBERNETES) as refused:
        await Collector(connection, FAST).collect()
    assert "/version answered 200 OK with a text/plain body instead of JSON" in str(refused.value)
    assert refused.value.exit_code == EXIT_CLUSTER
    paths = [r.path for r in replay_server.requests]
    assert "/api/v1/pods" in paths and len(paths) == len(set(paths)), "a web page is not retried"


async def test_a_cluster_that_forbids_everything_is_scanned_as_forbidden(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.forbid(None)  # /version, discovery and every list: 403
    connection = connect(str(replay_server.write_kubeconfig(tmp_path / "config")))
    inventory, collection = await Collector(connection, FAST).collect()
    assert inventory.cluster.git_version == ""
    assert {c.state for c in inventory.coverage.values()} == {FORBIDDEN}
    assert any(note.startswith("not permitted to read: nodes") for note in collection.notes)


def test_cli_scan_of_a_cluster_that_forbids_everything_says_so_not_that_it_is_not_kubernetes(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    replay_server.forbid(None)
    code = scan(replay_server.write_kubeconfig(tmp_path / "config"))
    out, err = capsys.readouterr()
    assert code == EXIT_CLUSTER and out == "", err
    assert err.startswith("k8saudit: error: nothing could be read: ") and "forbidden" in err
    assert NOT_KUBERNETES not in err


async def test_the_tui_says_the_server_is_not_kubernetes(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.fail(None, 404, times=None)
    app = make_app(kubeconfig=str(replay_server.write_kubeconfig(tmp_path / "config")))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: NOT_KUBERNETES in screen_text(app), "the refusal", tries=1500)
        assert isinstance(app.screen, ContextPickerScreen) and app.is_running


# -- a context naming a user or cluster the kubeconfig lacks ---------------------------------------


def name_in_context(kubeconfig: Path, role: str, name: str) -> Path:
    document = yaml.safe_load(kubeconfig.read_text())
    document["contexts"][0]["context"][role] = name
    kubeconfig.write_text(yaml.safe_dump(document))
    return kubeconfig


@pytest.mark.parametrize("role", ["user", "cluster"])
def test_a_context_naming_a_missing_entry_is_a_kubeconfig_error(
    replay_server: ReplayServer, tmp_path: Path, capsys, role: str
) -> None:
    kubeconfig = name_in_context(replay_server.write_kubeconfig(tmp_path / "config"), role, "ghost")
    code = scan(kubeconfig)
    _, err = capsys.readouterr()
    assert code == EXIT_CLUSTER, err
    assert err == f"k8saudit: error: context 'replay' names {role} 'ghost', which is not in the kubeconfig\n"
    assert replay_server.requests == [], "refused before any request"


def test_an_inline_user_in_a_context_is_refused_without_echoing_it(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    document = yaml.safe_load(kubeconfig.read_text())
    document["contexts"][0]["context"]["user"] = {"token": "CANARY-inline-token"}
    kubeconfig.write_text(yaml.safe_dump(document))
    with pytest.raises(ConnectionFailure, match="its user must be the name of an entry of users") as refused:
        connect(str(kubeconfig))
    assert "CANARY" not in str(refused.value)

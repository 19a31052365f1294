"""The README stays true: its check table is the catalog, its set-up commands are the two we run."""

from __future__ import annotations

import re
from pathlib import Path

from k8saudit.catalog import catalog_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
CI = Path(__file__).resolve().parents[1] / ".ci" / "run"


def test_check_table_matches_the_catalog() -> None:
    text = README.read_text()
    table = text.split("<!-- checks:start -->\n", 1)[1].split("<!-- checks:end -->", 1)[0]
    assert table == catalog_markdown(), "regenerate with: python -m tests.update_readme"


def test_exactly_two_setup_commands_and_ci_runs_the_test_one() -> None:
    setup = README.read_text().split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert commands == ["pip install . && k8saudit demo", "pip install -e '.[test]' && pytest"]
    assert commands[1] in CI.read_text()

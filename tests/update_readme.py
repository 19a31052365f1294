"""Regenerate the README's check table: python -m tests.update_readme"""

from pathlib import Path

from k8saudit.catalog import catalog_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
head, rest = README.read_text().split("<!-- checks:start -->\n", 1)
_, tail = rest.split("<!-- checks:end -->", 1)
README.write_text(f"{head}<!-- checks:start -->\n{catalog_markdown()}<!-- checks:end -->{tail}")

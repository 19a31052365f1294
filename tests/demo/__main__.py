"""Regenerate snapshots/demo.json.gz from the demo cluster builder."""

from k8saudit.snapshot import save
from tests.demo import SNAPSHOT_PATH, build_report

report = build_report()
save(report, SNAPSHOT_PATH)
print(f"wrote {SNAPSHOT_PATH} ({SNAPSHOT_PATH.stat().st_size:,} bytes), grade {report.scores.grade}")

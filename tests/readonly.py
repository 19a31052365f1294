"""The read-only guarantee as one assertion over the replay server's request log.

A scan may send exactly these requests, and nothing else:
- GET `/version`, `/api`, `/apis`, and the discovery document of a group/version some kind of
  `k8saudit.kinds.KINDS` may be served under;
- GET a cluster-wide list of a kind in `KINDS`, under one of its group/versions, with no
  parameters but `limit` and `continue` (no watch, no field or label tricks), Secrets as
  metadata only;
- POST the SelfSubjectRulesReview, which reports permissions and stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from k8saudit.collector import METADATA_ONLY_ACCEPT, RULES_REVIEW_PATH
from k8saudit.kinds import KINDS
from tests.replay import RequestRecord

DISCOVERY_PATHS = frozenset(
    {"/version", "/api", "/apis"} | {gv.path for kind in KINDS for gv in kind.versions}
)
LIST_PATHS: dict[str, str] = {
    f"{gv.path}/{kind.resource}": kind.key for kind in KINDS for gv in kind.versions
}
LIST_PARAMS = frozenset({"limit", "continue"})


def read_only_violations(requests: Iterable[RequestRecord]) -> list[str]:
    """Every request a read-only scan must not send, described; empty when all is well."""
    problems = []
    for r in requests:
        where = f"{r.method} {r.path}?{r.params}"
        if r.method == "POST":
            if r.path != RULES_REVIEW_PATH:
                problems.append(f"{where}: the only POST allowed is the SelfSubjectRulesReview")
            continue
        if r.method != "GET":
            problems.append(f"{where}: only GET is allowed")
        elif r.path in DISCOVERY_PATHS:
            if r.params:
                problems.append(f"{where}: discovery takes no parameters")
        elif r.path in LIST_PATHS:
            if set(r.params) - LIST_PARAMS:
                problems.append(f"{where}: a list takes only limit and continue")
            if LIST_PATHS[r.path] == "secrets" and r.accept != METADATA_ONLY_ACCEPT:
                problems.append(f"{where}: Secrets must be listed as metadata only, asked {r.accept!r}")
        else:
            problems.append(f"{where}: neither discovery nor a list of a collected kind")
    return problems


def assert_read_only(requests: Iterable[RequestRecord]) -> None:
    requests = list(requests)
    assert requests, "the scan sent no request at all"
    problems = read_only_violations(requests)
    assert not problems, "\n".join(problems)

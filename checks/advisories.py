"""What k8saudit knows about ingress-nginx and CoreDNS versions: advisories, release dates, the
ingress-nginx retirement. Plain data tables, each entry with the public reference it came from,
so a finding can say exactly why a version is flagged.

Version ranges are stated the way the advisories state them: the first fixed release on each
maintained minor line. A version is affected when it is older than the fix on its own minor line,
or when its minor line got no fix at all and is older than the newest fixed line (maintainers
did not backport to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

Version = tuple[int, int, int]

_VERSION_IN_TEXT = re.compile(r"(?<![\d.])v?(\d+)\.(\d+)(?:\.(\d+))?")


def find_version(text: str) -> Version | None:
    """The first `X.Y[.Z]` in a tag: `v1.9.4`, `1.9.4-debian-11-r2`, `nginx-1.9.4-rancher1`,
    `v1.11.1-eksbuild.4`. None when the tag holds no version (`latest`, a bare digest)."""
    match = _VERSION_IN_TEXT.search(text) if isinstance(text, str) else None
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def image_repository(image: str) -> str:
    """The image without tag or digest: `registry.k8s.io/ingress-nginx/controller:v1.9.4@sha256:..`
    -> `registry.k8s.io/ingress-nginx/controller`."""
    name = image.split("@", 1)[0]
    head, sep, tail = name.rpartition(":")
    return head if sep and "/" not in tail else name


def image_tag(image: str) -> str:
    """The tag of an image reference, '' when it has none (digest-only or untagged)."""
    name = image.split("@", 1)[0]
    _, sep, tail = name.rpartition(":")
    return tail if sep and "/" not in tail else ""


def image_version(image: str) -> Version | None:
    return find_version(image_tag(image))


def format_version(version: Version) -> str:
    return f"{version[0]}.{version[1]}.{version[2]}"


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    summary: str
    severity: str  # the advisory's own rating: critical, high, medium, low
    fixed: tuple[Version, ...]  # first fixed release per minor line
    references: tuple[str, ...]
    introduced: Version | None = None  # first affected release, when not "every older one"
    condition: str = ""  # when only some configurations are affected (checked by the caller)

    def affects(self, version: Version) -> bool:
        if self.introduced is not None and version < self.introduced:
            return False
        same_line = [fix for fix in self.fixed if fix[:2] == version[:2]]
        if same_line:
            return version < min(same_line)
        return version < max(self.fixed)

    @property
    def fixed_in(self) -> str:
        return ", ".join(format_version(v) for v in sorted(self.fixed))

    def to_evidence(self) -> dict[str, str]:
        return {"id": self.id, "severity": self.severity, "fixed_in": self.fixed_in, "summary": self.summary}


def affecting(advisories: tuple[Advisory, ...], version: Version) -> list[Advisory]:
    return [a for a in advisories if a.affects(version)]


_K8S_ISSUE = "https://github.com/kubernetes/kubernetes/issues/"
_NGINX_ISSUE = "https://github.com/kubernetes/ingress-nginx/issues/"

# ingress-nginx (kubernetes/ingress-nginx) controller advisories, oldest first. Sources: the
# official CVE issues of the Kubernetes Security Response Committee (linked per entry).
INGRESS_NGINX_ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        "CVE-2020-8553",
        "auth-type basic annotation lets an Ingress author replace another namespace's password file",
        "medium",
        ((0, 28, 0),),
        (_NGINX_ISSUE + "5126",),
    ),
    Advisory(
        "CVE-2021-25742",
        "custom snippet annotations read the controller's token and every Secret in the cluster",
        "high",
        # From 0.49.1/1.0.1 it can only be mitigated by `allow-snippet-annotations: "false"` (ING-006).
        ((0, 49, 1), (1, 0, 1)),
        (_K8S_ISSUE + "126811",),
    ),
    Advisory(
        "CVE-2021-25745",
        "an Ingress path can point nginx at the controller's service account token",
        "high",
        ((1, 2, 0),),
        (_NGINX_ISSUE + "8502",),
    ),
    Advisory(
        "CVE-2021-25746",
        "annotations inject nginx directives and obtain the controller's credentials",
        "high",
        ((1, 2, 0),),
        (_NGINX_ISSUE + "8503",),
    ),
    Advisory(
        "CVE-2021-25748",
        "Ingress path sanitisation bypassed with a newline, exposing the controller's credentials",
        "high",
        ((1, 2, 1),),
        (_K8S_ISSUE + "126814",),
    ),
    Advisory(
        "CVE-2023-5043",
        "configuration-snippet annotation injects arbitrary commands",
        "high",
        ((1, 9, 0),),
        (_NGINX_ISSUE + "10571",),
    ),
    Advisory(
        "CVE-2023-5044",
        "permanent-redirect annotation injects code and obtains the controller's credentials",
        "high",
        ((1, 9, 0),),
        (_NGINX_ISSUE + "10572",),
    ),
    Advisory(
        "CVE-2024-7646",
        "annotation validation bypass injects commands and obtains the controller's credentials",
        "high",
        ((1, 11, 2),),
        (_K8S_ISSUE + "126744",),
    ),
    Advisory(
        "CVE-2025-24513",
        "admission controller directory traversal (IngressNightmare family)",
        "medium",
        ((1, 11, 5), (1, 12, 1)),
        (_K8S_ISSUE + "131005",),
    ),
    Advisory(
        "CVE-2025-24514",
        "auth-url annotation configuration injection (IngressNightmare family)",
        "high",
        ((1, 11, 5), (1, 12, 1)),
        (_K8S_ISSUE + "131006",),
    ),
    Advisory(
        "CVE-2025-1097",
        "auth-tls-match-cn annotation configuration injection (IngressNightmare family)",
        "high",
        ((1, 11, 5), (1, 12, 1)),
        (_K8S_ISSUE + "131007",),
    ),
    Advisory(
        "CVE-2025-1098",
        "mirror-target/mirror-host annotation configuration injection (IngressNightmare family)",
        "high",
        ((1, 11, 5), (1, 12, 1)),
        (_K8S_ISSUE + "131008",),
    ),
    Advisory(
        "CVE-2025-1974",
        "IngressNightmare: unauthenticated code execution through the admission webhook from the pod network",
        "critical",
        ((1, 11, 5), (1, 12, 1)),
        (_K8S_ISSUE + "131009", "https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/"),
    ),
    Advisory(
        "CVE-2025-15566",
        "auth-proxy-set-headers annotation configuration injection",
        "high",
        ((1, 12, 5), (1, 13, 1)),
        (_K8S_ISSUE + "136789",),
    ),
    Advisory(
        "CVE-2026-1580",
        "auth-method annotation configuration injection",
        "high",
        ((1, 13, 7), (1, 14, 3)),
        (_K8S_ISSUE + "136677", "https://nvd.nist.gov/vuln/detail/CVE-2026-1580"),
    ),
    Advisory(
        "CVE-2026-24512",
        "rules.http.paths.path configuration injection",
        "high",
        ((1, 13, 7), (1, 14, 3)),
        (_K8S_ISSUE + "136678",),
    ),
    Advisory(
        "CVE-2026-24513",
        "auth-url protection bypass behind a broken custom-errors backend",
        "low",
        ((1, 13, 7), (1, 14, 3)),
        (_K8S_ISSUE + "136679",),
    ),
    Advisory(
        "CVE-2026-3288",
        "rewrite-target annotation configuration injection",
        "high",
        # Fixed in 1.14.4 and 1.15.0; on the 1.13 line the first release after the advisory is
        # 1.13.9 (the CVE-2026-4342 fix), so that is the one counted as fixed.
        ((1, 13, 9), (1, 14, 4), (1, 15, 0)),
        (_K8S_ISSUE + "137560",),
    ),
    Advisory(
        "CVE-2026-4342",
        "comment-based configuration injection through a combination of annotations",
        "high",
        ((1, 13, 9), (1, 14, 5), (1, 15, 1)),
        (_K8S_ISSUE + "137893",),
    ),
)

# The retirement of kubernetes/ingress-nginx: announced 2025-11-11 by SIG Network and the
# Security Response Committee, best-effort maintenance until March 2026, then no releases, no
# bug fixes and no security fixes; the repository becomes read-only.
INGRESS_NGINX_RETIREMENT_ANNOUNCED = date(2025, 11, 11)
INGRESS_NGINX_RETIRED = date(2026, 3, 31)  # "March 2026": the end of that month, to be safe
INGRESS_NGINX_RETIREMENT_REFERENCES = (
    "https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/",
    "https://kubernetes.io/blog/2026/01/29/ingress-nginx-statement/",
    "https://github.com/kubernetes/ingress-nginx#readme",
)

# CoreDNS releases with their publication dates, from the release notes in coredns/coredns
# (`notes/coredns-X.Y.Z.md`, the `date` field). Not exhaustive: a version missing here is
# dated by the next listed release after it, which can only make it look younger.
COREDNS_RELEASES: tuple[tuple[Version, date], ...] = (
    ((1, 3, 1), date(2019, 1, 13)),
    ((1, 6, 2), date(2019, 8, 13)),
    ((1, 6, 6), date(2019, 12, 11)),
    ((1, 6, 7), date(2020, 1, 28)),
    ((1, 7, 0), date(2020, 6, 15)),
    ((1, 8, 0), date(2020, 10, 22)),
    ((1, 8, 4), date(2021, 5, 28)),
    ((1, 8, 6), date(2021, 10, 7)),
    ((1, 9, 3), date(2022, 5, 27)),
    ((1, 9, 4), date(2022, 9, 7)),
    ((1, 10, 0), date(2022, 9, 16)),
    ((1, 10, 1), date(2023, 1, 20)),
    ((1, 11, 0), date(2023, 7, 25)),
    ((1, 11, 1), date(2023, 8, 15)),
    ((1, 11, 3), date(2024, 4, 24)),
    ((1, 11, 4), date(2024, 11, 13)),
    ((1, 12, 1), date(2025, 3, 24)),
    ((1, 12, 2), date(2025, 6, 6)),
    ((1, 12, 3), date(2025, 8, 5)),
    ((1, 12, 4), date(2025, 9, 8)),
    ((1, 13, 0), date(2025, 10, 5)),
    ((1, 13, 1), date(2025, 10, 8)),
    ((1, 13, 2), date(2025, 12, 8)),
    ((1, 14, 0), date(2026, 1, 10)),
    ((1, 14, 1), date(2026, 1, 15)),
    ((1, 14, 2), date(2026, 3, 15)),
)
COREDNS_RELEASES_URL = "https://github.com/coredns/coredns/releases"


def coredns_release_date(version: Version) -> tuple[date, bool] | None:
    """(release date, exact) for a CoreDNS version; inexact when dated by the next listed
    release. None when the version is newer than everything in the table."""
    for listed, released in COREDNS_RELEASES:
        if listed == version:
            return released, True
        if listed > version:
            return released, False
    return None


# Known CoreDNS problems worth an upgrade on their own. `condition` names the Corefile feature
# that must be in use for the issue to matter ("" = always).
COREDNS_ISSUES: tuple[Advisory, ...] = (
    Advisory(
        "CVE-2019-19794",
        "predictable DNS transaction ids allow cache poisoning",
        "medium",
        ((1, 6, 6),),
        ("https://github.com/coredns/coredns/issues/3547",),
    ),
    Advisory(
        "coredns-1.11.0-dot-regression",
        "major performance regression of DNS-over-TLS forwarding in 1.11.0",
        "medium",
        ((1, 11, 1),),
        ("https://github.com/coredns/coredns/blob/master/notes/coredns-1.11.1.md",),
        introduced=(1, 11, 0),
        condition="tls-forward",
    ),
    Advisory(
        "CVE-2025-47950",
        "DNS-over-QUIC server memory exhaustion via stream amplification",
        "high",
        ((1, 12, 2),),
        (
            "https://github.com/coredns/coredns/security/advisories/GHSA-cvx7-x8pj-x2gw",
            "https://nvd.nist.gov/vuln/detail/CVE-2025-47950",
        ),
        condition="quic",
    ),
)

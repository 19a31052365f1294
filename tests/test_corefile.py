"""The Corefile parser: real Corefiles from the distributions, the odd corners of the syntax, and a
clear error (with a line number) for everything malformed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.corefile import (
    MAX_IMPORTED_FILES,
    CorefileError,
    ImportableFiles,
    parse_corefile,
    tokenize,
    walk,
    zone_of,
)
from tests.check_fixtures.dns import GOOD_COREFILE, K3S_COREFILE, K3S_IMPORT

KUBEADM = GOOD_COREFILE  # kubeadm's default, the one the DNS check fixtures start from

# EKS-style: several server blocks, a stub domain forwarded elsewhere, comments everywhere.
MULTI = """\
# cluster DNS, managed by platform team
consul.local:53 {   # stub domain
    errors
    cache 30
    forward . 10.150.0.1 10.150.0.2
}
example.org:53 example.net:1053 {
    file /etc/coredns/example.db
}
dns://.:53 {
    errors
    health
    kubernetes cluster.local {
        pods insecure # comment inside a nested block
    }
    forward . /etc/resolv.conf
    cache 30
}
"""


def test_kubeadm_default_corefile() -> None:
    corefile = parse_corefile(KUBEADM)
    [server] = corefile.servers
    assert server.keys == [".:53"] and server.zones == ["."] and server.is_root
    names = [d.name for d in server.directives]
    assert names == [
        "errors",
        "health",
        "ready",
        "kubernetes",
        "prometheus",
        "forward",
        "cache",
        "loop",
        "reload",
        "loadbalance",
    ]
    forward = server.plugin("forward")
    assert forward is not None and forward.args == [".", "/etc/resolv.conf"]
    assert [d.name for d in forward.block] == ["max_concurrent"]
    health = server.plugin("health")
    assert health is not None and health.sub("lameduck") is not None
    assert health.sub("lameduck").args == ["5s"]
    kubernetes = server.plugin("kubernetes")
    assert kubernetes is not None and kubernetes.args == ["cluster.local", "in-addr.arpa", "ip6.arpa"]
    assert server.plugin("cache").args == ["30"]


def test_several_server_blocks_keys_and_comments() -> None:
    corefile = parse_corefile(MULTI)
    assert [s.keys for s in corefile.servers] == [
        ["consul.local:53"],
        ["example.org:53", "example.net:1053"],
        ["dns://.:53"],
    ]
    stub, files, root = corefile.servers
    assert stub.zones == ["consul.local"] and not stub.is_root
    assert files.zones == ["example.org", "example.net"]
    assert root.is_root and root.line == 10
    assert stub.plugin("forward").args == [".", "10.150.0.1", "10.150.0.2"]
    assert [d.name for d in root.plugin("kubernetes").block] == ["pods"]
    assert corefile.plugin_anywhere("health") and not corefile.plugin_anywhere("ready")


def test_line_numbers_point_at_the_directive() -> None:
    server = parse_corefile(KUBEADM).servers[0]
    assert server.plugin("forward").line == 13
    assert server.plugin("loop").line == 17


def test_snippets_are_imported() -> None:
    text = "(common) {\n  errors\n  cache 30\n}\n.:53 {\n  import common\n  forward . 1.2.3.4\n}\n"
    [server] = parse_corefile(text).servers
    assert [d.name for d in server.directives] == ["errors", "cache", "forward"]


def test_top_level_file_imports_are_recorded_not_read() -> None:
    """k3s and AKS end their Corefile with `import <glob>` outside any block: CoreDNS splices the
    files' server blocks in there. The import is recorded; a block-level import stays a line."""
    corefile = parse_corefile(K3S_COREFILE)
    [server] = corefile.servers
    assert corefile.imports == [K3S_IMPORT]
    assert server.is_root and server.plugin("loop") is not None
    assert server.directives[-1].name == "import"
    assert server.directives[-1].args == ["/etc/coredns/custom/*.override"]
    aks = "import custom/*.server\n.:53 {\n  forward . /etc/resolv.conf\n}\nimport custom/more.server\n"
    assert parse_corefile(aks).imports == ["custom/*.server", "custom/more.server"]


def test_a_corefile_of_imports_only_parses_without_server_blocks() -> None:
    corefile = parse_corefile(f"# all blocks live in the custom ConfigMap\nimport {K3S_IMPORT}\n")
    assert corefile.servers == [] and corefile.imports == [K3S_IMPORT]


def test_quoted_arguments_braces_in_quotes_and_env_placeholders() -> None:
    text = (
        '.:{$DNS_PORT} {\n  hosts "/etc/my hosts" {\n    fallthrough\n  }\n  template IN A "{ weird }"\n}\n'
    )
    [server] = parse_corefile(text).servers
    assert server.keys == [".:{$DNS_PORT}"]
    assert server.plugin("hosts").args == ["/etc/my hosts"]
    assert server.plugin("template").args == ["IN", "A", "{ weird }"]


def test_brace_glued_to_a_word_and_one_line_blocks() -> None:
    [server] = parse_corefile(".:53{\n  health { lameduck 5s }\n  forward . 1.1.1.1\n}").servers
    # One-line block: `lameduck 5s` is on the same line as `health`, which Caddy allows.
    assert server.plugin("health").block[0].name == "lameduck"
    assert server.plugin("forward").args == [".", "1.1.1.1"]


def test_walk_visits_nested_directives() -> None:
    server = parse_corefile(KUBEADM).servers[0]
    assert {"lameduck", "pods", "fallthrough", "ttl", "max_concurrent"} <= {
        d.name for d in walk(server.directives)
    }


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (".:53 {\n  errors\n", 1, "unclosed"),
        (".:53 {\n  errors\n}\n}\n", 4, "unexpected '}'"),
        (".:53\nerrors\n", 2, "expected '{'"),
        ('.:53 {\n  hosts "unterminated\n}\n', 2, "unterminated quoted string"),
        (".:53 {\n  forward . 1.1.1.1\n  {\n}\n", 3, "unexpected '{'"),
        ("", 1, "no server block"),
        ("# only a comment\n", 1, "no server block"),
        (".:53 {\n  x {$UNCLOSED\n}\n", 2, "placeholder"),
        (".:53 {\n}\nimport\n", 3, "import takes exactly one"),
        (".:53 {\n}\nimport a.server b.server\n", 3, "import takes exactly one"),
        (".:53 {\n}\nimport {\n}\n", 3, "import takes exactly one"),
    ],
)
def test_malformed_corefiles_raise_with_a_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(CorefileError) as info:
        parse_corefile(text)
    assert info.value.line == line
    assert fragment in str(info.value)


def test_recursive_snippet_imports_are_bounded() -> None:
    with pytest.raises(CorefileError, match="nest deeper"):
        parse_corefile("(a) {\n  import a\n}\n.:53 {\n  import a\n}\n")


def test_non_text_is_rejected() -> None:
    with pytest.raises(CorefileError):
        parse_corefile(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "zone"),
    [
        (".:53", "."),
        (".", "."),
        ("dns://.:53", "."),
        ("tls://example.org:853", "example.org"),
        ("a.b", "a.b"),
    ],
)
def test_zone_of_strips_scheme_and_port(key: str, zone: str) -> None:
    assert zone_of(key) == zone


def test_comment_markers_inside_quotes_are_text() -> None:
    tokens = tokenize('x "a # not a comment" # a comment\n')
    assert [t.text for t in tokens] == ["x", "a # not a comment"]


@given(st.text(alphabet='.:53 {}#"\\\n\tabcforwardloop$', max_size=80))
def test_arbitrary_text_parses_or_raises_corefile_error(text: str) -> None:
    try:
        corefile = parse_corefile(text)
    except CorefileError as exc:
        assert exc.line >= 1
    else:
        assert corefile.servers


# -- imported files (the coredns-custom ConfigMap mounted at /etc/coredns/custom) -----------------

CUSTOM = "/etc/coredns/custom"
AKS_COREFILE = ".:53 {\n  forward . /etc/resolv.conf\n  import custom/*.override\n}\nimport custom/*.server\n"


def mounted(files: dict[str, str | None], directories: tuple[str, ...] = (CUSTOM,)) -> ImportableFiles:
    """The files of a CoreDNS pod whose Corefile is /etc/coredns/Corefile."""
    return ImportableFiles(
        "/etc/coredns", frozenset(directories), {f"{CUSTOM}/{k}": v for k, v in files.items()}
    )


def test_imported_server_blocks_and_overrides_are_read_from_the_mounted_files() -> None:
    files = mounted(
        {
            "b.server": "corp.example:53 {\n  forward . 10.0.0.2\n}\n",
            "a.server": "lab.example:53 {\n  forward . 10.0.0.1\n}\n",
            "log.override": "log\nhosts {\n  fallthrough\n}\n",
            "notes.txt": "not imported",
        }
    )
    for text in (K3S_COREFILE, AKS_COREFILE):  # an absolute and a relative pattern
        corefile = parse_corefile(text, files)
        root, lab, corp = corefile.servers
        assert corefile.imports == []
        assert [lab.label, corp.label] == [
            f"lab.example:53 (from {CUSTOM}/a.server)",
            f"corp.example:53 (from {CUSTOM}/b.server)",
        ]
        assert root.plugin("log") is not None and root.plugin("hosts") is not None
        assert root.plugin("import") is None
        assert corefile.imported == [f"{CUSTOM}/log.override", f"{CUSTOM}/a.server", f"{CUSTOM}/b.server"]


def test_imports_of_unknown_files_stay_unread() -> None:
    elsewhere = mounted({"a.server": ".:5353 {\n  whoami\n}\n"}, directories=("/etc/other",))
    assert parse_corefile(K3S_COREFILE, elsewhere).imports == [K3S_IMPORT]
    redacted = mounted({"a.server": None})
    assert parse_corefile(K3S_COREFILE, redacted).imports == [K3S_IMPORT]
    # a glob in a known, empty directory imports nothing (the optional ConfigMap is absent)
    empty = parse_corefile(K3S_COREFILE, mounted({}))
    assert empty.imports == [] and len(empty.servers) == 1
    # a glob's `*` does not reach into subdirectories
    nested = ImportableFiles("/etc/coredns", frozenset({CUSTOM}), {f"{CUSTOM}/sub/a.server": ".:1 {\n}\n"})
    assert parse_corefile(K3S_COREFILE, nested).imported == []


def test_a_malformed_imported_file_names_itself() -> None:
    with pytest.raises(CorefileError, match=f"line 2 of {CUSTOM}/bad.server: unclosed"):
        parse_corefile(K3S_COREFILE, mounted({"bad.server": "\nlab.example:53 {\n  forward . 10.0.0.1\n"}))
    with pytest.raises(CorefileError, match=f"of {CUSTOM}/bad.override"):
        parse_corefile(K3S_COREFILE, mounted({"bad.override": "log }\n"}))


def test_an_import_cycle_is_an_error_as_in_coredns() -> None:
    loop = mounted({"loop.server": f"import {K3S_IMPORT}\n"})
    with pytest.raises(CorefileError, match=f"import cycle: {CUSTOM}/loop.server -> {CUSTOM}/loop.server"):
        parse_corefile(K3S_COREFILE, loop)


def test_imports_that_fan_out_are_bounded_and_the_rest_left_unread() -> None:
    """Files that each import the files after them: 2^n paths without a bound."""
    names = [f"f{i:02d}.server" for i in range(20)]
    files = {
        name: f"z{i}.example:53 {{\n}}\n" + "".join(f"import {CUSTOM}/{later}\n" for later in names[i + 1 :])
        for i, name in enumerate(names)
    }
    corefile = parse_corefile(K3S_COREFILE, mounted(files))
    assert len(corefile.imported) <= MAX_IMPORTED_FILES and corefile.imports


def test_relative_imports_in_an_imported_file_start_from_that_file() -> None:
    """CoreDNS joins a relative pattern to the directory of the file holding the import line (the
    Corefile's only for the Corefile's own imports): `custom/zone.server` importing
    `common.override` reads `custom/common.override`, and a glob there lists `custom/`."""
    files = ImportableFiles(
        "/etc/coredns",
        frozenset({"/etc/coredns", CUSTOM}),
        {
            "/etc/coredns/Corefile": None,
            f"{CUSTOM}/zone.server": "example.org:53 {\n  import common.override\n  import *.plugins\n}\n",
            f"{CUSTOM}/common.override": "log\n",
            f"{CUSTOM}/a.plugins": "cache 30\n",
            f"{CUSTOM}/snippets.server": "(stub) {\n  import *.plugins\n}\n",
        },
    )
    text = (
        ".:53 {\n  forward . /etc/resolv.conf\n}\nimport custom/*.server\nlab.example:53 {\n  import stub\n}"
    )
    corefile = parse_corefile(text, files)
    _root, zone, lab = corefile.servers
    assert [d.name for d in zone.directives] == ["log", "cache"]
    # a snippet resolves its imports from the file that defines it, wherever it is used
    assert [d.name for d in lab.directives] == ["cache"]
    assert corefile.imports == []
    assert corefile.imported == [
        f"{CUSTOM}/snippets.server",
        f"{CUSTOM}/zone.server",
        f"{CUSTOM}/common.override",
        f"{CUSTOM}/a.plugins",
        f"{CUSTOM}/a.plugins",
    ]


def test_unknown_relative_imports_in_an_imported_file_stay_unread() -> None:
    """Resolved from the imported file's directory, an import of no known file is still a record
    of what was not read: a line in its block, or (between blocks) listed by the path CoreDNS
    reads, not by a pattern that would name a file beside the Corefile."""
    files = mounted(
        {"zone.server": "example.org:53 {\n  import missing.override\n}\nimport sub/*.server\n"},
        directories=("/etc/coredns", CUSTOM),
    )
    corefile = parse_corefile(AKS_COREFILE, files)
    zone = corefile.servers[1]
    assert [(d.name, d.args) for d in zone.directives] == [("import", ["missing.override"])]
    assert corefile.imports == [f"{CUSTOM}/sub/*.server"]

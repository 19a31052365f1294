"""A small parser for CoreDNS's Corefile (the Caddyfile dialect CoreDNS reads).

Only what the DNS checks need, but robust to what real Corefiles contain: several server blocks,
several keys per block (`example.org:53 example.net:53 {`), nested plugin blocks
(`kubernetes cluster.local { pods insecure }`), `#` comments, quoted arguments, `{$ENV}`
placeholders, snippets `(name) { ... }` pulled in with `import name`, and imports of files
(`import /etc/coredns/custom/*.server` after the last block of k3s's and AKS's Corefile, and
`import custom/*.override` inside a block). Given the files the CoreDNS pod mounts
(`ImportableFiles`, from its ConfigMap volumes), imports are read as CoreDNS reads them: server
blocks spliced in at a top-level import, directives at an import inside a block. An import of
files that are not known (no ConfigMap mounted there, or values redacted) is recorded in
`Corefile.imports`, so a check can say what it did not see.

A Corefile is text from the cluster: it is parsed as data, never evaluated. Malformed input
raises `CorefileError` with the line it stopped at, so the check can say "unparseable" instead
of guessing.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

MAX_IMPORT_DEPTH = 10  # snippets importing snippets: deep enough for any real file, bounded for loops
# Files read through imports, at most: a real coredns-custom holds a handful, and imports that fan
# out (files that each import the others) would otherwise grow exponentially. Beyond it, unread.
MAX_IMPORTED_FILES = 64


class CorefileError(ValueError):
    """The Corefile could not be parsed; `line` is where the parser stopped (1-based), in the
    imported file `source` when it is not the Corefile itself."""

    def __init__(self, message: str, line: int, source: str = "") -> None:
        super().__init__(f"line {line}{f' of {source}' if source else ''}: {message}")
        self.reason = message
        self.line = line
        self.source = source

    def located(self, source: str) -> CorefileError:
        """The same error, placed in the imported file `source` unless it already is in one."""
        return self if self.source or not source else CorefileError(self.reason, self.line, source)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    line: int
    quoted: bool = False

    @property
    def is_open(self) -> bool:
        return self.text == "{" and not self.quoted

    @property
    def is_close(self) -> bool:
        return self.text == "}" and not self.quoted


@dataclass(slots=True)
class Directive:
    """One plugin line (`forward . /etc/resolv.conf`), with its nested block if it has one."""

    name: str
    args: list[str]
    line: int
    block: list[Directive] = field(default_factory=list)

    def sub(self, name: str) -> Directive | None:
        """The first nested directive called `name` (`health { lameduck 5s }` -> lameduck)."""
        return next((d for d in self.block if d.name == name), None)


@dataclass(slots=True)
class ServerBlock:
    """A server block: the zones it answers (`.:53`) and its plugins in file order."""

    keys: list[str]
    directives: list[Directive]
    line: int
    origin: str = ""  # the imported file the block comes from, "" for the Corefile itself

    def plugin(self, name: str) -> Directive | None:
        return next((d for d in self.directives if d.name == name), None)

    def plugins(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]

    def has(self, name: str) -> bool:
        return self.plugin(name) is not None

    @property
    def zones(self) -> list[str]:
        """The zones of the keys without scheme and port: `dns://.:53` -> `.`."""
        return [zone_of(key) for key in self.keys]

    @property
    def is_root(self) -> bool:
        """Answers the root zone, i.e. every name not claimed by a more specific block."""
        return "." in self.zones

    @property
    def label(self) -> str:
        keys = " ".join(self.keys)
        return f"{keys} (from {self.origin})" if self.origin else keys


@dataclass(slots=True)
class Corefile:
    servers: list[ServerBlock]
    # Top-level `import` patterns of files that were not known: server blocks unseen here.
    imports: list[str] = field(default_factory=list)
    # The imported files that were read, in the order their imports were met.
    imported: list[str] = field(default_factory=list)

    def plugin_anywhere(self, name: str) -> bool:
        return any(server.has(name) for server in self.servers)


@dataclass(frozen=True, slots=True)
class ImportableFiles:
    """The files a CoreDNS pod can import: the keys of the ConfigMaps it mounts, by path.

    Only `directories` (the ConfigMap mount points) are fully known: a glob there that matches no
    file imports nothing, as CoreDNS skips it. A file whose text is None was not collected
    (redacted), so an import of it is unread."""

    base: str  # the Corefile's directory: where the Corefile's own relative imports start
    directories: frozenset[str]
    files: Mapping[str, str | None]

    def resolve(self, pattern: str, base: str | None = None) -> list[tuple[str, str]] | None:
        """(path, text) of every file `pattern` imports, in CoreDNS's (sorted) order; None when
        they cannot all be known. A relative pattern starts from `base`, the directory of the
        file holding the import (CoreDNS's Caddy parser joins it to the importing token's file);
        the Corefile's directory by default."""
        start = self.base if base is None else base
        directory, name = posixpath.split(posixpath.normpath(posixpath.join(start, pattern)))
        if directory not in self.directories:
            return None
        # A glob's `*` stops at `/`, as in CoreDNS: only the files right in that directory.
        paths = sorted(
            p
            for p in self.files
            if posixpath.dirname(p) == directory and fnmatch.fnmatchcase(posixpath.basename(p), name)
        )
        if not paths and not _is_glob(name):
            return None  # CoreDNS refuses a missing file; a file mounted some other way may exist
        texts = [self.files[p] for p in paths]
        if any(text is None for text in texts):
            return None
        return [(p, t) for p, t in zip(paths, texts, strict=True) if t is not None]


def _is_glob(name: str) -> bool:
    return any(char in name for char in "*?[")


def zone_of(key: str) -> str:
    """`dns://example.org:1053` -> `example.org`; `.:53` -> `.`; `[::1]` keys are not zones."""
    rest = key.split("://", 1)[1] if "://" in key else key
    if rest.startswith("["):
        return rest
    zone = rest.rsplit(":", 1)[0] if ":" in rest else rest
    return zone or "."


def tokenize(text: str) -> list[Token]:
    """Split a Corefile into words, quoted strings and braces, dropping comments."""
    tokens: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            i += 1
        elif char.isspace():
            i += 1
        elif char == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif char == '"':
            end, word = _quoted(text, i, line)
            tokens.append(Token(word, line, quoted=True))
            line += text.count("\n", i, end)
            i = end
        elif char in "{}" and not text.startswith("{$", i):
            tokens.append(Token(char, line))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '"#':
                if text.startswith("{$", i):  # an environment placeholder is part of the word
                    i = _placeholder_end(text, i, line)
                    continue
                if text[i] in "{}":
                    break
                i += 1
            tokens.append(Token(text[start:i], line))
    return tokens


def _placeholder_end(text: str, i: int, line: int) -> int:
    """Index after the `{$NAME}` placeholder starting at text[i]; it never spans whitespace."""
    j = i + 2
    while j < len(text) and text[j] != "}":
        if text[j].isspace() or text[j] in '{"#':
            raise CorefileError("unterminated {$...} placeholder", line)
        j += 1
    if j == len(text):
        raise CorefileError("unterminated {$...} placeholder", line)
    return j + 1


def _quoted(text: str, i: int, line: int) -> tuple[int, str]:
    """Read the quoted string starting at text[i] == '"'; returns (index after it, value)."""
    out: list[str] = []
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
            out.append(text[j + 1])
            j += 2
            continue
        if char == '"':
            return j + 1, "".join(out)
        out.append(char)
        j += 1
    raise CorefileError("unterminated quoted string", line)


class _Parser:
    def __init__(
        self,
        tokens: list[Token],
        files: ImportableFiles | None,
        *,
        chain: tuple[str, ...] = (),
        shared: _Parser | None = None,
    ) -> None:
        self.tokens = tokens
        self.pos = 0
        self.files = files
        self.chain = chain  # the imported files that led here, this one last; () for the Corefile
        self.origin = chain[-1] if chain else ""
        # Where this file's relative imports start: CoreDNS resolves them from the directory of the
        # file that holds the import line, not from the Corefile's.
        self.directory = posixpath.dirname(self.origin) if self.origin else (files.base if files else "")
        # Snippets and the list of files read are shared with the parsers of imported files. A
        # snippet keeps the directory of the file that defines it: its tokens carry that file in
        # CoreDNS, so a file import inside it resolves from there wherever the snippet is used.
        self.snippets: dict[str, tuple[list[Directive], str]] = shared.snippets if shared else {}
        self.imported: list[str] = shared.imported if shared else []

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Corefile:
        servers: list[ServerBlock] = []
        imports: list[str] = []
        while (token := self.peek()) is not None:
            if token.is_close:
                raise CorefileError("unexpected '}'", token.line)
            if token.text == "import" and not token.quoted:
                line = token.line
                pattern = self.top_level_import()
                imported = self.import_files(pattern, line)
                if imported is None:
                    # In an imported file, the pattern as CoreDNS resolves it: a relative one read
                    # as written would name a file beside the Corefile.
                    imports.append(posixpath.join(self.directory, pattern) if self.origin else pattern)
                for corefile in imported or ():
                    servers.extend(corefile.servers)
                    imports.extend(corefile.imports)
                continue
            keys = self.keys()
            body = self.block(keys[0].line)
            names = [k.text.rstrip(",") for k in keys]
            if len(names) == 1 and names[0].startswith("(") and names[0].endswith(")"):
                self.snippets[names[0][1:-1]] = (body, self.directory)
                continue
            servers.append(
                ServerBlock(
                    [n for n in names if n], self.expand(body, 0, self.directory), keys[0].line, self.origin
                )
            )
        return Corefile(servers, imports, self.imported)

    def import_files(self, pattern: str, line: int) -> list[Corefile] | None:
        """The server blocks of the files a top-level import names, or None when they are unknown."""
        found = self.resolve(pattern, self.directory)
        if found is None:
            return None
        return [self.child(path, text, line).parse_file() for path, text in found]

    def parse_file(self) -> Corefile:
        try:
            return self.parse()
        except CorefileError as exc:
            raise exc.located(self.origin) from None

    def resolve(self, pattern: str, directory: str) -> list[tuple[str, str]] | None:
        """The files an import in `directory` reads, counted against MAX_IMPORTED_FILES; None:
        left unread."""
        found = self.files.resolve(pattern, directory) if self.files is not None else None
        if found is None or len(self.imported) + len(found) > MAX_IMPORTED_FILES:
            return None
        self.imported.extend(path for path, _ in found)
        return found

    def child(self, path: str, text: str, line: int) -> _Parser:
        """A parser for an imported file, sharing snippets and the list of files read."""
        if path in self.chain:
            # CoreDNS (Caddy) refuses a cycle of imports rather than loop.
            raise CorefileError(f"import cycle: {' -> '.join([*self.chain, path])}", line, self.origin)
        try:
            tokens = tokenize(text)
        except CorefileError as exc:
            raise exc.located(path) from None
        return _Parser(tokens, self.files, chain=(*self.chain, path), shared=self)

    def top_level_import(self) -> str:
        """The pattern of an `import` line between server blocks. Caddy splices the named files
        (or snippet) in place, so they hold whole server blocks; a glob may match no file."""
        head = self.take()
        args: list[Token] = []
        while (token := self.peek()) is not None and token.line == head.line:
            args.append(self.take())
        if len(args) != 1 or args[0].is_open or args[0].is_close:
            raise CorefileError("import takes exactly one file pattern or snippet name", head.line)
        return args[0].text

    def keys(self) -> list[Token]:
        """The server block keys up to its opening brace (keys may continue after a comma)."""
        keys: list[Token] = []
        while (token := self.peek()) is not None and not token.is_open:
            if token.is_close:
                raise CorefileError("unexpected '}'", token.line)
            if keys and token.line != keys[-1].line and not keys[-1].text.endswith(","):
                raise CorefileError(
                    f"expected '{{' after server block keys, found {token.text!r}", token.line
                )
            keys.append(self.take())
        if not keys:
            line = token.line if token else (self.tokens[-1].line if self.tokens else 1)
            raise CorefileError("server block without keys", line)
        if token is None:
            raise CorefileError("expected '{' after server block keys", keys[-1].line)
        return keys

    def block(self, line: int) -> list[Directive]:
        """Directives between '{' (next token) and its matching '}'."""
        opening = self.take()
        if not opening.is_open:
            raise CorefileError("expected '{'", opening.line)
        directives: list[Directive] = []
        while True:
            token = self.peek()
            if token is None:
                raise CorefileError("unclosed '{'", opening.line)
            if token.is_close:
                self.take()
                return directives
            if token.is_open:
                raise CorefileError("unexpected '{'", token.line)
            directives.append(self.directive())

    def directive(self) -> Directive:
        head = self.take()
        args: list[str] = []
        while (token := self.peek()) is not None and token.line == head.line and not token.is_close:
            if token.is_open:
                return Directive(head.text, args, head.line, self.block(token.line))
            args.append(self.take().text)
        return Directive(head.text, args, head.line)

    def expand(self, directives: list[Directive], depth: int, directory: str) -> list[Directive]:
        """Replace `import snippet` lines with the snippet's directives, and `import <files>`
        lines with the directives of the files when they are known (k3s's `*.override`).
        `directory` is that of the file the directives were written in."""
        out: list[Directive] = []
        for d in directives:
            if d.name == "import" and d.args and d.args[0] in self.snippets:
                if depth >= MAX_IMPORT_DEPTH:
                    raise CorefileError(f"snippet imports nest deeper than {MAX_IMPORT_DEPTH}", d.line)
                body, defined_in = self.snippets[d.args[0]]
                out.extend(self.expand(body, depth + 1, defined_in))
            elif (
                d.name == "import"
                and len(d.args) == 1
                and (found := self.resolve(d.args[0], directory)) is not None
            ):
                for path, text in found:
                    out.extend(self.child(path, text, d.line).directives_of_file())
            else:
                out.append(d)  # an import of unknown files stays a line: a record of what was not read
        return out

    def directives_of_file(self) -> list[Directive]:
        """An imported file of directives (no braces around them), its own imports expanded."""
        try:
            directives: list[Directive] = []
            while (token := self.peek()) is not None:
                if token.is_open or token.is_close:
                    raise CorefileError(f"unexpected {token.text!r}", token.line)
                directives.append(self.directive())
            return self.expand(directives, 0, self.directory)
        except CorefileError as exc:
            raise exc.located(self.origin) from None


def parse_corefile(text: str, files: ImportableFiles | None = None) -> Corefile:
    """Parse a Corefile, reading the `files` it imports. Raises `CorefileError` (with a line
    number, and the imported file it is in) when it or an imported file is malformed."""
    if not isinstance(text, str):
        raise CorefileError("the Corefile is not text", 1)
    corefile = _Parser(tokenize(text), files).parse()
    if not corefile.servers and not corefile.imports:
        raise CorefileError("no server block", 1)
    return corefile


def walk(directives: list[Directive]) -> Iterator[Directive]:
    """Every directive, nested ones included, depth first."""
    for d in directives:
        yield d
        yield from walk(d.block)

"""Make text that came from the cluster safe to print.

Names, labels, annotations, images and messages are written by whoever can create objects in
the cluster. Printed raw, an ANSI/OSC escape could recolour the terminal, rewrite earlier lines or
write the clipboard (OSC 52), and a bidi override could make `evil` read as `live`. Every renderer
passes such text through `safe_text`, which shows those characters as visible escapes instead.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# C0 controls (tab and newline included: a field is one line), DEL, C1 controls (0x9b is a
# one-byte CSI), bidi embeddings/overrides/isolates and marks, line/paragraph separators, and
# the noncharacters U+FFFE/U+FFFF, which XML 1.0 forbids (a JUnit file holding one is not XML).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]"
)
DEFAULT_LIMIT = 2000


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """`value` as one printable line: control and bidi characters escaped, clipped to `limit`."""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit} more characters)"
    return _UNSAFE.sub(_escape, text)


def is_safe(text: str) -> bool:
    return _UNSAFE.search(text) is None


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def safe_markdown(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """`safe_text` plus Markdown/HTML metacharacters escaped, for tickets and wikis."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", safe_text(value, limit))


# The characters `_UNSAFE` names that a JSON encoder may leave raw (it escapes only C0 controls, `"`
# and `\`), as UTF-8 bytes: DEL, C1 controls, bidi controls and marks, line/paragraph separators,
# the byte-order mark, the noncharacters U+FFFE/U+FFFF.
_UNSAFE_JSON_BYTES = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]|\xef\xbb\xbf|\xef\xbf[\xbe\xbf]"
)


def _json_escape(match: re.Match[bytes]) -> bytes:
    return f"\\u{ord(match.group().decode()):04x}".encode()


def safe_json(document: bytes) -> bytes:
    """A UTF-8 JSON document with the terminal-unsafe characters in its strings written as
    `\\uXXXX` escapes: the same data for a JSON reader, inert when the JSON lands in a terminal
    (`k8saudit scan --format json` without a pipe). Structural JSON is ASCII, so every match lies
    inside a string."""
    return _UNSAFE_JSON_BYTES.sub(_json_escape, document)


# orjson writes at most 254 levels of nesting and integers of at most 64 bits. Cluster objects
# never come close, but a server can send anything (a CRD schema nested 300 deep, a 30-digit
# replica count, which the collector's schema decoder keeps as a Python int): such parts are
# fitted here, when written.
MAX_DEPTH = 200
CLIPPED = "<k8saudit: nested deeper than 200 levels, not kept>"
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def dump_json(value: Any, option: int = 0) -> bytes:
    """orjson.dumps, fitting what it cannot write (see `writable`) instead of failing on it."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if "ecursion" not in str(exc) and "64-bit" not in str(exc):
            raise
    return orjson.dumps(writable(value, MAX_DEPTH), option=option)


def writable(value: Any, levels: int) -> Any:
    """A copy of `value` with the containers nested more than `levels` deep replaced by CLIPPED,
    and integers beyond 64 bits by the float a JSON reader would make of them (their digits if
    no float holds them)."""
    if isinstance(value, dict):
        return CLIPPED if levels <= 0 else {k: writable(v, levels - 1) for k, v in value.items()}
    if isinstance(value, list):
        return CLIPPED if levels <= 0 else [writable(v, levels - 1) for v in value]
    if type(value) is int and not _INT64_MIN <= value <= _UINT64_MAX:
        try:
            return float(value)
        except OverflowError:
            return str(value)
    return value

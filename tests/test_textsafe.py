from __future__ import annotations

import orjson

from k8saudit.textsafe import is_safe, safe_json, safe_markdown, safe_text


def test_escape_sequences_are_shown_not_obeyed() -> None:
    hostile = "pod\x1b[31mred\x1b]52;c;ZXZpbA==\x07\u202eevil\x9b2J\nnext"
    shown = safe_text(hostile)
    assert is_safe(shown)
    assert (
        "\\x1b[31m" in shown
        and "\\x07" in shown
        and "\\u202e" in shown
        and "\\x9b" in shown
        and "\\x0a" in shown
    )


def test_plain_text_and_unicode_pass_through() -> None:
    assert safe_text("café-Ω [bold]x[/bold]") == "café-Ω [bold]x[/bold]"


def test_huge_strings_are_clipped() -> None:
    shown = safe_text("a" * 1_000_000, limit=100)
    assert len(shown) < 200 and "999900 more characters" in shown


def test_markdown_metacharacters_are_escaped() -> None:
    assert safe_markdown("[x](javascript:alert(1)) <b>") == r"\[x\]\(javascript:alert\(1\)\) \<b\>"


def test_json_keeps_the_data_and_loses_the_escapes() -> None:
    hostile = "a\x1b]52;c;ZXZpbA==\x07\x7f\x9b2J\u202eevil\u2066\u2028\ufeff\ufffe\uffff\u061c é Ω 🙂 \\u202e"
    document = orjson.dumps({"name": hostile, hostile: [hostile]})
    shown = safe_json(document)
    assert orjson.loads(shown) == {"name": hostile, hostile: [hostile]}
    text = shown.decode()
    assert is_safe(text)
    assert "\\u202e" in text and "\\u009b" in text and "\\uffff" in text and "é Ω 🙂" in text

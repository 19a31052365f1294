"""The policy file: waivers, thresholds and area weights in one TOML file.

Where it is looked for (the first that exists wins; see the README's "Waivers and settings"):
1. `--waivers PATH` (an explicit path must exist),
2. `.k8saudit.toml` in the working directory (the repository that holds the cluster's config),
3. `$XDG_CONFIG_HOME/k8saudit/waivers.toml` (default `~/.config/k8saudit/waivers.toml`).

```toml
[settings]                     # any field of k8saudit.registry.Config
backup_max_age_hours = 48      # numbers: above 0, at most ten years (hours, days) or 1000000

[weights]                      # area weights in the overall score: 0 (left out) to 1000
rbac = 2.0

[[waiver]]
check = "RBAC-002"             # a check id, or a glob: "RBAC-*"
kind = "ClusterRoleBinding"    # optional: a Kind, "Cluster" for cluster-wide findings
namespace = "*"                # optional glob (cluster-scoped objects have namespace "")
name = "oncall-*"              # optional glob
reason = "on-call break-glass group, reviewed quarterly"
owner = "platform-team"
expires = 2026-06-30           # the last day it applies
ticket = "https://tracker.example.com/SEC-42"   # optional
```

Every mistake is one line naming the file, the table or waiver entry (with its line) and the
field. `append_waiver` adds an entry with tomlkit, keeping the file's comments and layout.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from k8saudit.errors import UsageError, check_input_file
from k8saudit.inventory import KINDS_BY_KIND
from k8saudit.model import PSEUDO_KINDS
from k8saudit.registry import AREAS, Config
from k8saudit.waivers import CHECK_PATTERN, Waiver, WaiverPolicy

PROJECT_FILE = ".k8saudit.toml"
USER_FILE = Path("k8saudit") / "waivers.toml"

TABLES = ("settings", "weights", "waiver")
WAIVER_FIELDS = ("check", "kind", "namespace", "name", "reason", "owner", "expires", "ticket")
REQUIRED_WAIVER_FIELDS = ("check", "reason", "owner", "expires")
_TEXT_LIMIT = 1000
# Bounds that keep every threshold meaningful and every computation with it finite: past ten
# years an age limit means "never" (and 1e300 hours no longer fits a timedelta), a million nodes
# or cores per replica is more than any cluster has, and a weight over 1000 times another's
# already drowns it (1e307 made the overall score inf or nan, which passed --fail-under).
MAX_AREA_WEIGHT = 1000
_TEN_YEARS = {"_hours": 10 * 365 * 24, "_days": 10 * 365}  # by the setting's unit (name suffix)
_MAX_COUNT = 1_000_000
_NEW_FILE_HEADER = (
    "k8saudit policy: waivers (accepted risks), thresholds and area weights.\n"
    'See the README section "Waivers and settings" for every field.'
)


class PolicyError(UsageError):
    """The policy file cannot be read or is invalid (exit code 1)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """What the policy file says; the defaults when there is none."""

    path: Path | None = None
    config: Config = field(default_factory=Config)
    waivers: tuple[Waiver, ...] = ()

    def waiver_policy(self, *, waivers: bool = True, annotations: bool = True) -> WaiverPolicy:
        """What `evaluate()` applies: `waivers=False` ignores every waiver (`--no-waivers`)."""
        if not waivers:
            return WaiverPolicy.none()
        return WaiverPolicy(self.waivers, annotations, str(self.path) if self.path else None)


# -- finding the file ---------------------------------------------------------------------------


def user_policy_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base).expanduser() / USER_FILE


def find_policy_file(
    explicit: str | os.PathLike[str] | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """The policy file in effect: `explicit`, else ./.k8saudit.toml, else the user's; None if none."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        check_input_file(path, "a waivers TOML file", PolicyError)
        if not path.exists():
            raise PolicyError(f"waivers file {path} does not exist")
        if not path.is_file():  # /dev/null, a pipe: a waiver added in the UI would replace it
            raise PolicyError(f"waivers file {path} is not a regular file; expected a waivers TOML file")
        return path
    project = cwd / PROJECT_FILE if cwd is not None else Path(PROJECT_FILE)  # relative reads better
    for candidate in (project, user_policy_path(environ)):
        if candidate.is_file():
            return candidate
    return None


def writable_policy_path(
    explicit: str | os.PathLike[str] | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Where a new waiver goes: the file in effect, else ./.k8saudit.toml (created on write)."""
    if explicit is not None:
        return Path(explicit).expanduser()
    return find_policy_file(None, cwd, environ) or (cwd if cwd is not None else Path()) / PROJECT_FILE


def load_policy(
    explicit: str | os.PathLike[str] | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Policy:
    path = find_policy_file(explicit, cwd, environ)
    return read_policy(path) if path is not None else Policy()


def read_policy(path: str | os.PathLike[str]) -> Policy:
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read waivers file {source}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{source}: not UTF-8 text") from None
    return parse_policy(text, source)


# -- parsing ------------------------------------------------------------------------------------


def parse_policy(text: str, source: Path | str = "waivers file") -> Policy:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: invalid TOML: {exc}") from None
    unknown = [key for key in document if key not in TABLES]
    if unknown:
        raise PolicyError(
            f"{source}: unknown table {unknown[0]!r}{_suggest(unknown[0], TABLES)} "
            f"(known: {', '.join(TABLES)})"
        )
    config = parse_settings(document.get("settings", {}), document.get("weights", {}), source)
    entries = document.get("waiver", [])
    if not isinstance(entries, list):
        raise PolicyError(f"{source}: 'waiver' must be an array of tables ([[waiver]] entries)")
    lines = _waiver_lines(text)
    waivers = tuple(
        parse_waiver(entry, source, number, lines[number - 1] if number <= len(lines) else None)
        for number, entry in enumerate(entries, start=1)
    )
    return Policy(source if isinstance(source, Path) else None, config, waivers)


def _waiver_lines(text: str) -> list[int]:
    """Line numbers of the `[[waiver]]` headers, in order (for messages)."""
    return [
        n for n, line in enumerate(text.splitlines(), start=1) if re.match(r"\s*\[\[\s*waiver\s*\]\]", line)
    ]


def parse_settings(settings: object, weights: object, source: Path | str) -> Config:
    """A Config from the [settings] and [weights] tables, every value checked."""
    if not isinstance(settings, dict):
        raise PolicyError(f"{source}: 'settings' must be a table ([settings])")
    if not isinstance(weights, dict):
        raise PolicyError(f"{source}: 'weights' must be a table ([weights])")
    settable = {f.name: str(f.type) for f in fields(Config) if f.name != "area_weights"}
    values: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in settable:
            raise PolicyError(
                f"{source}: [settings] unknown setting {key!r}{_suggest(key, settable)} "
                f"(known: {', '.join(settable)})"
            )
        values[key] = _setting_value(source, key, settable[key], value)
    area_weights = dict(Config().area_weights)
    for area, weight in weights.items():
        where = f"{source}: [weights] {area}"
        if area not in AREAS:
            raise PolicyError(f"{where}: unknown area{_suggest(area, AREAS)} (areas: {', '.join(AREAS)})")
        area_weights[area] = _area_weight(where, weight)
    _check_warn_before_fail(values, source)
    if not any(area_weights.values()):
        raise PolicyError(f"{source}: [weights] every area weight is 0: nothing would be scored")
    return Config(**values, area_weights=area_weights)


def _check_warn_before_fail(values: dict[str, Any], source: Path | str) -> None:
    """Thresholds that come in pairs (`coredns_warn_age_days`, `coredns_fail_age_days`): the
    warning must come before the failure, or it could never be seen."""
    defaults = Config()
    for warn_name in (f.name for f in fields(Config) if "_warn_" in f.name):
        fail_name = warn_name.replace("_warn_", "_fail_")
        if not hasattr(defaults, fail_name) or not ({warn_name, fail_name} & values.keys()):
            continue
        warn = values.get(warn_name, getattr(defaults, warn_name))
        fail = values.get(fail_name, getattr(defaults, fail_name))
        if warn >= fail:
            raise PolicyError(f"{source}: [settings] {warn_name} ({warn}) must be below {fail_name} ({fail})")


def _area_weight(where: str, weight: object) -> float:
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
        raise PolicyError(f"{where}: expected a number, got {_shown(weight)}")
    if not 0 <= weight <= MAX_AREA_WEIGHT:
        raise PolicyError(f"{where}: weights cannot be negative or above {MAX_AREA_WEIGHT}, got {weight}")
    return float(weight)


def _setting_limit(name: str) -> int:
    """The largest value the numeric setting `name` may take."""
    unit = next((suffix for suffix in _TEN_YEARS if name.endswith(suffix)), None)
    return _TEN_YEARS[unit] if unit else _MAX_COUNT


def _setting_value(source: Path | str, name: str, type_name: str, value: object) -> Any:
    where = f"{source}: [settings] {name}"
    if type_name in ("float", "int"):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or (type_name == "int" and not isinstance(value, int)):
            expected = "a whole number" if type_name == "int" else "a number"
            raise PolicyError(f"{where}: expected {expected}, got {_shown(value)}")
        limit = _setting_limit(name)
        if not 0 < value <= limit:  # nan fails too
            raise PolicyError(f"{where}: must be positive and at most {limit}, got {value}")
        return float(value) if type_name == "float" else value
    if type_name == "bool":
        if not isinstance(value, bool):
            raise PolicyError(f"{where}: expected true or false, got {_shown(value)}")
        return value
    if type_name == "str":
        if not isinstance(value, str):
            raise PolicyError(f"{where}: expected a string, got {_shown(value)}")
        return value
    if type_name.startswith("tuple[str"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"{where}: expected a list of strings, got {_shown(value)}")
        return tuple(value)
    raise PolicyError(f"{where}: cannot be set in the waivers file")


def parse_waiver(entry: object, source: Path | str, number: int, line: int | None = None) -> Waiver:
    """One `[[waiver]]` entry, validated; `number` counts from 1 in file order."""
    entry_name = f"waiver #{number}" + (f" (line {line})" if line else "")
    return _parse_waiver(entry, f"{source}: {entry_name}", f"{source} {entry_name}")


def _parse_waiver(entry: object, at: str, label: str) -> Waiver:
    """`at` starts error messages; `label` is where the waiver is written, for reports."""
    if not isinstance(entry, dict):
        raise PolicyError(f"{at}: must be a table")
    for key in entry:
        if key not in WAIVER_FIELDS:
            raise PolicyError(
                f"{at}: unknown field {key!r}{_suggest(key, WAIVER_FIELDS)} "
                f"(fields: {', '.join(WAIVER_FIELDS)})"
            )
    for key in REQUIRED_WAIVER_FIELDS:
        if key not in entry:
            raise PolicyError(f"{at}: missing field {key!r}")
    text = {
        key: _text_field(at, key, entry[key]) for key in WAIVER_FIELDS if key in entry and key != "expires"
    }
    check = text["check"]
    if not CHECK_PATTERN.match(check):
        raise PolicyError(
            f"{at}: field 'check': expected a check id like RBAC-001 or a glob like RBAC-*, got {check!r}"
        )
    for key in ("reason", "owner"):
        if not text[key].strip():
            raise PolicyError(f"{at}: field {key!r} is empty")
    return Waiver(
        check=check,
        reason=text["reason"].strip(),
        owner=text["owner"].strip(),
        expires=_expiry(at, entry["expires"]),
        kind=_kind(at, text.get("kind", "*")),
        namespace=text.get("namespace", "*"),
        name=text.get("name", "*"),
        ticket=text.get("ticket", "").strip(),
        source=label,
    )


def _text_field(at: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{at}: field {key!r}: expected a string, got {_shown(value)}")
    if len(value) > _TEXT_LIMIT:
        raise PolicyError(f"{at}: field {key!r} is longer than {_TEXT_LIMIT} characters")
    return value


def _expiry(at: str, value: object) -> date:
    if isinstance(value, datetime):
        raise PolicyError(f"{at}: field 'expires': expected a date like 2026-06-30, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PolicyError(f"{at}: field 'expires': expected a date like 2026-06-30, got {_shown(value)}")


def _kind(at: str, value: str) -> str:
    """A known Kind, matched case-insensitively and returned as the API spells it."""
    if value == "*":
        return value
    known = {k.lower(): k for k in (*KINDS_BY_KIND, *PSEUDO_KINDS)}
    if value.lower() in known:
        return known[value.lower()]
    raise PolicyError(f"{at}: field 'kind': unknown kind {value!r}{_suggest(value, known.values())}")


def _suggest(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shown(value: object) -> str:
    return f"{type(value).__name__} {str(value)[:40]!r}"


# -- writing ------------------------------------------------------------------------------------


def append_waiver(path: str | os.PathLike[str], waiver: Waiver) -> Waiver:
    """Add `waiver` as a new `[[waiver]]` entry at the end of the policy file at `path`.

    The file keeps its comments, order and formatting (tomlkit round-trips it); it is created
    when missing. The existing file must be valid, and the result is validated before it
    replaces the file atomically. Returns the waiver as read back (with its source).
    """
    import tomlkit

    target = Path(path).expanduser()
    old_text = ""
    if target.exists():
        old_text = read_text(target)
        before = parse_policy(old_text, target)
    else:
        before = Policy(target)
    _validate_new(waiver, target)
    try:
        document = tomlkit.parse(old_text) if old_text else _new_document()
    except tomlkit.exceptions.ParseError as exc:  # tomllib accepted it; tomlkit should too
        raise PolicyError(f"{target}: cannot edit: {exc}") from None
    entries = document.get("waiver")
    table = _waiver_table(waiver)
    if entries is None:
        entries = tomlkit.aot()
        entries.append(table)
        document.append("waiver", entries)
    elif isinstance(entries, tomlkit.items.AoT):
        entries.append(table)
    elif isinstance(entries, tomlkit.items.Array):
        entries.append(_waiver_inline(waiver))
    else:
        raise PolicyError(f"{target}: 'waiver' must be an array of tables ([[waiver]] entries)")
    new_text = tomlkit.dumps(document)
    after = parse_policy(new_text, target)
    if len(after.waivers) != len(before.waivers) + 1:
        raise PolicyError(f"{target}: the new waiver could not be added")
    _write_text(target, new_text)
    return after.waivers[-1]


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read waivers file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None


def _validate_new(waiver: Waiver, target: Path) -> None:
    """The same rules as a waiver read from the file."""
    _parse_waiver(_entry_values(waiver), f"{target}: new waiver", str(target))


def _entry_values(waiver: Waiver) -> dict[str, Any]:
    """The waiver as file fields, defaults left out so the entry reads like a hand-written one."""
    values: dict[str, Any] = {"check": waiver.check}
    for key in ("kind", "namespace", "name"):
        if getattr(waiver, key) != "*":
            values[key] = getattr(waiver, key)
    values.update(reason=waiver.reason, owner=waiver.owner, expires=waiver.expires)
    if waiver.ticket:
        values["ticket"] = waiver.ticket
    return values


def _new_document() -> Any:
    import tomlkit

    document = tomlkit.document()
    for line in _NEW_FILE_HEADER.splitlines():
        document.add(tomlkit.comment(line))
    document.add(tomlkit.nl())
    return document


def _waiver_table(waiver: Waiver) -> Any:
    import tomlkit

    table = tomlkit.table()
    for key, value in _entry_values(waiver).items():
        table.add(key, value)
    return table


def _waiver_inline(waiver: Waiver) -> Any:
    import tomlkit

    table = tomlkit.inline_table()
    table.update(_entry_values(waiver))
    return table


def _write_text(target: Path, text: str) -> None:
    """Atomic replace that keeps the file's permissions (0644 for a new file)."""
    directory = target.parent
    if not directory.is_dir():
        raise PolicyError(f"cannot write {target}: directory {directory} does not exist")
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise PolicyError(f"cannot write {target}: {exc.strerror or exc}") from None

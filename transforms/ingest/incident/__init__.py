"""The incident file: one TOML file parsed once into frozen, validated objects.

Everything the pipeline needs to know about an incident (its window, where the inputs are and
the credit policy) comes from here; no transform reads the file or the environment itself.
Pydantic models describe the file, table by table: their fields hold the defaults, their
docstrings become the descriptions of `incident.schema.json` (`json_schema()`), and every
mistake, an unknown key included, is a `ConfigError` naming the file and the dotted key. Paths
are resolved against the incident file's folder.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.json_schema import GenerateJsonSchema

from transforms import files
from transforms.errors import ConfigError, StorageError
from transforms.ingest.incident.file import IncidentFile, PolicyFile
from transforms.ingest.incident.model import Incident, Sources, TableSource
from transforms.ingest.incident.moments import quoted_fine_edges
from transforms.ingest.incident.sections import LogFormat, Policy, WindowDetection
from transforms.ingest.incident.values import (
    LOG_FIELDS,
    TableKind,
    first_error,
    resolved,
)

__all__ = [
    "LOG_FIELDS",
    "Incident",
    "IncidentFile",
    "LogFormat",
    "Policy",
    "Sources",
    "TableKind",
    "TableSource",
    "WindowDetection",
    "json_schema",
    "load",
    "load_policy",
    "read_toml",
]


def load(path: Path) -> Incident:
    """Reads and validates an incident file; raises `ConfigError` naming the file and key."""
    given, path = str(path), resolved(Path(path), "an incident file")
    if path.is_dir():
        raise ConfigError(
            f"{path}: a folder, not an incident file; give one of its incident files "
            f"(*.toml: {_incident_files(path)})"
        )
    if not path.exists():
        meant = _found_near(path)
        if meant:
            raise ConfigError(
                f"{path}: incident file not found; did you mean {' or '.join(map(str, meant[:3]))}?"
            )
        if not path.parent.is_dir():
            raise ConfigError(
                f"{path}: incident file not found (the folder {path.parent} does not exist)"
                f"{files.shell_hint(given)}"
            )
        raise ConfigError(
            f"{path}: incident file not found; the incident files in {path.parent}: "
            f"{_incident_files(path.parent, path.name)}"
        )
    raw = read_toml(path, "incident file")
    try:
        return IncidentFile.model_validate(raw).incident(path)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_misplaced_key(raw) or first_error(error)}") from None
    except ConfigError as error:  # a table's path (a loop of links): named in this file
        raise ConfigError(f"{path}: {error}") from None


def load_policy(path: Path) -> Policy:
    """Reads a policy file: a `[policy]` table in the incident file's syntax, with its checks
    (an incident file gives its own policy); raises `ConfigError` naming the file and the
    dotted key (`policy.flat_minor.EUR`)."""
    path = resolved(Path(path), "a policy file")
    raw = read_toml(path, "policy file")
    if "policy" in raw and set(raw) <= set(IncidentFile.model_fields):  # an incident file:
        raw = {"policy": raw["policy"]}  # its policy, as the run would use it
    elif raw and set(raw) <= set(Policy.model_fields):  # the policy's keys, without the header
        raise ConfigError(
            f"{path}: {', '.join(sorted(raw))}: the policy's keys go under a [policy] table: "
            "add the line [policy] above them"
        )
    elif raw and set(raw) <= set(_rates_keys()):  # `--policy rates.toml`: the files swapped
        raise ConfigError(
            f"{path}: a rates file ({', '.join(_rates_keys())}), not a policy: give it as "
            "--rates, and a file with a [policy] table as --policy"
        )
    try:
        return PolicyFile.model_validate(raw).policy
    except ValidationError as error:
        raise ConfigError(f"{path}: {first_error(error)}") from None


def _misplaced_key(raw: dict[str, Any]) -> str | None:
    """A key written below the wrong table line, named with the table it belongs to (TOML gives
    a key to the `[table]` line above it: `timezone` below `[sources]` is `sources.timezone`,
    and the file's own then "is required"); None when every key is at home."""
    fields = {None: set(IncidentFile.model_fields)} | {
        name: set(IncidentFile.model_fields[name].annotation.model_fields)  # type: ignore[union-attr]
        for name in _TABLES
    }
    homes: dict[str, list[str | None]] = {}
    for table, keys in fields.items():
        for key in keys - set(_TABLES):
            homes.setdefault(key, []).append(table)
    for table, written in [(None, raw)] + [(t, raw[t]) for t in _TABLES if t in raw]:
        if not isinstance(written, dict):
            continue
        for key in sorted(set(written) - fields[table]):
            if len(homes.get(key, ())) != 1:
                continue
            home = homes[key][0]
            below = "above the first [table] line" if home is None else f"below the [{home}] line"
            return (
                f"{key if table is None else f'{table}.{key}'}: a key of {_place(home)}, not of "
                f"{_place(table)}: TOML gives a key to the [table] line above it; write it {below}"
            )
    return None


_TABLES = ("sources", "policy", "quality", "window_detection")


def _place(table: str | None) -> str:
    return "the file's top" if table is None else f"[{table}]"


def _rates_keys() -> list[str]:
    """A rates file's keys (`credits what-if --rates`), to tell one given as a policy."""
    from transforms.ingest.rates import RatesFile  # which imports this module

    return list(RatesFile.model_fields)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file (an incident, policy or rates file) as a dict, floats as exact decimals;
    a `ConfigError` naming the file (and the line) when it cannot be read as one."""
    if path.exists() and not path.is_file() and not path.is_dir():
        # a named pipe without a writer: the read would wait forever
        raise ConfigError(f"{path}: not a regular file (a named pipe or a device); give the {what}")
    text = ""
    try:
        # utf-8-sig: a byte-order mark an editor put first is not a TOML error
        text = quoted_fine_edges(path.read_text(encoding="utf-8-sig"))
        return tomllib.loads(text, parse_float=Decimal)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found; {_toml_files_beside(path)}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder, not a {what}") from None
    except PermissionError as error:  # the machine refusing, as an unreadable table or log
        raise StorageError(
            f"{path}: cannot be read by this user ({error.strerror}); make the {what} readable, "
            "then run again"
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not a valid TOML file: {_not_utf8(error)}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not a valid TOML file: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not a valid TOML file: nested too deeply") from None
    except ValueError as error:  # an integer past the digits Python converts (4,300)
        raise ConfigError(f"{path}: not a valid TOML file: {_too_long(text, error)}") from None


def _too_long(text: str, error: ValueError) -> str:
    """Where the integer too long for Python to read is, and how long it is."""
    most = sys.get_int_max_str_digits()
    found = re.search(rf"[0-9](?:_?[0-9]){{{most},}}", text)
    if found is None:
        return str(error)
    line = text.count("\n", 0, found.start()) + 1
    digits = len(found.group().replace("_", ""))
    return (
        f"line {line}: a number of {digits:,} digits, more than the {most:,} read: no amount or "
        "setting is that large"
    )


def _not_utf8(error: UnicodeDecodeError) -> str:
    """Where the byte that is not UTF-8 is, as a line and column (Python names its offset)."""
    before = error.object[: error.start]
    line = before.count(b"\n") + 1
    column = error.start - (before.rfind(b"\n") + 1) + 1
    return (
        f"byte {error.object[error.start]:#04x} at byte {column} of line {line} is not UTF-8 "
        "(save the file as UTF-8)"
    )


def _found_near(path: Path) -> list[Path]:
    """The files named as `path` is (or with `.toml` added: an incident's id) below its nearest
    existing folder (`files.near`): `INC-2025-01-07` given from the project's folder, or
    `sample/INC-2025-01-07.toml` without its `data/`; the nearest first."""
    wanted = {path.name, f"{path.name}.toml"} - {".toml"}
    where = files.nearest_folder(path.parent)
    found = [
        folder / name for folder, names in files.near(where) for name in names if name in wanted
    ]
    return sorted(found, key=lambda found: (len(found.parts), found))  # the nearest first


def _toml_files_beside(path: Path) -> str:
    """Where to look for a policy or rates file mistyped: its folder's `*.toml` files, the one
    closest to its name as a did-you-mean, or that the folder does not exist."""
    if not path.parent.is_dir():  # `~/p.toml` quoted, as the incident file's message says it
        shell = any(files.shell_hint(part) for part in path.parent.parts)
        return f"the folder {path.parent} does not exist" + (
            f"; {files.NOT_EXPANDED}" if shell else ""
        )
    listed = _toml_files(path.parent, path.name)
    return (
        f"the TOML files in {path.parent}: {listed}"
        if listed
        else f"{path.parent} holds no .toml file"
    )


def _incident_files(folder: Path, meant: str | None = None) -> str:
    """The folder's `*.toml` files, the one closest to `meant` named first as a did-you-mean;
    with none, those of its folders (an incident kept in a folder of its own, beside its logs
    and tables: `INC-2026-03-02/INC-2026-03-02.toml`), the first five."""
    listed = _toml_files(folder, meant)
    if listed:
        return listed
    from transforms.ingest.incident.folder import files_below

    below = files_below(folder)
    more = f" and {len(below) - 5} more" if len(below) > 5 else ""
    return f"none there; in its folders: {', '.join(below[:5])}{more}" if below else "none there"


def _toml_files(folder: Path, meant: str | None) -> str:
    """The folder's `*.toml` files, and the one closest to `meant` as a did-you-mean; "" if
    it holds none."""
    found = sorted(p.name for p in folder.glob("*.toml"))
    close = difflib.get_close_matches(meant, found, n=1) if meant else []
    return ", ".join(found) + (f" (did you mean {close[0]}?)" if close else "")


def json_schema() -> str:
    """The incident file's JSON Schema, the text of `incident.schema.json` (`make schema`)."""
    schema = IncidentFile.model_json_schema(schema_generator=_TomlSchema)
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _TomlSchema(GenerateJsonSchema):
    """The schema of a TOML file: no null (TOML has none), no generated titles, exact numbers."""

    def nullable_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> Any:
        if self.get_default_value(schema) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def encode_default(self, default: Any) -> Any:
        return float(default) if isinstance(default, Decimal) else super().encode_default(default)

"""Generic incidents from CSV rows (and from a JSON list, for the CLI).

The columns are the generic model flattened (see COLUMNS). An empty cell is an absent
field; `tags` and `links` are ";"-separated, `customFields` is a JSON object. Rows are
numbered from 1 for the first data row (the header is not counted; a quoted cell may span
several lines, so row numbers count records, not lines).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ingest.model import GenericIncident

# CSV column -> path in the generic incident (camelCase, as on the wire).
COLUMN_PATHS: dict[str, tuple[str, ...]] = {
    "sourceType": ("sourceType",),
    "sourceRef": ("sourceRef",),
    "title": ("title",),
    "start": ("timeline", "start"),
    "end": ("timeline", "end"),
    "detectedAt": ("timeline", "detectedAt"),
    "resolvedAt": ("timeline", "resolvedAt"),
    "description": ("description",),
    "severity": ("severity",),
    "status": ("status",),
    "service": ("metadata", "service"),
    "region": ("metadata", "region"),
    "environment": ("metadata", "environment"),
    "team": ("metadata", "team"),
    "tags": ("metadata", "tags"),
    "customFields": ("metadata", "customFields"),
    "links": ("links",),
    "windowMinutesBefore": ("collectionContext", "windowMinutesBefore"),
    "windowMinutesAfter": ("collectionContext", "windowMinutesAfter"),
    "forceCollect": ("collectionContext", "forceCollect"),
}
COLUMNS: tuple[str, ...] = tuple(COLUMN_PATHS)
REQUIRED_COLUMNS: tuple[str, ...] = ("sourceType", "sourceRef", "title", "start")
LIST_SEPARATOR = ";"
_COLUMN_BY_PATH = {path: column for column, path in COLUMN_PATHS.items()}
_VALUE_ERROR_PREFIX = "Value error, "


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, CSV syntax): nothing should be imported."""


class CsvHeaderError(CsvFileError):
    """The header names unknown columns, repeats one or misses a required one."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class CsvRow:
    """One data row: its incident when valid, else every problem found in it.

    `source_ref` is the row's sourceRef as written (kept for the report even when invalid).
    """

    number: int
    incident: GenericIncident | None
    errors: list[FieldError] = field(default_factory=list)
    source_ref: str | None = None


def read_rows(lines: Iterable[str]) -> Iterator[CsvRow]:
    """Validate the header, then yield each non-blank data row, valid or not.

    Raises CsvHeaderError before yielding anything when the header is wrong, and
    CsvFileError (naming the row) when a line is not UTF-8 or the CSV syntax is broken.
    """
    reader = csv.reader(lines)
    header = _read_header(reader)
    for number, cells in _numbered_records(reader):
        if any(cell.strip() for cell in cells):
            yield _row(number, header, cells)


def count_rows(lines: Iterable[str]) -> int:
    """Check the header, encoding and CSV syntax of the whole file; the number of data rows.

    A cheap first pass: lets a caller refuse a broken file before importing any row.
    """
    reader = csv.reader(lines)
    _read_header(reader)
    return sum(1 for _, cells in _numbered_records(reader) if any(cell.strip() for cell in cells))


def decode_lines(lines: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 text lines from binary lines (a leading BOM is dropped), one line at a time.

    Decoding per line (rather than per buffer) lets an encoding error name its row.
    """
    for index, raw in enumerate(lines):
        line = raw.decode("utf-8-sig" if index == 0 else "utf-8")
        yield line


def read_json_incidents(data: Any) -> Iterator[CsvRow]:
    """Rows from a decoded JSON document: a list of generic incidents or {"incidents": [...]}.

    Raises CsvFileError when the document has neither shape.
    """
    items = data.get("incidents") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise CsvFileError(
            'expected a JSON list of incidents or an object {"incidents": [...]} '
            "in the generic format"
        )
    for number, item in enumerate(items, start=1):
        try:
            incident = GenericIncident.model_validate(item)
        except ValidationError as err:
            yield CsvRow(number, None, _json_field_errors(err), _json_source_ref(item))
        else:
            yield CsvRow(number, incident, source_ref=incident.source_ref)


def _read_header(reader: Iterator[list[str]]) -> list[str]:
    try:
        first = next(reader)
    except StopIteration:
        raise CsvHeaderError(
            f"the file is empty; its first line must be a header naming columns from: "
            f"{', '.join(COLUMNS)}"
        ) from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise CsvFileError(f"the header line cannot be read: {_describe(err)}") from None
    header = [name.strip() for name in first]
    if header:  # a BOM left by a reader that did not use utf-8-sig
        header[0] = header[0].removeprefix("\ufeff").strip()
    _check_header(header)
    return header


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMN_PATHS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if unknown:
        problems.append(f"unknown column(s): {', '.join(repr(name) for name in unknown)}")
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        raise CsvHeaderError(
            f"the CSV header is wrong: {'; '.join(problems)}. Known columns: "
            f"{', '.join(COLUMNS)} (required: {', '.join(REQUIRED_COLUMNS)})"
        )


def _numbered_records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as err:
            raise CsvFileError(f"row {number} cannot be read: {_describe(err)}") from None
        yield number, cells


def _describe(err: UnicodeDecodeError | csv.Error) -> str:
    if isinstance(err, UnicodeDecodeError):
        return (
            f"it is not UTF-8 (invalid byte 0x{err.object[err.start]:02x} at byte "
            f"{err.start} of its line); save the file as UTF-8"
        )
    return f"malformed CSV ({err})"


def _row(number: int, header: list[str], cells: list[str]) -> CsvRow:
    present = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
    source_ref = present.get("sourceRef") or None
    if len(cells) > len(header):
        message = f"the row has {len(cells)} cells but the header has {len(header)} columns"
        return CsvRow(number, None, [FieldError("row", message)], source_ref)
    document, errors = _document({name: value for name, value in present.items() if value})
    try:
        incident = GenericIncident.model_validate(document)
    except ValidationError as err:
        errors += _csv_field_errors(err)
    else:
        if not errors:
            return CsvRow(number, incident, source_ref=incident.source_ref)
    return CsvRow(number, None, errors, source_ref)


def _document(cells: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The nested generic document the cells describe, and the cells that cannot be read."""
    document: dict[str, Any] = {}
    errors: list[FieldError] = []
    for column, text in cells.items():
        try:
            value = _cell_value(column, text)
        except ValueError as err:
            errors.append(FieldError(column, str(err)))
            continue
        *parents, leaf = COLUMN_PATHS[column]
        target = document
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return document, errors


def _cell_value(column: str, text: str) -> Any:
    if column == "tags":
        return _split(text)
    if column == "links":
        return [{"url": url} for url in _split(text)]
    if column == "customFields":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"must be a JSON object ({err})") from None
    return text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _csv_field_errors(err: ValidationError) -> list[FieldError]:
    return [
        FieldError(_column_for(tuple(map(str, e["loc"])), e["msg"]), _clean(e["msg"]))
        for e in err.errors(include_url=False, include_input=False)
    ]


def _column_for(loc: tuple[str, ...], message: str) -> str:
    """The CSV column an error's location belongs to (the longest known path prefix)."""
    for size in range(len(loc), 0, -1):
        column = _COLUMN_BY_PATH.get(loc[:size])
        if column is not None:
            return column
    if loc == ("timeline",):
        # The timeline's own check names the offending field first: "end (...) is before start".
        named = _clean(message).split(" ", 1)[0]
        return named if named in COLUMN_PATHS else "start"
    return ".".join(loc) or "row"


def _json_field_errors(err: ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(map(str, e["loc"])) or "(incident)", _clean(e["msg"]))
        for e in err.errors(include_url=False, include_input=False)
    ]


def _json_source_ref(item: Any) -> str | None:
    ref = item.get("sourceRef") if isinstance(item, dict) else None
    return (ref.strip() or None) if isinstance(ref, str) else None


def _clean(message: str) -> str:
    return message.removeprefix(_VALUE_ERROR_PREFIX)

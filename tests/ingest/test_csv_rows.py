"""CSV rows and JSON lists to generic incidents, with every error of a row by column name."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from ingest.csv_rows import (
    COLUMNS,
    REQUIRED_COLUMNS,
    CsvFileError,
    CsvHeaderError,
    CsvRow,
    FieldError,
    count_rows,
    decode_lines,
    read_json_incidents,
    read_rows,
)
from ingest.model import GenericSeverity, SourceStatus, SourceType

HEADER = "sourceType,sourceRef,title,start"
START = "2024-05-01T10:00:00Z"


def rows(text: str) -> list[CsvRow]:
    return list(read_rows(io.StringIO(text, newline="")))


def errors_of(row: CsvRow) -> list[str]:
    return [str(error) for error in row.errors]


def test_every_documented_column_lands_in_the_generic_incident() -> None:
    header = ",".join(COLUMNS)
    cells = [
        "PAGERDUTY",
        " pd-123 ",
        "Checkout 5xx",
        START,
        "2024-05-01T11:00:00Z",
        "2024-05-01T10:01:00+00:00",
        "2024-05-01T11:30:00Z",
        "Errors on /pay",
        "high",
        "resolved",
        "checkout",
        "eu-west-1",
        "prod",
        "payments",
        "a; b ;;c",
        '"{""owner"": ""ana"", ""n"": 2}"',
        "https://pd.example/1; https://grafana.example/d",
        "5",
        "30",
        "true",
    ]
    [row] = rows(f"{header}\n{','.join(cells)}\n")
    assert row.errors == []
    incident = row.incident
    assert incident is not None
    assert incident.source_type is SourceType.PAGERDUTY
    assert incident.source_ref == "pd-123"
    assert incident.title == "Checkout 5xx"
    assert incident.timeline.start == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert incident.timeline.end == datetime(2024, 5, 1, 11, tzinfo=UTC)
    assert incident.timeline.detected_at == datetime(2024, 5, 1, 10, 1, tzinfo=UTC)
    assert incident.timeline.resolved_at == datetime(2024, 5, 1, 11, 30, tzinfo=UTC)
    assert incident.description == "Errors on /pay"
    assert incident.severity is GenericSeverity.HIGH
    assert incident.status is SourceStatus.RESOLVED
    meta = incident.metadata
    assert (meta.service, meta.region, meta.environment, meta.team) == (
        "checkout",
        "eu-west-1",
        "prod",
        "payments",
    )
    assert meta.tags == ["a", "b", "c"]
    assert meta.custom_fields == {"owner": "ana", "n": 2}
    assert [link.url for link in incident.links] == [
        "https://pd.example/1",
        "https://grafana.example/d",
    ]
    context = incident.collection_context
    assert (context.window_minutes_before, context.window_minutes_after) == (5, 30)
    assert context.force_collect is True


def test_empty_cells_are_absent_fields() -> None:
    header = "sourceType,sourceRef,title,start,severity,service,tags,windowMinutesBefore"
    [row] = rows(f"{header}\nCUSTOM,r1,Disk full,{START},, ,,\n")
    assert row.incident is not None
    assert row.incident.severity is None
    assert row.incident.metadata.service is None
    assert row.incident.metadata.tags == []
    assert row.incident.collection_context.window_minutes_before == 15


def test_every_error_of_a_row_is_reported_by_column_name() -> None:
    header = (
        "sourceType,sourceRef,title,start,severity,windowMinutesBefore,customFields,forceCollect"
    )
    [row] = rows(f"{header}\nNOPE,r1,,2024-05-01T10:00:00,urgent,0,{{bad,maybe\n")
    assert row.incident is None
    assert {error.field for error in row.errors} == {
        "sourceType",
        "title",
        "start",
        "severity",
        "windowMinutesBefore",
        "customFields",
        "forceCollect",
    }
    messages = errors_of(row)
    assert "start: Input should have timezone info" in messages
    assert "title: Field required" in messages
    assert "windowMinutesBefore: Input should be greater than or equal to 1" in messages
    assert any(m.startswith("customFields: must be a JSON object") for m in messages)


def test_custom_fields_must_be_an_object() -> None:
    [row] = rows(f"{HEADER},customFields\nCUSTOM,r1,t,{START},[1]\n")
    assert row.incident is None
    assert [error.field for error in row.errors] == ["customFields"]


def test_an_end_before_start_is_reported_on_the_column_at_fault() -> None:
    [ended, resolved] = rows(
        f"{HEADER},end,resolvedAt\n"
        f"CUSTOM,r1,t,{START},2024-04-01T00:00:00Z,\n"
        f"CUSTOM,r2,t,{START},,2024-04-01T00:00:00Z\n"
    )
    assert errors_of(ended) == ["end: end (2024-04-01T00:00:00+00:00) is before start"]
    assert errors_of(resolved) == [
        "resolvedAt: resolvedAt (2024-04-01T00:00:00+00:00) is before start"
    ]


def test_a_missing_start_cell_is_reported_as_start() -> None:
    [row] = rows(f"{HEADER}\nCUSTOM,r1,t,\n")
    assert errors_of(row) == ["start: Field required"]


def test_limits_of_the_generic_model_apply() -> None:
    long_ref, long_title = "r" * 513, "t" * 501
    [row] = rows(f"{HEADER},description\nCUSTOM,{long_ref},{long_title},{START},{'d' * 5001}\n")
    assert {error.field for error in row.errors} == {"sourceRef", "title", "description"}


def test_a_row_with_more_cells_than_the_header_is_an_error() -> None:
    [row] = rows(f"{HEADER}\nCUSTOM,r1,t,{START},surplus\n")
    assert row.incident is None
    assert row.errors == [FieldError("row", "the row has 5 cells but the header has 4 columns")]


def test_rows_are_numbered_from_the_first_data_row_and_blank_rows_are_skipped() -> None:
    text = (
        f"{HEADER}\n"
        f"CUSTOM,r1,t,{START}\n"
        ",,,\n"
        "\n"
        f'CUSTOM,r2,"two\nlines",{START}\n'
        f"CUSTOM,r3,,{START}\n"
    )
    numbered = [(row.number, row.incident is not None) for row in rows(text)]
    assert numbered == [(1, True), (4, True), (5, False)]
    assert count_rows(io.StringIO(text, newline="")) == 3


def test_header_names_are_trimmed_and_a_bom_is_ignored() -> None:
    [row] = rows(f"\ufeff sourceType , sourceRef,title,start\nCUSTOM,r1,t,{START}\n")
    assert row.incident is not None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "sourceType,sourceRef,title,start,owner,Severity",
            "unknown column(s): 'owner', 'Severity'",
        ),
        ("sourceType,title", "missing required column(s): sourceRef, start"),
        ("sourceType,sourceRef,title,start,title", "repeated column(s): title"),
    ],
)
def test_a_wrong_header_is_refused_before_any_row(header: str, expected: str) -> None:
    with pytest.raises(CsvHeaderError) as caught:
        next(read_rows(io.StringIO(f"{header}\nCUSTOM,r1,t,{START}\n")))
    message = str(caught.value)
    assert expected in message
    assert f"Known columns: {', '.join(COLUMNS)}" in message
    assert f"required: {', '.join(REQUIRED_COLUMNS)}" in message


def test_an_empty_file_is_a_header_error() -> None:
    with pytest.raises(CsvHeaderError, match="the file is empty"):
        count_rows(io.StringIO(""))


def test_a_line_that_is_not_utf8_names_its_row() -> None:
    data = (
        f"{HEADER}\nCUSTOM,r1,t,{START}\nCUSTOM,r2,caf\xe9,{START}\n".encode("latin-1")
        + f"CUSTOM,r3,t,{START}\n".encode()
    )
    with pytest.raises(CsvFileError) as caught:
        count_rows(decode_lines(io.BytesIO(data)))
    assert "row 2 cannot be read" in str(caught.value)
    assert "not UTF-8" in str(caught.value)
    seen = []
    with pytest.raises(CsvFileError, match="row 2 "):
        for row in read_rows(decode_lines(io.BytesIO(data))):
            seen.append(row.number)
    assert seen == [1]


def test_decode_lines_drops_a_utf8_bom_and_keeps_line_endings() -> None:
    data = "\ufeffa,b\r\nc,\u00e9\r\n".encode()
    assert list(decode_lines(io.BytesIO(data))) == ["a,b\r\n", "c,\u00e9\r\n"]


def test_broken_csv_syntax_names_its_row() -> None:
    with pytest.raises(CsvFileError, match="row 2 cannot be read: malformed CSV"):
        huge = "d" * 200_000  # over the csv module's field size limit
        count_rows(io.StringIO(f"{HEADER}\nCUSTOM,r1,t,{START}\nCUSTOM,r2,{huge},{START}\n"))


def test_json_lists_and_incidents_objects_give_numbered_rows() -> None:
    good = {
        "sourceType": "CUSTOM",
        "sourceRef": "j1",
        "title": "From JSON",
        "timeline": {"start": START},
    }
    bad = {"sourceType": "CUSTOM", "sourceRef": "j2", "timeline": {"start": "yesterday"}}
    for document in ([good, bad, 7], {"incidents": [good, bad, 7]}):
        first, second, third = read_json_incidents(document)
        assert first.number == 1
        assert first.incident is not None and first.incident.source_ref == "j1"
        assert second.number == 2 and second.incident is None
        assert {error.field for error in second.errors} == {"title", "timeline.start"}
        assert third.incident is None and third.errors[0].field == "(incident)"


@pytest.mark.parametrize("document", [{"items": []}, "text", 3, None])
def test_json_of_another_shape_is_refused(document: object) -> None:
    with pytest.raises(CsvFileError, match="expected a JSON list of incidents"):
        list(read_json_incidents(document))

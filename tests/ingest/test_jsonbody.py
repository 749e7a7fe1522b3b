"""parse_json: the value of a good body, and an actionable error for each bad one."""

from __future__ import annotations

import json

import pytest

from core.errors import BadRequestError, UnsupportedMediaTypeError
from ingest.jsonbody import parse_json

JSON = "application/json"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.pagerduty+json",
        "application/merge-patch+json; charset=UTF-8",
    ],
)
def test_json_content_types_are_accepted(content_type: str) -> None:
    assert parse_json(b'{"a": [1, 2.5, "x"]}', content_type) == {"a": [1, 2.5, "x"]}


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "'text/plain'"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
        ("multipart/form-data; boundary=x", "'multipart/form-data'"),
        ("application/jsonp", "'application/jsonp'"),
        (None, "no Content-Type was sent"),
        ("", "no Content-Type was sent"),
    ],
)
def test_other_content_types_get_415_telling_what_to_send(
    content_type: str | None, named: str
) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_json(b'{"a": 1}', content_type)
    message = str(caught.value)
    assert named in message
    assert "Content-Type: application/json" in message
    assert "curl -d" in message


@pytest.mark.parametrize("body", [b"", b"  \n\t "])
def test_an_empty_body_is_refused(body: bytes) -> None:
    with pytest.raises(BadRequestError, match="the request body is empty"):
        parse_json(body, JSON)


def test_bytes_that_are_not_utf8_are_refused_with_their_offset() -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_json(b'{"title": "caf\xe9"}', JSON)
    assert "not UTF-8" in str(caught.value)
    assert "0xe9 at byte offset 14" in str(caught.value)


def test_a_utf8_bom_is_tolerated() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": "\xc3\xa9"}', JSON) == {"a": "\u00e9"}


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_json(b'{\n  "title": "x",\n  "severity": }', JSON)
    assert "not valid JSON" in str(caught.value)
    assert "line 3 column 15" in str(caught.value)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    body = b"[" * 32 + b"]" * 32
    value = parse_json(body, JSON)
    for _ in range(31):
        value = value[0]
    assert value == []


@pytest.mark.parametrize("depth", [33, 100_000])
def test_nesting_deeper_than_the_limit_is_refused(depth: int) -> None:
    body = b'{"a":' * depth + b"1" + b"}" * depth
    with pytest.raises(BadRequestError, match="nested more than 32 levels deep"):
        parse_json(body, JSON)


def test_the_depth_limit_is_a_parameter() -> None:
    with pytest.raises(BadRequestError, match="nested more than 2 levels"):
        parse_json(b'{"a": {"b": {"c": 1}}}', JSON, max_depth=2)
    assert parse_json(b'{"a": {"b": 1}}', JSON, max_depth=2) == {"a": {"b": 1}}


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = "[" * 40 + '"]{ \\'
    body = json.dumps({"note": text}).encode()
    assert parse_json(body, JSON, max_depth=1) == {"note": text}


def test_deep_nesting_past_the_interpreter_recursion_limit_is_a_clear_error() -> None:
    body = b"[" * 50_000 + b"]" * 50_000
    with pytest.raises(BadRequestError, match="nested more than"):
        parse_json(body, JSON, max_depth=10**9)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(literal: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_json(f'{{"value": {literal}}}'.encode(), JSON)
    assert literal in str(caught.value)
    assert "JSON does not allow" in str(caught.value)


def test_a_number_too_large_for_a_float_is_refused() -> None:
    with pytest.raises(BadRequestError, match="1e999, out of range"):
        parse_json(b'{"value": 1e999}', JSON)


def test_messages_name_the_source_given() -> None:
    with pytest.raises(BadRequestError, match=r"^the file is not valid JSON: "):
        parse_json(b"{", JSON, source="the file")
    with pytest.raises(BadRequestError, match=r"^the file contains NaN"):
        parse_json(b"[NaN]", JSON, source="the file")

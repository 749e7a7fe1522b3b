"""`metadata.tags`: the guide's object of key -> value, or the list CSV rows and vendors send."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ingest.csv_rows import read_rows
from ingest.model import Metadata
from ingest.tags import MAX_TAGS


def tags_of(value: Any) -> list[str]:
    return Metadata.model_validate({"tags": value}).tags


def test_an_object_becomes_key_value_tags_sorted_by_key_whatever_its_order() -> None:
    assert tags_of({"environment": "production", "component": "api"}) == [
        "component:api",
        "environment:production",
    ]
    assert tags_of({"component": "api", "environment": "production"}) == [
        "component:api",
        "environment:production",
    ]


def test_a_list_is_kept_as_sent() -> None:
    assert tags_of(["web", "checkout", "web"]) == ["web", "checkout", "web"]


def test_numbers_and_booleans_are_their_json_text_and_text_is_kept_exactly() -> None:
    sent = {"retries": 3, "canary": False, "ratio": 0.25, "note": " spaced ", "empty": ""}
    assert tags_of(sent) == [
        "canary:false",
        "empty:",
        "note: spaced ",
        "ratio:0.25",
        "retries:3",
    ]


def test_an_object_of_exactly_the_limit_is_accepted() -> None:
    assert len(tags_of({f"k{n:02}": "v" for n in range(MAX_TAGS)})) == MAX_TAGS


@pytest.mark.parametrize(
    ("value", "location", "message"),
    [
        ({"a": None}, ("tags", "a"), "not null"),
        ({"a": ["x"]}, ("tags", "a"), "not a list"),
        ({"k" * 101: "v"}, ("tags", "k" * 101, "[key]"), "at most 100 characters"),
        ({"k": "v" * 199}, ("tags", "k"), "would be 201 characters"),
        (7, ("tags",), "a list of tags or an object of key to value"),
        (["x" * 201], ("tags", 0), "at most 200 characters"),
    ],
)
def test_each_bad_tag_is_refused_at_its_path(
    value: Any, location: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        tags_of(value)
    [error] = raised.value.errors()
    assert error["loc"] == location
    assert message in error["msg"]


def test_a_csv_row_still_sends_its_tags_as_a_list() -> None:
    lines = [
        "sourceType,sourceRef,title,start,tags",
        "CUSTOM,r-1,Disk full,2024-05-01T10:00:00Z,disk; db ;prod",
    ]
    [row] = list(read_rows(iter(lines)))
    assert row.incident is not None
    assert row.incident.metadata.tags == ["disk", "db", "prod"]

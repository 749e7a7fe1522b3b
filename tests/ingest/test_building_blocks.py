"""The shared helpers: limits of the model, tolerant readers, severity scales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest import severity
from ingest.model import GenericSeverity
from ingest.sources import _build, _fields
from tests.ingest.payloads import RECEIVED_AT


def test_cut_keeps_short_text_and_ends_long_text_with_an_ellipsis() -> None:
    assert _build.cut("  short  ", 10) == "short"
    assert _build.cut("x" * 11, 10) == "x" * 9 + "…"
    assert len(_build.cut("x" * 10_000, 500)) == 500


def test_source_ref_that_is_too_long_stays_unique() -> None:
    first = _build.source_ref("a" * 600 + "1")
    second = _build.source_ref("a" * 600 + "2")

    assert len(first) == len(second) == _build.SOURCE_REF_LIMIT
    assert first != second
    assert _build.source_ref(" PRORDTY ") == "PRORDTY"


def test_links_keep_absolute_http_urls_once_and_at_most_twenty() -> None:
    candidates: list[tuple[str | None, str]] = [
        ("https://a.example/1", "one"),
        ("https://a.example/1", "again"),
        ("/relative", "relative"),
        ("ftp://a.example/file", "ftp"),
        ("javascript:alert(1)", "script"),
        (None, "none"),
        *((f"http://b.example/{index}", "many") for index in range(30)),
    ]

    links = _build.links(candidates)

    assert links[0].url == "https://a.example/1" and links[0].label == "one"
    assert len(links) == 20
    assert all(link.url.startswith(("http://", "https://")) for link in links)


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://x.example/a", None, "https://x.example/a"),
        ("/graph?g0=1", "http://am:9093", "http://am:9093/graph?g0=1"),
        ("?orgId=1", "https://grafana.example.com/", "https://grafana.example.com/?orgId=1"),
        ("/graph", "/prefix", None),
        ("/graph", None, None),
        ("", "http://am:9093", None),
    ],
)
def test_absolute_url(url: str, base: str | None, expected: str | None) -> None:
    assert _build.absolute_url(url, base) == expected


def test_metadata_is_cut_to_the_model_limits() -> None:
    metadata = _build.metadata(
        service="s" * 300,
        environment="e" * 150,
        region="   ",
        tags=[f"k{index}:{'v' * 300}" for index in range(60)],
        custom_fields={f"f{index}": index for index in range(120)} | {"empty": None},
    )

    assert metadata.service is not None and len(metadata.service) == 200
    assert metadata.environment is not None and len(metadata.environment) == 100
    assert metadata.region is None
    assert len(metadata.tags) == 50 and all(len(tag) == 200 for tag in metadata.tags)
    assert len(metadata.custom_fields) == 100 and "empty" not in metadata.custom_fields


def test_timeline_falls_back_to_received_at_and_stays_ordered() -> None:
    resolved = RECEIVED_AT - timedelta(hours=1)

    assert _build.timeline(None, RECEIVED_AT, None).start == RECEIVED_AT
    assert _build.timeline(None, RECEIVED_AT, resolved).start == resolved
    naive = _build.timeline(None, datetime(2030, 1, 1), None).start
    assert naive == datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-02-06T00:17:58.432911368Z", datetime(2020, 2, 6, 0, 17, 58, 432911, tzinfo=UTC)),
        ("2022-07-29T11:17:27.3Z", datetime(2022, 7, 29, 11, 17, 27, 300000, tzinfo=UTC)),
        ("2022-07-29T11:17:27", datetime(2022, 7, 29, 11, 17, 27, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("yesterday", None),
        (1577840461, None),
        (None, None),
    ],
)
def test_iso_time(value: Any, expected: datetime | None) -> None:
    assert _fields.iso_time(value) == expected


@pytest.mark.parametrize(
    ("value", "milliseconds", "expected"),
    [
        ("1733930378000", True, datetime(2024, 12, 11, 15, 19, 38, tzinfo=UTC)),
        (1733930378000, True, datetime(2024, 12, 11, 15, 19, 38, tzinfo=UTC)),
        (1577840461, False, datetime(2020, 1, 1, 1, 1, 1, tzinfo=UTC)),
        ("1577840461.5", False, datetime(2020, 1, 1, 1, 1, 1, 500000, tzinfo=UTC)),
        (True, False, None),
        (0, False, None),
        (-5, False, None),
        ("soon", True, None),
        (10**20, False, None),
        (None, True, None),
    ],
)
def test_epoch_time(value: Any, milliseconds: bool, expected: datetime | None) -> None:
    assert _fields.epoch_time(value, milliseconds=milliseconds) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", "x"), (" x ", "x"), ("", None), (3, "3"), (2.5, "2.5"), (True, None), ({}, None)],
)
def test_as_text(value: Any, expected: str | None) -> None:
    assert _fields.as_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{EVENT.ID}", None),
        ("{$ZABBIX.URL}", None),
        ("$ALERT_CYCLE_KEY", None),
        ("10528", "10528"),
        ('{}:{alertname="Fire"}', '{}:{alertname="Fire"}'),
        ("{$ZABBIX.URL}/tr_events.php", "{$ZABBIX.URL}/tr_events.php"),
    ],
)
def test_expanded_drops_whole_placeholders_only(value: str, expected: str | None) -> None:
    assert _fields.expanded(value) == expected


def test_get_follows_objects_only() -> None:
    payload = {"a": {"b": [1]}, "c": "text"}

    assert _fields.get(payload, "a.b") == [1]
    assert _fields.get(payload, "c.d") is None
    assert _fields.get(payload, "x.y") is None


@pytest.mark.parametrize(
    ("priority", "urgency", "expected"),
    [
        ("P1", "low", (GenericSeverity.CRITICAL, "P1")),
        (None, "high", (GenericSeverity.HIGH, "urgency:high")),
        ("P9", "low", (GenericSeverity.LOW, "urgency:low")),
        ("P9", None, (None, "P9")),
        (None, None, (None, None)),
    ],
)
def test_pagerduty_scale(
    priority: str | None, urgency: str | None, expected: tuple[GenericSeverity | None, str | None]
) -> None:
    assert severity.pagerduty(priority, urgency) == expected


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("CRITICAL", GenericSeverity.CRITICAL),
        ("high", GenericSeverity.HIGH),
        ("MEDIUM", GenericSeverity.MEDIUM),
        ("LOW", GenericSeverity.LOW),
        ("UNKNOWN", None),
    ],
)
def test_new_relic_scale(priority: str, expected: GenericSeverity | None) -> None:
    assert severity.new_relic(priority) == (expected, priority)


def test_original_severity_is_cut_to_64_characters() -> None:
    assert severity.alert_label("x" * 100).original == "x" * 64

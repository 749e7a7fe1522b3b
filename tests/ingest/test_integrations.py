"""The vendor-side files we ship produce bodies the mappings accept."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import yaml

from ingest.model import GenericSeverity, SourceStatus
from tests.conftest import REPO
from tests.ingest.payloads import RECEIVED_AT, map_one

DATADOG_TEMPLATE = REPO / "integrations" / "datadog" / "webhook-payload.json"
ZABBIX_MEDIA_TYPE = REPO / "integrations" / "zabbix" / "fireline-media-type.yaml"

# What Datadog puts in each variable for one notification.
DATADOG_VALUES = {
    "$ID": "7879713311244615328",
    "$EVENT_TITLE": "[P2] [Warn] Unauthorized access to API keep-api",
    "$EVENT_MSG": "%%%\nMore than **0.0** log events matched\n%%%",
    "$DATE": "1733930378000",
    "$LAST_UPDATED": "1733930378000",
    "$EVENT_TYPE": "log_alert",
    "$ORG_ID": "831563",
    "$ORG_NAME": "Acme",
    "$ALERT_PRIORITY": "P2",
    "$ALERT_TYPE": "warning",
    "$ALERT_QUERY": "logs(...) > 5",
    "$ALERT_TRANSITION": "Warn",
    "$ALERT_CYCLE_KEY": "7879713311244615000",
    "$AGGREG_KEY": "a1b2c3",
    "$ALERT_ID": "134462228",
    "$ALERT_SCOPE": "service:keep-api",
    "$TAGS": "environment:production,monitor,service:keep-api",
    "$LINK": "https://app.datadoghq.com/event/event?id=7879713311244615328",
}

# What Zabbix puts in each macro, per kind of message.
ZABBIX_PROBLEM = {
    "{EVENT.DATE}": "2024.05.01",
    "{EVENT.TIME}": "12:30:05",
    "{EVENT.ID}": "10528",
    "{EVENT.NAME}": "Zabbix agent on db1 is unreachable for 5 minutes",
    "{EVENT.NSEVERITY}": "4",
    "{EVENT.SEVERITY}": "High",
    "{EVENT.OPDATA}": "Agent ping: Down (0)",
    "{EVENT.SOURCE}": "0",
    "{EVENT.TAGSJSON}": '[{"tag":"environment","value":"production"},{"tag":"team","value":"dba"}]',
    "{EVENT.VALUE}": "1",
    "{EVENT.UPDATE.STATUS}": "0",
    "{HOST.NAME}": "db1",
    "{TRIGGER.ID}": "14032",
    "{$ZABBIX.URL}": "https://zabbix.example.com",
}
ZABBIX_RECOVERY = {
    **ZABBIX_PROBLEM,
    "{EVENT.VALUE}": "0",
    "{EVENT.RECOVERY.ID}": "10529",
    "{EVENT.RECOVERY.DATE}": "2024.05.01",
    "{EVENT.RECOVERY.TIME}": "12:41:00",
}
ZABBIX_ACKNOWLEDGEMENT = {
    **ZABBIX_PROBLEM,
    "{EVENT.UPDATE.STATUS}": "1",
    "{EVENT.UPDATE.ACTION}": "acknowledged, commented",
    "{EVENT.UPDATE.DATE}": "2024.05.01",
    "{EVENT.UPDATE.TIME}": "12:35:00",
}


def filled_datadog_template(values: dict[str, str]) -> Any:
    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        return values.get(node, node)

    return fill(json.loads(DATADOG_TEMPLATE.read_text()))


def zabbix_media_type() -> dict[str, Any]:
    export = yaml.safe_load(ZABBIX_MEDIA_TYPE.read_text())["zabbix_export"]
    assert export["version"] == "6.0"
    (media_type,) = export["media_types"]
    result: dict[str, Any] = media_type
    return result


def zabbix_body(macros: dict[str, str]) -> dict[str, Any]:
    """The body the media type's script posts: every parameter with its macros expanded
    (Zabbix leaves unknown ones as they are), without url and token, tags parsed."""
    params = {
        parameter["name"]: re.sub(
            r"\{\$?[A-Z.]+\}", lambda found: macros.get(found[0], found[0]), parameter["value"]
        )
        for parameter in zabbix_media_type()["parameters"]
    }
    del params["url"], params["token"]
    params["event_tags"] = json.loads(params["event_tags"])
    return params


def test_datadog_template_has_every_field_the_mapping_reads() -> None:
    template = json.loads(DATADOG_TEMPLATE.read_text())

    assert set(template) >= {
        "id",
        "title",
        "body",
        "date",
        "last_updated",
        "event_type",
        "org",
        "severity",
        "alert_type",
        "alert_query",
        "alert_transition",
        "alert_cycle_key",
        "aggreg_key",
        "monitor_id",
        "scopes",
        "tags",
        "url",
    }
    assert template["alert_cycle_key"] == "$ALERT_CYCLE_KEY"
    assert template["aggreg_key"] == "$AGGREG_KEY"


def test_a_filled_datadog_template_maps_with_the_alert_cycle_key() -> None:
    incident = map_one("datadog", filled_datadog_template(DATADOG_VALUES))

    assert incident.source_ref == "7879713311244615000"
    assert incident.title == "Unauthorized access to API keep-api"
    assert (incident.severity, incident.status) == (GenericSeverity.HIGH, SourceStatus.OPEN)
    assert incident.metadata.custom_fields["aggreg_key"] == "a1b2c3"


def test_zabbix_media_type_posts_json_with_the_bearer_token() -> None:
    media_type = zabbix_media_type()

    assert media_type["type"] == "WEBHOOK"
    assert "request.addHeader('Authorization: Bearer ' + token);" in media_type["script"]
    assert "request.post(url, JSON.stringify(params))" in media_type["script"]
    assert "return 'OK';" in media_type["script"]
    names = {parameter["name"] for parameter in media_type["parameters"]}
    assert names >= {
        "event_id",
        "event_value",
        "event_update_status",
        "event_update_action",
        "event_recovery_id",
        "event_name",
        "event_nseverity",
        "event_date",
        "event_time",
        "event_recovery_date",
        "event_recovery_time",
        "event_tags",
        "host_name",
        "trigger_id",
        "zabbix_url",
        "token",
    }


def test_zabbix_media_type_problem() -> None:
    incident = map_one("zabbix", zabbix_body(ZABBIX_PROBLEM))

    assert incident.source_ref == "10528"
    assert incident.title == "Zabbix agent on db1 is unreachable for 5 minutes"
    assert (incident.severity, incident.original_severity) == (GenericSeverity.HIGH, "High")
    assert incident.status is SourceStatus.OPEN
    # Zabbix dates have no zone: read as UTC. The unexpanded recovery macros are ignored.
    assert incident.timeline.start == datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)
    assert incident.timeline.resolved_at is None
    metadata = incident.metadata
    assert (metadata.service, metadata.environment, metadata.team) == ("db1", "production", "dba")
    assert metadata.tags == ["environment:production", "team:dba"]
    assert [link.url for link in incident.links] == [
        "https://zabbix.example.com/tr_events.php?triggerid=14032&eventid=10528"
    ]
    assert incident.description == "Agent ping: Down (0)"


def test_zabbix_media_type_recovery_resolves_the_same_incident() -> None:
    incident = map_one("zabbix", zabbix_body(ZABBIX_RECOVERY))

    assert incident.source_ref == "10528"
    assert incident.status is SourceStatus.RESOLVED
    assert incident.timeline.resolved_at == datetime(2024, 5, 1, 12, 41, tzinfo=UTC)
    (event,) = incident.evidence_lite.events
    assert event.model_extra == {"eventId": "10529"}
    assert event.timestamp == datetime(2024, 5, 1, 12, 41, tzinfo=UTC)


def test_zabbix_media_type_acknowledgement() -> None:
    incident = map_one("zabbix", zabbix_body(ZABBIX_ACKNOWLEDGEMENT))

    assert (incident.source_ref, incident.status) == ("10528", SourceStatus.ACKNOWLEDGED)
    (event,) = incident.evidence_lite.events
    assert event.name == "update"
    assert event.timestamp == datetime(2024, 5, 1, 12, 35, tzinfo=UTC)
    assert event.message == (
        "update (acknowledged, commented): Zabbix agent on db1 is unreachable for 5 minutes on db1"
    )


def test_zabbix_media_type_body_maps_the_same_whatever_the_time_received() -> None:
    body = zabbix_body(ZABBIX_PROBLEM)

    assert map_one("zabbix", body) == map_one(
        "zabbix", body, received_at=RECEIVED_AT.replace(year=2040)
    )

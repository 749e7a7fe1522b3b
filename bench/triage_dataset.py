"""The labelled triage data set: `python -m bench.triage_dataset` writes
tests/data/triage_incidents.jsonl (fixed seed: the same file every time).

Each line is one incident in the shapes our vendor payloads give (Datadog's "[P2]
[Triggered] …", Alertmanager's alert names, New Relic's condition sentences, Zabbix's
problem names, PagerDuty titles), the facts triage computes for it (earlier alerts of
the same fingerprint, open duplicates, a maintenance window), the truth a person would
give (`false_positive` or `true_positive`), its kind, and for a real failure the runbook
that fixes it (or none).

Hard cases are in on purpose: real outages that flap, real incidents inside a
maintenance window, a real "smoke test failed after deploy", a staging outage that
blocks a release, alerts that resolved quickly once but are real.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "triage_incidents.jsonl"
SEED = 20261205
SERVICES = ["checkout", "payments", "search", "api-gateway", "orders", "auth", "inventory"]
SOURCES = ["DATADOG", "PROMETHEUS", "NEWRELIC", "ZABBIX", "PAGERDUTY", "GRAFANA"]
HOSTS = ["web-01", "web-02", "db-7", "cache-3", "worker-12", "ip-10-0-3-7"]

REAL: dict[str, tuple[str | None, list[str]]] = {
    "service_down": (
        "restart-systemd-service",
        [
            "[P1] [Triggered] {service} is down: health check failing on {host}",
            "{service} not responding, 5xx on every request",
            "{Service} service unhealthy: systemd unit crashloop on {host}",
            "{service} returning 503 to all clients",
        ],
    ),
    "disk_full": (
        "clear-disk-space",
        [
            "Disk usage above 95% on {host} /var",
            "{host}: filesystem /var/log almost full",
            "[P2] [Triggered] Low disk space on {host}",
            "zulip_app query result is > 0.9 for 5 minutes on '{Service} Server Low Storage'",
        ],
    ),
    "bad_feature": (
        "disable-feature-flag",
        [
            "Error rate spike on {service} after enabling feature flag new-{service}-flow",
            "{Service} exceptions since flag rollout of beta-{service}",
            "[P2] [Triggered] {service} errors up 400% after feature launch",
        ],
    ),
    "no_runbook": (
        None,
        [
            "Replication lag above 300s on {host}",
            "TLS certificate for {service}.example.com expires in 3 days",
            "Memory leak: {service} RSS grows 2% per hour",
            "Unauthorized access to API keys on {service}",
            "Queue backlog for {service} above 10000 messages",
        ],
    ),
}
NOISE: dict[str, list[str]] = {
    "transient": [
        "[P3] [Triggered] High latency on {service} p99 > 500ms",
        "High CPU Temperature on {host}",
        "{service} connection pool usage above 80%",
        "GC pause above 1s on {host}",
    ],
    "flapping": [
        "{service} heartbeat missed",
        "Packet loss above 1% between {host} and {service}",
        "VM Instance - Sent packets on {host}",
    ],
    "maintenance": [
        "{service} is down: health check failing on {host}",
        "Database failover in progress for {service}",
        "{host} unreachable",
    ],
    "non_production": [
        "{service} returning 503 to all clients",
        "Disk usage above 95% on {host} /var",
        "Error rate spike on {service}",
    ],
    "duplicate": [
        "{service} not responding, 5xx on every request",
        "[P1] [Triggered] {service} is down: health check failing on {host}",
        "Replication lag above 300s on {host}",
    ],
    "synthetic": [
        "Synthetic check failed: {service} login journey",
        "Canary {service}-canary-3 failing readiness",
        "[FIRING:1] (Test alert true) failure on {host}",
        "Test Incident {number}",
    ],
}
COUNTS = {
    "transient": 45,
    "flapping": 35,
    "maintenance": 30,
    "non_production": 35,
    "duplicate": 30,
    "synthetic": 30,
    "service_down": 45,
    "disk_full": 35,
    "bad_feature": 30,
    "no_runbook": 40,
}


def build(rng: random.Random) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for kind, count in COUNTS.items():
        for _ in range(count):
            rows.append(_row(rng, kind, len(rows) + 1))
    rng.shuffle(rows)
    return rows


def _row(rng: random.Random, kind: str, number: int) -> dict[str, Any]:
    real = kind in REAL
    service, host = rng.choice(SERVICES), rng.choice(HOSTS)
    templates = REAL[kind][1] if real else NOISE[kind]
    title = rng.choice(templates).format(
        service=service, Service=service.capitalize(), host=host, number=number
    )
    incident = {
        "title": title,
        "description": _description(rng, kind, service, host),
        "service": service,
        "source_type": rng.choice(SOURCES),
        "severity": _severity(rng, kind),
        "environment": "production",
        "tags": [f"team:{service}", rng.choice(["tier:1", "tier:2", "k8s", "vm"])],
        "correlation_keys": [f"{service}/{title.split(':')[0][:40]}"],
    }
    facts: dict[str, Any] = {"past": [], "open_duplicates": [], "maintenance": None}
    truth = "true_positive" if real else "false_positive"
    _shape(rng, kind, incident, facts)
    hard = _hard_case(rng, kind, incident, facts)
    return {
        "id": f"t{number:04d}",
        "kind": kind + (f"/{hard}" if hard else ""),
        "label": truth,
        "expected_runbook": REAL[kind][0] if real else None,
        "incident": incident,
        "facts": facts,
    }


def _shape(rng: random.Random, kind: str, incident: dict[str, Any], facts: dict[str, Any]) -> None:
    if kind == "transient":
        count = rng.randint(3, 8)
        facts["past"] = [_past(rng, 24 * 60, rng.randint(40, 240)) for _ in range(count)]
    elif kind == "flapping":
        facts["past"] = [_past(rng, 55, rng.randint(60, 600)) for _ in range(rng.randint(6, 14))]
    elif kind == "maintenance":
        facts["maintenance"] = f"{incident['service']} database upgrade"
    elif kind == "non_production":
        incident["environment"] = rng.choice(["staging", "dev", "qa", "sandbox"])
    elif kind == "duplicate":
        facts["open_duplicates"] = [f"inc_open_{rng.randint(1, 999)}"]
    elif rng.random() < 0.3:  # a real incident with some ordinary history
        facts["past"] = [_past(rng, 7 * 24 * 60, None) for _ in range(rng.randint(1, 2))]


def _hard_case(
    rng: random.Random, kind: str, incident: dict[str, Any], facts: dict[str, Any]
) -> str | None:
    """About one real incident in eight looks like noise in one way."""
    if kind not in REAL or rng.random() > 0.125:
        return None
    case = rng.choice(["flaps", "in_maintenance", "smoke_test", "staging_blocker", "once"])
    if case == "flaps":
        facts["past"] = [_past(rng, 55, rng.randint(60, 600)) for _ in range(rng.randint(6, 9))]
        incident["severity"] = "SEV1"
    elif case == "in_maintenance":
        facts["maintenance"] = f"{incident['service']} config rollout"
    elif case == "smoke_test":
        incident["description"] += " Post-deploy smoke test failed in production."
    elif case == "staging_blocker":
        incident["environment"] = "staging"
        incident["description"] += " Blocks the release train."
    else:
        facts["past"] = [_past(rng, 12 * 60, 90)]
    return case


def _past(rng: random.Random, within_minutes: int, resolved_after: int | None) -> dict[str, Any]:
    return {
        "minutes_ago": rng.randint(2, within_minutes),
        "resolved_after_seconds": resolved_after,
        "by_source": resolved_after is not None,
    }


def _severity(rng: random.Random, kind: str) -> str:
    if kind in ("service_down", "bad_feature"):
        return rng.choice(["SEV1", "SEV2", "SEV2"])
    if kind in REAL:
        return rng.choice(["SEV2", "SEV3"])
    return rng.choice(["SEV2", "SEV3", "SEV3", "SEV4"])


def _description(rng: random.Random, kind: str, service: str, host: str) -> str:
    """Noise that is noise for its facts (maintenance, staging, a duplicate, flapping)
    reads like a real failure: only synthetic checks say so in their words."""
    lines = {
        "service_down": f"{service} on {host} stopped answering; restarts expected to help.",
        "disk_full": f"{host} free space under 5%; logs and temp files are growing.",
        "bad_feature": f"Errors on {service} started right after the flag change.",
        "no_runbook": f"Seen on {host} for {service}.",
        "synthetic": f"Probe from the monitoring region for {service}.",
    }
    if kind in lines:
        return lines[kind]
    if kind in ("transient", "flapping"):
        return f"Alert from {host} for {service}: value {rng.randint(1, 999)}."
    return rng.choice([lines["service_down"], lines["disk_full"], lines["no_runbook"]])


def main() -> None:
    rows = build(random.Random(SEED))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
    print(f"wrote {len(rows)} labelled incidents to {OUT}")


if __name__ == "__main__":
    main()

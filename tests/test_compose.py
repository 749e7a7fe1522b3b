"""docker-compose.yml, checked without a Docker engine: it follows the Compose
specification, its images carry exact versions, the API and the workers run the same
image, and each Fireline service gets every setting production needs, spelled right."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography.fernet import Fernet

from core.settings import Settings
from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
SCHEMA = Path(__file__).parent / "fixtures" / "compose" / "compose-spec.json"
# What a production Fireline process cannot run without (Settings' defaults are for a
# laptop: SQLite in the data dir, Temporal on localhost, a sentinel JWT secret).
NEEDED = {
    "FIRELINE_ENVIRONMENT",
    "FIRELINE_JWT_SECRET",
    "FIRELINE_SECRET_KEY",
    "FIRELINE_DATABASE_URL",
    "FIRELINE_TEMPORAL_ADDRESS",
    "FIRELINE_PUBLIC_URL",
    "FIRELINE_TEMPORAL_UI_URL",
}
EXACT_TAG = re.compile(r"^[^:@]+:\d+\.\d+(\.\d+)?$")  # major.minor at least, never latest
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_]+)(?::(?P<op>[?-])(?P<rest>[^}]*))?\}")
FIELDS = {name.upper() for name in Settings.model_fields}
OPERATOR_SET = {
    "FIRELINE_JWT_SECRET": "a-long-random-secret-set-by-the-operator",
    "FIRELINE_SECRET_KEY": Fernet.generate_key().decode(),
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _fireline_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("command", [None])[0] == "fireline"
    }


def _interpolated(value: str) -> str:
    """As `docker compose` would see it with the operator's required variables set."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match["name"], match["op"], match["rest"]
        if op == "-":
            return OPERATOR_SET.get(name, rest)
        if name not in OPERATOR_SET:
            raise AssertionError(f"{COMPOSE.name} requires {name}, which no test sets")
        return OPERATOR_SET[name]

    return VARIABLE.sub(one, value)


def test_it_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())

    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(_compose())
    ]

    assert problems == []


def test_a_broken_file_would_be_caught() -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = _compose()
    broken["services"]["api"]["depends_on"] = "fireline-db"  # must be a list or a map

    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_every_image_carries_an_exact_version() -> None:
    images = {name: s["image"] for name, s in _compose()["services"].items() if "image" in s}

    loose = {name: image for name, image in images.items() if not EXACT_TAG.match(image)}

    assert images and loose == {}


def test_the_api_and_the_workers_run_the_same_image() -> None:
    services = _fireline_services(_compose())
    assert set(services) >= {"api", "worker"}

    built = {(str(s.get("build")), s.get("image")) for s in services.values()}

    assert len(built) == 1, built


@pytest.mark.parametrize("service", ["api", "worker"])
def test_each_fireline_service_gets_every_setting_production_needs(service: str) -> None:
    compose = _compose()
    environment = {
        key: _interpolated(str(value))
        for key, value in compose["services"][service]["environment"].items()
    }

    assert NEEDED - set(environment) == set()
    unknown = {key for key in environment if key.removeprefix("FIRELINE_") not in FIELDS}
    assert unknown == set()  # a misspelt variable would be silently ignored
    settings = Settings(
        **{key.removeprefix("FIRELINE_").lower(): v for key, v in environment.items()}
    )
    assert settings.environment == "production"
    assert settings.database_url is not None and settings.database_url.startswith("postgresql")
    db_host = settings.database_url.split("@", 1)[1].split(":", 1)[0]
    temporal_host = (settings.temporal_address or "").split(":", 1)[0]
    assert {db_host, temporal_host} <= set(compose["services"])

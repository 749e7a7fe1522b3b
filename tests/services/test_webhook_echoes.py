"""OwnAccounts: which vendor accounts are Fireline's own, per source and per org."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from core.secretbox import SecretBox
from services.connections import ConnectionService, ConnectionSpec
from services.webhook_echoes import OwnAccounts
from store.db import Database
from tests.services.test_connections import SSH


@pytest.fixture
def connections(db: Database) -> ConnectionService:
    return ConnectionService(db, SecretBox(Fernet.generate_key().decode()))


def providers(tmp_path: Path, **by_name: dict[str, object]) -> Path:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump(by_name))
    return path


async def test_the_usernames_of_the_providers_file_connections_of_the_source_type(
    tmp_path: Path,
) -> None:
    path = providers(
        tmp_path,
        servicenow={"type": "servicenow", "authentication": {"username": " Fireline.Integration "}},
        snow_eu={"type": "servicenow", "authentication": {"url": "https://eu.example"}},
        jira={"type": "jira", "authentication": {"username": "jira.bot"}},
    )
    accounts = OwnAccounts(path)

    assert await accounts.includes("acme", "servicenow", "fireline.integration")
    assert not await accounts.includes("acme", "servicenow", "jira.bot")
    assert not await accounts.includes("acme", "pagerduty", "fireline.integration")


async def test_a_missing_or_broken_providers_file_names_no_account(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("servicenow: [not, a, connection]\n")

    for path in (None, tmp_path / "absent.yaml", broken):
        assert not await OwnAccounts(path).includes("acme", "servicenow", "fireline.integration")


async def test_an_org_connection_counts_for_its_org_and_its_kind_only(
    tmp_path: Path, connections: ConnectionService
) -> None:
    snow = ConnectionSpec(kind="servicenow", host="acme.service-now.com", username="snow.bot")
    await connections.create(org_id="acme", name="snow", spec=snow)
    await connections.create(org_id="acme", name="db-1", spec=SSH)  # username "deploy"
    accounts = OwnAccounts(tmp_path / "absent.yaml", connections)

    assert await accounts.includes("acme", "servicenow", "SNOW.bot")
    assert not await accounts.includes("globex", "servicenow", "snow.bot")
    assert not await accounts.includes("acme", "servicenow", "deploy")

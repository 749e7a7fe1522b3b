"""Configuration: the providers file and the settings that guard production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.connections import Connections
from core.errors import ProviderNotConfiguredError
from core.settings import Settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "providers.yaml"
    path.write_text(text)
    return path


def test_env_references_are_expanded_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_TOKEN_FOR_TEST", "s3cret-value")
    path = _write(
        tmp_path,
        "jira:\n  type: jira\n  authentication:\n"
        "    url: https://jira.example\n    api_token: ${JIRA_TOKEN_FOR_TEST}\n",
    )
    connections = Connections.load(path)
    jira = connections.get("jira", "jira")
    assert jira.authentication["api_token"] == "s3cret-value"
    assert "s3cret-value" not in repr(jira) + str(jira) + str(connections.describe())
    assert connections.describe() == {"jira": "jira"}


def test_missing_env_variable_makes_every_connection_unavailable_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = _write(
        tmp_path, "jira:\n  type: jira\n  authentication: {api_token: ${NOT_SET_ANYWHERE}}\n"
    )
    connections = Connections.load(path)
    with pytest.raises(ProviderNotConfiguredError, match="NOT_SET_ANYWHERE is not set"):
        connections.get("jira", "jira")


def test_wrong_type_and_unknown_connection_name_say_what_to_do(tmp_path: Path) -> None:
    path = _write(tmp_path, "chat:\n  type: slack\n  authentication: {webhook_url: x}\n")
    connections = Connections.load(path)
    with pytest.raises(ProviderNotConfiguredError, match="of type slack, not jira"):
        connections.get("chat", "jira")
    with pytest.raises(ProviderNotConfiguredError, match=r"configured: chat\); add it"):
        connections.get("jira", "jira")


def test_malformed_file_reports_the_field_without_echoing_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "jira:\n  type: jira\n  password: hunter2-secret\n")
    connections = Connections.load(path)
    assert connections.problem is not None
    assert "jira.password" in connections.problem
    assert "hunter2-secret" not in connections.problem


def test_production_refuses_the_default_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="FIRELINE_JWT_SECRET is the default"):
        Settings(environment="production")
    assert Settings(environment="production", jwt_secret="x" * 40).jwt_secret == "x" * 40


def test_embedded_mode_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_jwt_secret()
    again = Settings(data_dir=tmp_path).effective_jwt_secret()
    assert first == again
    assert len(first) >= 40
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0

"""Named provider connections, read from the providers file.

```yaml
jira:                      # the name used as "{{ providers.jira }}"
  type: jira
  authentication:
    url: https://example.atlassian.net
    email: bot@example.com
    api_token: ${JIRA_API_TOKEN}
```

Only the worker's activities read `authentication`; everything else sees names and
types (`describe()`), so secrets never reach workflow inputs, history or the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ProviderNotConfiguredError, describe_validation_error
from core.settings import expand_env_refs


class Connection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    authentication: dict[str, Any] = Field(default_factory=dict)

    def __repr__(self) -> str:  # never print the secrets
        return f"Connection(type={self.type!r})"

    __str__ = __repr__


class Connections:
    def __init__(self, by_name: dict[str, Connection], problem: str | None = None) -> None:
        self._by_name = by_name
        self.problem = problem  # why the file could not be read, if it could not

    @classmethod
    def load(cls, path: Path) -> Connections:
        if not path.exists():
            return cls({}, problem=f"providers file {path} does not exist")
        try:
            raw = yaml.safe_load(expand_env_refs(path.read_text())) or {}
            return cls({name: _parse(name, value) for name, value in raw.items()})
        except (ValueError, yaml.YAMLError, AttributeError) as err:
            return cls({}, problem=f"providers file {path}: {str(err).splitlines()[0]}")

    def get(self, name: str, expected_type: str) -> Connection:
        connection = self._by_name.get(name)
        if connection is None:
            raise ProviderNotConfiguredError(self.missing_reason(name))
        if connection.type != expected_type:
            raise ProviderNotConfiguredError(
                f"connection '{name}' is of type {connection.type}, not {expected_type}"
            )
        return connection

    def missing_reason(self, name: str) -> str:
        reason = f"connection '{name}' is not configured"
        known = ", ".join(sorted(self._by_name)) or "none"
        hint = f" ({self.problem})" if self.problem else f" (configured: {known})"
        return reason + hint + "; add it to the providers file"

    def describe(self) -> dict[str, str]:
        """Names and types only, safe to show anywhere."""
        return {name: c.type for name, c in self._by_name.items()}

    def usernames(self, connection_type: str) -> list[str]:
        """The accounts Fireline signs in as through the connections of a type (the
        `username` of each that has one): who, never with what."""
        found = (
            c.authentication.get("username")
            for c in self._by_name.values()
            if c.type == connection_type
        )
        return [name.strip() for name in found if isinstance(name, str) and name.strip()]


def _parse(name: str, value: Any) -> Connection:
    try:
        return Connection.model_validate(value)
    except ValidationError as err:
        raise ValueError(describe_validation_error(err, prefix=(name,))) from None

"""The `db` provider: one SQL statement on a `db` connection of the org (connectors/sql.py).

Parameters arrive rendered by the workflow (a runbook session or a YAML workflow):
`connection` (a /v1/connections name), `query` (SQL, values written `:name`), `params`
(the values, bound by name), `write` (default false: read-only), `max_rows` (default 100,
at most 10 000) and `timeout` (seconds or a duration, default 30s). The call carries the
connection's name only; the password is decrypted here, per call, and never returned.

Failures that a retry cannot fix (unknown connection, wrong kind, bad parameters, SQL
errors, a write refused in read-only mode, a timeout) are final; a server that cannot be
reached may be retried, when the step's retry policy allows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from temporalio import activity

from activities.deps import ActivityDeps
from activities.errors import as_activity_failure
from connectors.sql import DbTarget, QueryRequest, run_query
from core.errors import InvalidInputError, describe_validation_error
from dsl.durations import parse_duration
from dsl.providers import DB_MAX_ROWS, DB_MAX_TIMEOUT_SECONDS
from workflows.models import ProviderCallInput
from workflows.names import provider_activity

DbTargetResolver = Callable[[str, str], Awaitable[DbTarget]]
"""(org_id, connection name) -> the decrypted db target (services.connections)."""

DB_ACTIVITY = provider_activity("db")


class DbCall(BaseModel):
    """The rendered parameters of a `db` step."""

    model_config = ConfigDict(extra="forbid")

    connection: str = Field(min_length=1)
    query: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    write: bool = False
    max_rows: int = Field(100, ge=1, le=DB_MAX_ROWS)
    timeout: float = Field(30.0, gt=0, le=DB_MAX_TIMEOUT_SECONDS)

    @field_validator("timeout", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> float:
        return parse_duration(value)

    def request(self) -> QueryRequest:
        return QueryRequest(
            query=self.query,
            params=self.params,
            write=self.write,
            max_rows=self.max_rows,
            timeout_seconds=self.timeout,
        )


class DbActivities:
    def __init__(self, deps: ActivityDeps, targets: DbTargetResolver | None = None) -> None:
        self._deps = deps
        self._targets = targets

    @activity.defn(name=DB_ACTIVITY)
    async def db(self, call: ProviderCallInput) -> dict[str, Any]:
        """Run the statement; returns {columns, rows (mappings), row_count, truncated}."""
        name = call.params.get("connection")
        with as_activity_failure(f"db step '{call.step}' on connection '{name}'"):
            parsed = _parsed(call.params)
            target = await self._target(call.org, parsed.connection)
            result = await run_query(target, parsed.request())
        activity.logger.info(
            "db step %s on %s: %d row(s)%s",
            call.step,
            target.address,
            result.row_count,
            " (write)" if parsed.write else "",
        )
        return result.as_dict()

    async def _target(self, org: str, connection: str) -> DbTarget:
        if self._targets is None:
            raise InvalidInputError(
                "this worker cannot resolve db connections; start it with `fireline worker`"
            )
        return await self._targets(org, connection)


def _parsed(params: dict[str, Any]) -> DbCall:
    try:
        return DbCall.model_validate(params)
    except ValidationError as err:
        # Field paths and messages only: a value may come from an incident.
        raise InvalidInputError(f"invalid parameters: {describe_validation_error(err)}") from None

"""Authoring models: what a `runbook:` file may contain.

Every model forbids unknown fields. These models check one node at a time; checks that
need the whole runbook (names across phases, step references, providers, phases that
may not roll back) live in `dsl.runbook_compiler`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from dsl.durations import parse_duration
from dsl.runbook_plan import (
    DEFAULT_STEP_TIMEOUT,
    FIRELINE_ROLES,
    MAX_OUTPUT_LIMIT,
    SEVERITIES,
    Connector,
    OnApprovalTimeout,
    Phase,
)
from dsl.spec import WORKFLOW_ID_PATTERN, ManualInput, ProviderSpec, Regex, RetrySpec, Text

STEP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
PHASE_LISTS: tuple[tuple[str, Phase], ...] = (
    ("prechecks", "precheck"),
    ("steps", "step"),
    ("postchecks", "postcheck"),
)

_SIZE = re.compile(r"(\d+)\s*(b|kb|kib|mb|mib)?", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2}
_MINUTE, _DAY = 60.0, 86400.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """ "; did you mean 'X'?" for the closest choice (case ignored), or ""."""
    by_upper = {choice.upper(): choice for choice in choices}
    close = difflib.get_close_matches(word.upper(), list(by_upper), n=1)
    return f"; did you mean '{by_upper[close[0]]}'?" if close else ""


def _none_as_empty(kind: type[list[Any]] | type[dict[str, Any]]) -> BeforeValidator:
    return BeforeValidator(lambda value: kind() if value is None else value)


def _seconds(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from error


def _spelled(seconds: float) -> str:
    for unit, size in (("d", _DAY), ("h", 3600.0), ("m", _MINUTE), ("s", 1.0)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _between(low: float, high: float) -> Callable[[float], float]:
    def check(seconds: float) -> float:
        if not low <= seconds <= high:
            raise PydanticCustomError(
                "duration_bounds",
                "must be between {low} and {high}, got {value}",
                {"low": _spelled(low), "high": _spelled(high), "value": _spelled(seconds)},
            )
        return seconds

    return check


def _role(value: str) -> str:
    if value not in FIRELINE_ROLES:
        raise PydanticCustomError(
            "unknown_role",
            "unknown role '{role}'{hint} (roles: {roles})",
            {
                "role": value,
                "hint": did_you_mean(value, FIRELINE_ROLES),
                "roles": ", ".join(FIRELINE_ROLES),
            },
        )
    return value


def _severity(value: object) -> object:
    if isinstance(value, str) and value.upper() in SEVERITIES:
        return value.upper()
    raise PydanticCustomError(
        "unknown_severity",
        "unknown severity {value} (severities: {known})",
        {"value": repr(value), "known": ", ".join(SEVERITIES)},
    )


def _words(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("empty", "must not be empty")
    return value


def _byte_size(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("byte_size", "expected a size such as 65536, 64KiB or 1MiB")
    if isinstance(value, int):
        return value
    match = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise PydanticCustomError(
            "byte_size",
            "invalid size {value}: use bytes or a size such as 64KiB or 1MiB",
            {"value": repr(value)},
        )
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]


def _output_limit(size: int) -> int:
    if not 1 <= size <= MAX_OUTPUT_LIMIT:
        raise PydanticCustomError(
            "output_limit",
            "must be between 1 byte and 1MiB ({most} bytes), got {size} bytes",
            {"most": MAX_OUTPUT_LIMIT, "size": size},
        )
    return size


def _listed(value: object) -> object:
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


def _command_as_rollback(value: object) -> object:
    return {"run": value} if isinstance(value, str) else value


ApprovalWait = Annotated[float, BeforeValidator(_seconds), AfterValidator(_between(10.0, 7 * _DAY))]
StepTimeout = Annotated[float, BeforeValidator(_seconds), AfterValidator(_between(1.0, _DAY))]
RoleName = Annotated[str, AfterValidator(_role)]
Keyword = Annotated[Text, AfterValidator(_words)]
Severity = Annotated[str, BeforeValidator(_severity)]
Command = Annotated[str, Field(min_length=1)]
ExitCode = Annotated[int, Field(ge=0, le=255)]
OutputLimit = Annotated[int, BeforeValidator(_byte_size), AfterValidator(_output_limit)]


class MatchSpec(_Strict):
    keywords: Annotated[list[Keyword], _none_as_empty(list)] = Field(default_factory=list)
    services: Annotated[list[Keyword], _none_as_empty(list)] = Field(default_factory=list)
    severities: Annotated[list[Severity], _none_as_empty(list)] = Field(default_factory=list)


class TargetSpec(_Strict):
    connection: Annotated[Text, AfterValidator(_words)]


class ApprovalSpec(_Strict):
    roles: list[RoleName] = Field(min_length=1)
    timeout: ApprovalWait = 15 * _MINUTE
    on_timeout: OnApprovalTimeout = "reject"
    escalate_to: Annotated[list[RoleName], _none_as_empty(list)] = Field(default_factory=list)
    escalation_timeout: ApprovalWait | None = None

    @model_validator(mode="after")
    def _escalation_fits_on_timeout(self) -> ApprovalSpec:
        escalation_fields = [
            name for name in ("escalate_to", "escalation_timeout") if name in self.model_fields_set
        ]
        if self.on_timeout == "escalate" and not self.escalate_to:
            raise PydanticCustomError(
                "escalate_to_missing",
                "on_timeout: escalate needs escalate_to: the roles asked after the timeout",
            )
        if self.on_timeout == "reject" and escalation_fields:
            raise PydanticCustomError(
                "escalation_unused",
                "{fields} only apply with on_timeout: escalate (on_timeout is reject)",
                {"fields": " and ".join(escalation_fields)},
            )
        return self


class ExpectSpec(_Strict):
    exit_code: Annotated[list[ExitCode], BeforeValidator(_listed), Field(min_length=1)] = [0]
    stdout_contains: str | None = Field(None, min_length=1)
    stdout_regex: Regex | None = None


class RollbackSpec(_Strict):
    run: Command | None = None
    provider: ProviderSpec | None = None
    connector: Connector | None = None
    timeout: StepTimeout | None = None  # the step's timeout when not given
    retry: RetrySpec = RetrySpec()

    @model_validator(mode="after")
    def _one_action(self) -> RollbackSpec:
        _exactly_one_action(self.run, self.provider, "a rollback")
        if self.provider is not None and self.connector is not None:
            raise _commands_only(["connector"])
        return self


class RunbookStepSpec(_Strict):
    name: str = Field(pattern=STEP_NAME_PATTERN, max_length=100)
    run: Command | None = None
    provider: ProviderSpec | None = None
    connector: Connector | None = None
    requires_approval: bool = False
    idempotent: bool = False
    rollback: Annotated[RollbackSpec | None, BeforeValidator(_command_as_rollback)] = None
    timeout: StepTimeout = DEFAULT_STEP_TIMEOUT
    retry: RetrySpec | None = None  # None: run once
    expect: ExpectSpec | None = None
    output_limit: OutputLimit | None = None

    @model_validator(mode="after")
    def _one_action(self) -> RunbookStepSpec:
        _exactly_one_action(self.run, self.provider, f"step '{self.name}'")
        if self.provider is not None:
            given = [
                name
                for name in ("connector", "expect", "output_limit")
                if name in self.model_fields_set
            ]
            if given:
                raise _commands_only(given)
        return self


def _exactly_one_action(run: str | None, provider: ProviderSpec | None, what: str) -> None:
    if run is None and provider is None:
        raise PydanticCustomError(
            "no_action",
            "{what} needs 'run' (a command) or 'provider' (a provider call)",
            {"what": what},
        )
    if run is not None and provider is not None:
        raise PydanticCustomError(
            "two_actions", "{what} has both 'run' and 'provider'; give exactly one", {"what": what}
        )


def _commands_only(fields: Sequence[str]) -> PydanticCustomError:
    return PydanticCustomError(
        "commands_only",
        "{fields}: only for a command ('run'), not for a provider call",
        {"fields": ", ".join(fields)},
    )


class RunbookSpec(_Strict):
    id: str = Field(pattern=WORKFLOW_ID_PATTERN, max_length=100)
    name: str | None = None
    description: str | None = None
    match: MatchSpec = MatchSpec()
    target: TargetSpec | None = None
    approval: ApprovalSpec | None = None  # None: DEFAULT_APPROVAL
    inputs: Annotated[list[ManualInput], _none_as_empty(list)] = Field(default_factory=list)
    consts: Annotated[dict[str, Any], _none_as_empty(dict)] = Field(default_factory=dict)
    prechecks: Annotated[list[RunbookStepSpec], _none_as_empty(list)] = Field(default_factory=list)
    steps: list[RunbookStepSpec] = Field(min_length=1)
    postchecks: Annotated[list[RunbookStepSpec], _none_as_empty(list)] = Field(default_factory=list)
    # The ServiceNow assignment group an escalated session hands the linked ticket to.
    escalation_group: str | None = Field(default=None, min_length=1, max_length=80)

    @model_validator(mode="after")
    def _input_names_are_unique(self) -> RunbookSpec:
        names = [item.name for item in self.inputs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise PydanticCustomError(
                "duplicate_input",
                "duplicate input name(s): {names}",
                {"names": ", ".join(repeated)},
            )
        return self

    @property
    def display_name(self) -> str:
        return self.name or self.id

    def located_steps(self) -> list[LocatedRunbookStep]:
        """Prechecks, steps, postchecks in run order, each with its path below `runbook`."""
        return [
            LocatedRunbookStep(phase, (list_name, index), step)
            for list_name, phase in PHASE_LISTS
            for index, step in enumerate(getattr(self, list_name))
        ]


@dataclass(frozen=True)
class LocatedRunbookStep:
    phase: Phase
    path: tuple[str, int]  # below the runbook mapping
    spec: RunbookStepSpec

    @property
    def label(self) -> str:
        return f"{self.phase} '{self.spec.name}'"


class RunbookDocument(_Strict):
    runbook: RunbookSpec

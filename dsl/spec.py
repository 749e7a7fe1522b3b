"""Authoring models: what a workflow file may contain.

A superset of the Keep workflow format for the parts Fireline supports. Every model
forbids unknown fields, so a typo is an error instead of a silently ignored key.
Cross-field checks that need the whole workflow (references, providers) live in the
compiler; these models check one node at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dsl.durations import parse_duration
from dsl.plan import OnFailure, TriggerEvent
from dsl.values import InputType, matches_input_type, text_form, with_article

WORKFLOW_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
_BARE_RESULTS_REFERENCE = re.compile(r"results(?:\.[A-Za-z_]\w*|\[\d+\])+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from error


def _scalar_as_text(value: object) -> object:
    """YAML reads `value: 1` or `value: true` as numbers and booleans; keep them as text."""
    if isinstance(value, bool | int | float):
        return text_form(value)
    return value


def _none_as_empty_dict(value: object) -> object:
    return {} if value is None else value


def _none_as_empty_list(value: object) -> object:
    return [] if value is None else value


def _valid_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise PydanticCustomError(
            "regex",
            "invalid regular expression '{pattern}': {reason}",
            {"pattern": pattern, "reason": str(error)},
        ) from error
    return pattern


def _keep_bare_results(value: str) -> str:
    # Keep writes `value: results.issue.key` without braces; it means the template.
    if _BARE_RESULTS_REFERENCE.fullmatch(value.strip()):
        return "{{ " + value.strip() + " }}"
    return value


Duration = Annotated[float, BeforeValidator(_duration), Field(gt=0)]
Text = Annotated[str, BeforeValidator(_scalar_as_text)]
Regex = Annotated[str, BeforeValidator(_scalar_as_text), AfterValidator(_valid_regex)]
# `steps:` with nothing under it reads as null; Keep exports write such keys empty.
OptionalList = BeforeValidator(_none_as_empty_list)


class FilterSpec(_Strict):
    key: str = Field(min_length=1)
    value: Regex


def _default_events() -> list[TriggerEvent]:
    return ["created"]


class IncidentTrigger(_Strict):
    type: Literal["incident"]
    events: list[TriggerEvent] = Field(default_factory=_default_events, min_length=1)
    filters: Annotated[list[FilterSpec], OptionalList] = Field(default_factory=list)
    if_: Text | None = Field(None, validation_alias="if")


class ManualInput(_Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    type: InputType = "string"
    required: bool = False
    default: Any = None
    description: str = ""

    @model_validator(mode="after")
    def _default_has_the_declared_type(self) -> ManualInput:
        if self.default is not None and not matches_input_type(self.type, self.default):
            raise PydanticCustomError(
                "input_default",
                "default of input '{name}' must be {type}",
                {"name": self.name, "type": with_article(self.type)},
            )
        return self


class ManualTrigger(_Strict):
    type: Literal["manual"]
    inputs: Annotated[list[ManualInput], OptionalList] = Field(default_factory=list)

    @model_validator(mode="after")
    def _input_names_are_unique(self) -> ManualTrigger:
        names = [item.name for item in self.inputs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise PydanticCustomError(
                "duplicate_input",
                "duplicate input name(s): {names}",
                {"names": ", ".join(repeated)},
            )
        return self


class IntervalTrigger(_Strict):
    type: Literal["interval"]
    value: Duration | None = None  # Keep: seconds
    every: Duration | None = None

    @model_validator(mode="after")
    def _exactly_one_period(self) -> IntervalTrigger:
        if (self.value is None) == (self.every is None):
            raise PydanticCustomError(
                "interval_period", "an interval trigger needs exactly one of 'every' or 'value'"
            )
        return self

    @property
    def seconds(self) -> float:
        period = self.every if self.every is not None else self.value
        assert period is not None  # guaranteed by _exactly_one_period
        return period


def _reject_alert_trigger(value: object) -> object:
    if isinstance(value, dict) and value.get("type") == "alert":
        raise PydanticCustomError(
            "alert_trigger", "alert triggers are not supported; use type: incident"
        )
    return value


TriggerSpec = Annotated[
    IncidentTrigger | ManualTrigger | IntervalTrigger,
    Field(discriminator="type"),
    BeforeValidator(_reject_alert_trigger),
]


class ProviderSpec(_Strict):
    type: str = Field(min_length=1)
    config: str | None = None
    with_: Annotated[dict[str, Any], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict, validation_alias="with"
    )


class RetrySpec(_Strict):
    maximum_attempts: int = Field(3, ge=1)
    initial_interval: Duration = 1.0
    backoff: float = Field(2.0, ge=1)
    maximum_interval: Duration = 60.0

    @model_validator(mode="after")
    def _maximum_not_below_initial(self) -> RetrySpec:
        explicit = "maximum_interval" in self.model_fields_set
        if explicit and self.maximum_interval < self.initial_interval:
            raise PydanticCustomError(
                "retry_interval", "maximum_interval must not be shorter than initial_interval"
            )
        return self


class EnrichmentSpec(_Strict):
    key: str = Field(min_length=1)
    value: Annotated[Text, AfterValidator(_keep_bare_results)]


class StepSpec(_Strict):
    name: str = Field(min_length=1)
    if_: Text | None = Field(None, validation_alias=AliasChoices("if", "condition"))
    foreach: Text | None = None
    provider: ProviderSpec
    enrich_incident: Annotated[list[EnrichmentSpec], OptionalList] = Field(default_factory=list)
    retry: RetrySpec = RetrySpec()
    timeout: Duration = 60.0
    on_failure: OnFailure = "fail"

    @model_validator(mode="before")
    @classmethod
    def _one_condition_spelling(cls, data: Any) -> Any:
        if isinstance(data, dict) and "if" in data and "condition" in data:
            raise PydanticCustomError(
                "condition_twice", "give either 'if' or 'condition' (Keep's name), not both"
            )
        return data


class WorkflowSpec(_Strict):
    id: str = Field(pattern=WORKFLOW_ID_PATTERN, max_length=100)
    name: str | None = None
    description: str | None = None
    disabled: bool = False
    owners: Annotated[list[Any], OptionalList] = Field(default_factory=list)  # Keep: ignored
    services: Annotated[list[Any], OptionalList] = Field(default_factory=list)  # Keep: ignored
    triggers: list[TriggerSpec] = Field(min_length=1)
    consts: Annotated[dict[str, Any], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict
    )
    steps: Annotated[list[StepSpec], OptionalList] = Field(default_factory=list)
    actions: Annotated[list[StepSpec], OptionalList] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_work_to_do(self) -> WorkflowSpec:
        if not self.steps and not self.actions:
            raise PydanticCustomError("no_steps", "needs at least one step or action")
        return self

    @property
    def display_name(self) -> str:
        return self.name or self.id

    def located_steps(self) -> list[LocatedStep]:
        """Steps then actions, in run order, each with its path below the workflow."""
        return [
            LocatedStep("step", ("steps", index), step) for index, step in enumerate(self.steps)
        ] + [
            LocatedStep("action", ("actions", index), step)
            for index, step in enumerate(self.actions)
        ]


@dataclass(frozen=True)
class LocatedStep:
    kind: Literal["step", "action"]
    path: tuple[str, int]  # below the workflow mapping
    spec: StepSpec

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.spec.name}'"


class WorkflowDocument(_Strict):
    """A file with the `workflow:` wrapper, as Keep writes it."""

    workflow: WorkflowSpec

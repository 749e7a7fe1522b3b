"""Sandboxed Jinja2 templates: the API the compiler and the interpreter use.

Pure and deterministic, so the Temporal workflow can import it: the current time is
whatever the caller passes as `now` in the render context (workflow.now() there).

Render context names: incident, steps, consts, inputs, fireline, now (a datetime),
plus results (in enrich_incident) and foreach (the current item of a foreach step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError

from dsl.jinja_env import (
    TEMPLATE_GLOBALS,
    TemplateError,
    Undefined,
    compiled,
    compiled_expression,
    is_template,
    rewrite_hyphenated_references,
    single_expression,
)
from dsl.template_analysis import (
    ReferenceSet,
    SyntaxProblem,
    check_syntax,
    mixes_text_and_tags,
    referenced_names,
    syntax_problem,
)

__all__ = [
    "FALSE_WORDS",
    "TEMPLATE_GLOBALS",
    "ReferenceSet",
    "SyntaxProblem",
    "TemplateError",
    "check_syntax",
    "evaluate_condition",
    "is_template",
    "mixes_text_and_tags",
    "referenced_names",
    "render_value",
    "rewrite_hyphenated_references",
    "single_expression",
    "syntax_problem",
]

FALSE_WORDS = frozenset({"", "false", "none", "null", "0", "no"})


class _Clock:
    """`now()` in a template: returns the time the caller put in the context."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def __call__(self) -> datetime:
        return self._moment


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template string inside `value` (dicts and lists recursively).

    A string that is exactly one `{{ expression }}` gives the expression's native value;
    other template strings render to text. Values taken from the context are inserted
    as they are and never rendered again.
    """
    return _render(value, _variables(context))


def evaluate_condition(source: str, context: Mapping[str, Any]) -> bool:
    """Truthiness of a condition: the native value, or the rendered text, where
    "", "false", "none", "null", "0" and "no" (any case) count as false."""
    return _truthy(_render_string(source, _variables(context)))


def _render(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _render_string(value, variables)
    if isinstance(value, Mapping):
        return {key: _render(item, variables) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render(item, variables) for item in value]
    return value


def _render_string(source: str, variables: dict[str, Any]) -> Any:
    if not is_template(source):
        return source
    if single_expression(source) is not None:
        return _evaluate(source, variables)
    return _guarded(source, lambda: compiled(source).render(variables))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return bool(value)


def _evaluate(source: str, variables: dict[str, Any]) -> Any:
    expression = compiled_expression(source)
    result = _guarded(source, lambda: expression(**variables))
    if isinstance(result, Undefined):
        # A bare undefined value is only detected when used; use it to get the error.
        _guarded(source, lambda: str(result))
    return result


def _guarded(source: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except UndefinedError as error:
        raise TemplateError(source, f"undefined: {error.message}") from error
    except SecurityError as error:
        raise TemplateError(source, f"not allowed: {error.message}") from error
    except TemplateSyntaxError as error:
        raise TemplateError(source, f"syntax error: {error.message}") from error
    except TypeError as error:
        raise TemplateError(source, f"type error: {error}") from error
    except Exception as error:
        raise TemplateError(source, f"{type(error).__name__}: {error}") from error


def _variables(context: Mapping[str, Any]) -> dict[str, Any]:
    variables = dict(context)
    moment = variables.get("now")
    if isinstance(moment, datetime):
        variables["now"] = _Clock(moment)
    return variables

"""Sandboxed Jinja2 templates: syntax checks, reference analysis and rendering.

Pure and deterministic, so the Temporal workflow can import it: the current time is
whatever the caller passes as `now` in the render context (workflow.now() there).

Render context names: incident, steps, consts, inputs, fireline, now (a datetime),
plus results (in enrich_incident) and foreach (the current item of a foreach step).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import ImmutableSandboxedEnvironment

FALSE_WORDS = frozenset({"", "false", "none", "null", "0", "no"})
_MARKERS = ("{{", "{%", "{#")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_STRING_LITERAL = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
# `steps.create-jira-ticket` -> `steps['create-jira-ticket']`: a hyphen is minus in Jinja.
_HYPHENATED_REFERENCE = re.compile(r"(?<![\w.])(steps|providers)\.(\w+(?:-\w+)+)")
_SINGLE_EXPRESSION = re.compile(r"\s*\{\{[-+]?(?P<expression>.*?)[-+]?\}\}\s*", re.DOTALL)


class TemplateError(Exception):
    """A template failed to parse or render; `reason` says why in one line."""

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"{reason} in template {template!r}")
        self.template = template
        self.reason = reason


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    line: int  # 1-based line inside the template


@dataclass(frozen=True)
class ReferenceSet:
    """What a template reads: top-level names and step names, each with its first line."""

    names: Mapping[str, int]
    steps: Mapping[str, int]
    dynamic_step_reference: bool = False  # steps[some_variable]: not checkable


class _Undefined(ChainableUndefined, StrictUndefined):
    """Fails on any use, like StrictUndefined, but `incident.a.b` stays undefined
    instead of failing at `.b`, so `has(incident.a.b)` and `| default` work on chains;
    the error still names the first missing attribute."""

    __slots__ = ()


def _has(value: Any) -> bool:
    return not isinstance(value, _Undefined) and value is not None and value != ""


def _now_not_given() -> datetime:
    raise UndefinedError("now() needs the current time: the caller must pass 'now'")


class _Clock:
    """`now()` in a template: returns the time the caller put in the context."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def __call__(self) -> datetime:
        return self._moment


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=_Undefined, autoescape=False)
    env.globals["has"] = _has
    env.globals["now"] = _now_not_given
    return env


_ENV = _make_environment()
TEMPLATE_GLOBALS = frozenset(_ENV.globals)


def is_template(value: str) -> bool:
    return any(marker in value for marker in _MARKERS)


def rewrite_hyphenated_references(source: str) -> str:
    """Quote hyphenated step names inside tags, leaving string literals alone."""
    return _TAG.sub(lambda tag: _rewrite_outside_literals(tag.group(0)), source)


def _rewrite_outside_literals(tag: str) -> str:
    pieces: list[str] = []
    position = 0
    for literal in _STRING_LITERAL.finditer(tag):
        pieces.append(_quote_references(tag[position : literal.start()]))
        pieces.append(literal.group(0))
        position = literal.end()
    pieces.append(_quote_references(tag[position:]))
    return "".join(pieces)


def _quote_references(code: str) -> str:
    return _HYPHENATED_REFERENCE.sub(lambda m: f"{m.group(1)}['{m.group(2)}']", code)


def syntax_problem(source: str) -> SyntaxProblem | None:
    """The first syntax error in `source` (including unknown filters and tests)."""
    try:
        problem = _unknown_filter_or_test(_parsed(source))
        if problem is None:
            _compiled(source)
    except TemplateSyntaxError as error:
        return SyntaxProblem(error.message or str(error), error.lineno)
    return problem


def check_syntax(source: str) -> str | None:
    problem = syntax_problem(source)
    if problem is None:
        return None
    return f"{problem.message} (line {problem.line})" if problem.line > 1 else problem.message


def _unknown_filter_or_test(tree: nodes.Template) -> SyntaxProblem | None:
    # Jinja defers these to run time inside {% if %} blocks; catch them at lint time.
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        known = _ENV.filters if isinstance(node, nodes.Filter) else _ENV.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            return SyntaxProblem(f"no {kind} named '{node.name}'", node.lineno)
    return None


def referenced_names(source: str) -> ReferenceSet:
    """Top-level names and `steps.X` / `steps['X']` references used by `source`."""
    try:
        tree = _parsed(source)
        undeclared = find_undeclared_variables(tree)  # compiles: may fail on filters
    except TemplateSyntaxError as error:
        raise TemplateError(source, f"syntax error: {error.message}") from error
    names: dict[str, int] = {}
    for name_node in tree.find_all(nodes.Name):
        if name_node.name in undeclared:
            names.setdefault(name_node.name, name_node.lineno)
    steps, dynamic = _step_references(tree) if "steps" in undeclared else ({}, False)
    return ReferenceSet(names, steps, dynamic)


def _step_references(tree: nodes.Template) -> tuple[dict[str, int], bool]:
    steps: dict[str, int] = {}
    dynamic = False
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr) and _is_steps(node.node):
            steps.setdefault(node.attr, node.lineno)
        elif isinstance(node, nodes.Getitem) and _is_steps(node.node):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                steps.setdefault(node.arg.value, node.lineno)
            else:
                dynamic = True
    return steps, dynamic


def _is_steps(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "steps"


def single_expression(source: str) -> str | None:
    """The expression of a template that is exactly one `{{ ... }}`, else None."""
    match = _SINGLE_EXPRESSION.fullmatch(source)
    if match is None:
        return None
    try:
        body = _parsed(source).body
    except TemplateSyntaxError:
        return None
    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    parts = [
        part
        for part in body[0].nodes
        if not (isinstance(part, nodes.TemplateData) and not part.data.strip())
    ]
    if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
        return None
    return match.group("expression")


def mixes_text_and_tags(source: str) -> bool:
    """True when text sits beside tags at the top level, as in `'{{ a }}' == 'b'`."""
    try:
        body = _parsed(source).body
    except TemplateSyntaxError:
        return False
    has_tags = any(not isinstance(node, nodes.Output) for node in body)
    pieces = [part for node in body if isinstance(node, nodes.Output) for part in node.nodes]
    has_text = any(isinstance(p, nodes.TemplateData) and p.data.strip() for p in pieces)
    has_tags = has_tags or any(not isinstance(p, nodes.TemplateData) for p in pieces)
    return has_text and has_tags


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template string inside `value` (dicts and lists recursively).

    A string that is exactly one `{{ expression }}` gives the expression's native value;
    other template strings render to text. Values taken from the context are inserted
    as they are and never rendered again.
    """
    variables = _variables(context)
    return _render(value, variables)


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
    return _guarded(source, lambda: _compiled(source).render(variables))


def evaluate_condition(source: str, context: Mapping[str, Any]) -> bool:
    """Truthiness of a condition: the native value, or the rendered text, where
    "", "false", "none", "null", "0" and "no" (any case) count as false."""
    variables = _variables(context)
    if single_expression(source) is not None:
        return _truthy(_evaluate(source, variables))
    rendered = _render_string(source, variables)
    return _truthy(rendered)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return bool(value)


def _evaluate(source: str, variables: dict[str, Any]) -> Any:
    expression = _expression(source)
    result = _guarded(source, lambda: expression(**variables))
    if isinstance(result, _Undefined):
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


@lru_cache(maxsize=2048)
def _parsed(source: str) -> nodes.Template:
    return _ENV.parse(rewrite_hyphenated_references(source))


@lru_cache(maxsize=2048)
def _compiled(source: str) -> JinjaTemplate:
    return _ENV.from_string(rewrite_hyphenated_references(source))


@lru_cache(maxsize=2048)
def _expression(source: str) -> TemplateExpression:
    rewritten = rewrite_hyphenated_references(source)
    expression = single_expression(rewritten)
    if expression is None:
        raise TemplateError(source, "not a single {{ expression }}")
    try:
        return _ENV.compile_expression(expression, undefined_to_none=False)
    except TemplateSyntaxError as error:
        raise TemplateError(source, f"syntax error: {error.message}") from error

"""The one sandboxed Jinja2 environment, and cached parsing of template sources.

Step names may contain hyphens (`steps.create-jira-ticket`), which Jinja would read
as subtraction, so every source is rewritten to `steps['create-jira-ticket']` first.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.environment import TemplateExpression
from jinja2.sandbox import ImmutableSandboxedEnvironment

_MARKERS = ("{{", "{%", "{#")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_STRING_LITERAL = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
_HYPHENATED_REFERENCE = re.compile(r"(?<![\w.])(steps|providers)\.(\w+(?:-\w+)+)")
_SINGLE_EXPRESSION = re.compile(r"\s*\{\{[-+]?(?P<expression>.*?)[-+]?\}\}\s*", re.DOTALL)


class TemplateError(Exception):
    """A template failed to parse or render; `reason` says why in one line."""

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"{reason} in template {template!r}")
        self.template = template
        self.reason = reason


class Undefined(ChainableUndefined, StrictUndefined):
    """Fails on any use, like StrictUndefined, but `incident.a.b` stays undefined
    instead of failing at `.b`, so `has(incident.a.b)` and `| default` work on chains;
    the error still names the first missing attribute."""

    __slots__ = ()


def _has(value: Any) -> bool:
    return not isinstance(value, Undefined) and value is not None and value != ""


def _now_not_given() -> datetime:
    raise UndefinedError("now() needs the current time: the caller must pass 'now'")


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False)
    # Templates render inside workflow code, which Temporal replays: a value that differs
    # between runs would break the replay. The `random` filter and the `lipsum` global
    # are Jinja's only such built-ins; without them, `fireline lint` refuses a template
    # that uses one.
    del env.filters["random"]
    del env.globals["lipsum"]
    env.globals["has"] = _has
    env.globals["now"] = _now_not_given  # the render context's `now` replaces it
    return env


ENV = _make_environment()
TEMPLATE_GLOBALS = frozenset(ENV.globals)


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


@lru_cache(maxsize=2048)
def parsed(source: str) -> nodes.Template:
    """The syntax tree of `source`; raises TemplateSyntaxError."""
    return ENV.parse(rewrite_hyphenated_references(source))


@lru_cache(maxsize=2048)
def compiled(source: str) -> JinjaTemplate:
    """`source` compiled for rendering to text; raises TemplateSyntaxError."""
    return ENV.from_string(rewrite_hyphenated_references(source))


def single_expression(source: str) -> str | None:
    """The expression of a template that is exactly one `{{ ... }}`, else None."""
    match = _SINGLE_EXPRESSION.fullmatch(source)
    if match is None:
        return None
    try:
        body = parsed(source).body
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


@lru_cache(maxsize=2048)
def compiled_expression(source: str) -> TemplateExpression:
    """A single-`{{ expression }}` template compiled to return its native value."""
    rewritten = rewrite_hyphenated_references(source)
    expression = single_expression(rewritten)
    if expression is None:
        raise TemplateError(source, "not a single {{ expression }}")
    try:
        return ENV.compile_expression(expression, undefined_to_none=False)
    except TemplateSyntaxError as error:
        raise TemplateError(source, f"syntax error: {error.message}") from error

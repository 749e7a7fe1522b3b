"""Command templates: every `{{ }}` value is shell-quoted unless it goes through `| raw`.

A runbook command such as `systemctl restart {{ incident.service }}` renders with the same
sandboxed Jinja2 conventions as workflow templates (StrictUndefined, `steps.a-b`
rewriting, `has()`, `now()`), plus a `finalize` hook that passes every expression's value
through `shlex.quote`. `{{ value | raw }}` opts out for one expression: `raw` returns a
`RawText` marker that `finalize` leaves alone. `raw` must be the last step of the
expression: `{{ x | raw | upper }}` or `{{ x | raw ~ y }}` gives plain text again, which
is quoted (the safe way round).

Quoting only protects a value that the shell reads as a word of its own. Inside '...' or
"..." or a here-document the quotes Fireline adds are part of the text, and `"$(...)"`
in a value would run; `quoting_problems` finds such places, the compiler reports them,
and `render_command` refuses them.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from jinja2 import Template as JinjaTemplate
from jinja2 import TemplateSyntaxError, UndefinedError, nodes
from jinja2 import Undefined as JinjaUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dsl.jinja_env import ENV, TemplateError, Undefined, rewrite_hyphenated_references
from dsl.template_analysis import SyntaxProblem
from dsl.values import text_form

RAW_FILTER = "raw"
RAW_WARNING = "`| raw` disables shell quoting; make sure the value cannot come from an incident"

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


class RawText(str):
    """Text that `{{ value | raw }}` inserts into a command without quoting."""

    __slots__ = ()


def raw(value: Any) -> RawText:
    """The `raw` filter: mark a value as already safe for the shell."""
    return RawText(as_text(value))


def as_text(value: Any) -> str:
    """How a value is written into a command before quoting.

    None is empty, booleans are true/false, dates are ISO 8601, lists and mappings JSON.
    An undefined value raises (StrictUndefined) instead of becoming empty.
    """
    if isinstance(value, JinjaUndefined):
        return str(value)  # raises UndefinedError, naming the missing variable
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | float | Enum):
        return text_form(value)
    return json.dumps(value, sort_keys=True, default=str)


def quote_value(value: Any) -> str:
    """The `finalize` hook: every `{{ }}` output, shell-quoted unless it is RawText."""
    if isinstance(value, RawText):
        return str(value)
    return shlex.quote(as_text(value))


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=Undefined, autoescape=False, finalize=quote_value)
    env.globals.update(ENV.globals)
    env.filters[RAW_FILTER] = raw
    return env


SHELL_ENV = _make_environment()


@lru_cache(maxsize=1024)
def parsed_command(source: str) -> nodes.Template:
    """The syntax tree of a command template; raises TemplateSyntaxError."""
    return SHELL_ENV.parse(rewrite_hyphenated_references(source))


@lru_cache(maxsize=1024)
def _compiled_command(source: str) -> JinjaTemplate:
    return SHELL_ENV.from_string(rewrite_hyphenated_references(source))


def render_command(template: str, values: Mapping[str, Any]) -> str:
    """Render a command template; each interpolated value is shell-quoted.

    `values` is the render context (incident, steps, target, inputs, consts, and `now` as
    a datetime for `now()`). Raises TemplateError for syntax errors, undefined names,
    sandbox violations and a `{{ }}` placed where quoting cannot protect it.
    """
    problems = _syntax_or_quoting(template)
    if problems:
        raise TemplateError(template, problems[0].message)
    variables = dict(values)
    moment = variables.get("now")
    if isinstance(moment, datetime):
        variables["now"] = _clock(moment)
    return str(_guarded(template, lambda: _compiled_command(template).render(variables)))


def _clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _guarded(template: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except UndefinedError as error:
        raise TemplateError(template, f"undefined: {error.message}") from error
    except SecurityError as error:
        raise TemplateError(template, f"not allowed: {error.message}") from error
    except Exception as error:
        raise TemplateError(template, f"{type(error).__name__}: {error}") from error


def _syntax_or_quoting(template: str) -> list[SyntaxProblem]:
    problem = command_syntax_problem(template)
    return [problem] if problem is not None else quoting_problems(template)


def command_syntax_problem(source: str) -> SyntaxProblem | None:
    """The first syntax error of a command template (unknown filters included)."""
    try:
        tree = parsed_command(source)
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            known = SHELL_ENV.filters if isinstance(node, nodes.Filter) else SHELL_ENV.tests
            if node.name not in known:
                kind = "filter" if isinstance(node, nodes.Filter) else "test"
                return SyntaxProblem(f"no {kind} named '{node.name}'", node.lineno)
        _compiled_command(source)
    except TemplateSyntaxError as error:
        return SyntaxProblem(error.message or str(error), error.lineno)
    return None


def raw_uses(source: str) -> list[int]:
    """The line (inside the template) of every `| raw` in a command template."""
    try:
        tree = parsed_command(source)
    except TemplateSyntaxError:
        return []
    return [node.lineno for node in tree.find_all(nodes.Filter) if node.name == RAW_FILTER]


def quoting_problems(source: str) -> list[SyntaxProblem]:
    """Each quoted `{{ }}` that sits where the shell would not read it as one word."""
    scanner = _QuoteScanner()
    problems: list[SyntaxProblem] = []
    position = 0
    for tag in _TAG.finditer(source):
        scanner.feed(source[position : tag.start()])
        scanner.skip_tag()
        position = tag.end()
        text = tag.group(0)
        if not text.startswith("{{") or _is_raw_output(text):
            continue
        reason = scanner.unsafe_reason()
        if reason is not None:
            line = source.count("\n", 0, tag.start()) + 1
            problems.append(SyntaxProblem(_quoting_message(text, reason), line))
    return problems


def _quoting_message(tag: str, reason: str) -> str:
    return (
        f"{tag} is {reason}: Fireline already shell-quotes each value, and there the "
        "quoting would not hold, so an incident value could run commands; "
        "write the {{ }} as a word of its own (without quotes around it)"
    )


def _is_raw_output(tag: str) -> bool:
    try:
        body = parsed_command(tag).body
    except TemplateSyntaxError:
        return False
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return False
    expression = body[0].nodes[0]
    return isinstance(expression, nodes.Filter) and expression.name == RAW_FILTER


class _QuoteScanner:
    """Follows sh quoting through the literal text of a command, one piece at a time.

    Contexts: "'" and '"' quotes, "$(" command substitution, "(" a subshell or
    arithmetic paren, "`" backticks; `#` comments are skipped. Good enough to spot a
    `{{ }}` inside quotes or a here-document; it does not have to parse every program.
    """

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.heredoc = False
        self._escaped = False
        self._comment = False
        self._previous = "\n"

    def unsafe_reason(self) -> str | None:
        context = self.stack[-1] if self.stack else ""
        if context == "'":
            return "inside single quotes"
        if context == '"':
            return "inside double quotes"
        if self.heredoc:
            return "after a here-document (<<), whose body the shell expands"
        return None

    def skip_tag(self) -> None:
        self._previous = "}"  # a Jinja tag renders to a word: a `#` right after it is text

    def feed(self, text: str) -> None:
        index = 0
        while index < len(text):
            consumed = self._step(text, index)
            self._previous = text[index + consumed - 1]
            index += consumed

    def _step(self, text: str, index: int) -> int:
        char = text[index]
        context = self.stack[-1] if self.stack else ""
        if self._comment:
            self._comment = char != "\n"
            return 1
        if self._escaped:
            self._escaped = False
            return 1
        if context == "'":
            if char == "'":
                self.stack.pop()
            return 1
        if char == "\\":
            self._escaped = True
            return 1
        if text.startswith("$(", index):
            self.stack.append("$(")
            return 2
        if char == "`":
            self._backtick(context)
            return 1
        if context == '"':
            if char == '"':
                self.stack.pop()
            return 1
        return self._unquoted(text, index, char, context)

    def _backtick(self, context: str) -> None:
        if context == "`":
            self.stack.pop()
        else:
            self.stack.append("`")

    def _unquoted(self, text: str, index: int, char: str, context: str) -> int:
        if char == "#" and (self._previous.isspace() or self._previous in ";&|()"):
            self._comment = True
        elif char in "'\"":
            self.stack.append(char)
        elif char == "(":
            self.stack.append("(")
        elif char == ")" and context in ("$(", "("):
            self.stack.pop()
        elif text.startswith("<<<", index):
            return 3  # a here-string is one word: quoting holds
        elif text.startswith("<<", index):
            self.heredoc = True
            return 2
        return 1

"""What a template says without running it: syntax errors and the names it reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables

from dsl.jinja_env import ENV, TemplateError, compiled, parsed


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


def syntax_problem(source: str) -> SyntaxProblem | None:
    """The first syntax error in `source` (including unknown filters and tests)."""
    try:
        problem = _unknown_filter_or_test(parsed(source))
        if problem is None:
            compiled(source)
    except TemplateSyntaxError as error:
        return SyntaxProblem(error.message or str(error), error.lineno)
    return problem


def check_syntax(source: str) -> str | None:
    """The syntax error message of `source`, or None when it parses."""
    problem = syntax_problem(source)
    if problem is None:
        return None
    return f"{problem.message} (line {problem.line})" if problem.line > 1 else problem.message


def _unknown_filter_or_test(tree: nodes.Template) -> SyntaxProblem | None:
    # Jinja defers these to run time inside {% if %} blocks; catch them at lint time.
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        known = ENV.filters if isinstance(node, nodes.Filter) else ENV.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            return SyntaxProblem(f"no {kind} named '{node.name}'", node.lineno)
    return None


def referenced_names(source: str) -> ReferenceSet:
    """Top-level names and `steps.X` / `steps['X']` references used by `source`."""
    try:
        tree = parsed(source)
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


def mixes_text_and_tags(source: str) -> bool:
    """True when text sits beside tags at the top level, as in `'{{ a }}' == 'b'`."""
    try:
        body = parsed(source).body
    except TemplateSyntaxError:
        return False
    has_tags = any(not isinstance(node, nodes.Output) for node in body)
    pieces = [part for node in body if isinstance(node, nodes.Output) for part in node.nodes]
    has_text = any(isinstance(p, nodes.TemplateData) and p.data.strip() for p in pieces)
    has_tags = has_tags or any(not isinstance(p, nodes.TemplateData) for p in pieces)
    return has_text and has_tags

"""Compile YAML written inline in a test and look at what came out."""

from __future__ import annotations

import textwrap

from dsl.compiler import CompileResult, compile_text

FILE = "wf.yaml"


def compile_yaml(text: str) -> CompileResult:
    return compile_text(textwrap.dedent(text).lstrip("\n"), FILE)


def located(result: CompileResult) -> list[str]:
    """Each diagnostic as "line:col: message" (warnings marked)."""
    return [
        f"{d.line}:{d.col}: {'warning: ' if d.severity == 'warning' else ''}{d.message}"
        for d in result.diagnostics
    ]


def errors_of(text: str) -> list[str]:
    result = compile_yaml(text)
    assert result.plan is None, "expected the workflow not to compile"
    return [line for line in located(result) if ": warning: " not in line]


def only_error(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]

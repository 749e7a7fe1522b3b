"""Compile errors that point at file:line:col."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsl.yaml_source import NodePath

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.col}: {prefix}{self.message}"


@dataclass(frozen=True)
class Problem:
    """A finding before it has a file position: a path in the document and a message."""

    path: NodePath
    message: str
    severity: Severity = "error"
    at_key: bool = False  # point at the mapping key rather than its value
    template_line: int | None = None  # a line inside the template string at `path`

"""YAML loading that remembers where every node came from.

`load_yaml` has `yaml.safe_load` semantics; alongside the data it returns a
`SourceMap` that turns a path of keys and indexes into a 1-based line and column, so a
validation error on `("steps", 0, "provider")` can point at the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

NodePath = tuple[str | int, ...]

_BLOCK_STYLES = ("|", ">")
_QUOTE_STYLES = ("'", '"')


@dataclass(frozen=True)
class Location:
    line: int  # 1-based
    col: int  # 1-based


@dataclass(frozen=True)
class _NodeInfo:
    value: Location
    key: Location | None  # where the mapping key is, for a mapping entry
    style: str | None  # scalar style: None (plain), ', ", | or >


@dataclass(frozen=True)
class DuplicateKey:
    path: NodePath
    location: Location


class YamlSyntaxError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


@dataclass(frozen=True)
class SourceMap:
    """Positions of the nodes of one YAML document, addressed by path."""

    nodes: Mapping[NodePath, _NodeInfo]
    lines: tuple[str, ...]
    # Paths moved by normalisation: new prefix -> where it is written in the file.
    moved: Mapping[NodePath, NodePath] = field(default_factory=dict)

    def with_moves(self, moved: Mapping[NodePath, NodePath]) -> SourceMap:
        return SourceMap(self.nodes, self.lines, {**self.moved, **moved})

    def has(self, path: NodePath) -> bool:
        return self._original(path) in self.nodes

    def locate(self, path: NodePath, *, at_key: bool = False) -> Location:
        """Where `path` is written; the nearest written ancestor when it is not."""
        info = self._nearest(path)
        if at_key and info.key is not None:
            return info.key
        return info.value

    def text_location(self, path: NodePath, template_line: int = 1) -> Location:
        """Where line `template_line` of the string at `path` is written.

        Exact for literal (`|`) scalars. Other styles fold line breaks, so a line
        inside them cannot be mapped back: the answer is where the text starts.
        """
        info = self._nearest(path)
        if info.style not in _BLOCK_STYLES:
            col = info.value.col + (1 if info.style in _QUOTE_STYLES else 0)
            return Location(info.value.line, col)
        offset = template_line if info.style == "|" else 1
        return self._line_start(info.value.line + offset)

    def _original(self, path: NodePath) -> NodePath:
        for new, old in self.moved.items():
            if path[: len(new)] == new:
                return old + path[len(new) :]
        return path

    def _nearest(self, path: NodePath) -> _NodeInfo:
        original = self._original(path)
        for end in range(len(original), -1, -1):
            info = self.nodes.get(original[:end])
            if info is not None:
                return info
        return _NodeInfo(Location(1, 1), None, None)

    def _line_start(self, line: int) -> Location:
        if not 1 <= line <= len(self.lines):
            return Location(max(line, 1), 1)
        text = self.lines[line - 1]
        return Location(line, len(text) - len(text.lstrip()) + 1)


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    source: SourceMap
    duplicate_keys: tuple[DuplicateKey, ...]


class _SafeNodeLoader(yaml.SafeLoader):
    """SafeLoader that hands back the composed node tree as well as the data."""

    def load_with_node(self) -> tuple[Any, Node | None]:
        node = self.get_single_node()
        if node is None:
            return None, None
        return self.construct_document(node), node

    def key_value(self, node: Node) -> Any:
        return self.construct_object(node, deep=True)


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document; raise YamlSyntaxError with the position of the problem."""
    loader = _SafeNodeLoader(text)
    try:
        data, root = loader.load_with_node()
        walker = _PositionWalker(loader)
        if root is not None:
            walker.walk(root, (), None)
    except yaml.MarkedYAMLError as error:
        raise YamlSyntaxError(_describe(error), _mark_location(error)) from error
    except yaml.YAMLError as error:
        raise YamlSyntaxError(f"YAML error: {error}", Location(1, 1)) from error
    finally:
        loader.dispose()
    source = SourceMap(walker.nodes, tuple(text.splitlines()))
    return LoadedYaml(data, source, tuple(walker.duplicates))


class _PositionWalker:
    def __init__(self, loader: _SafeNodeLoader) -> None:
        self._loader = loader
        self.nodes: dict[NodePath, _NodeInfo] = {}
        self.duplicates: list[DuplicateKey] = []
        self._active: set[int] = set()  # nodes being walked: a recursive alias repeats one

    def walk(self, node: Node, path: NodePath, key: Location | None) -> None:
        style = node.style if isinstance(node, ScalarNode) else None
        self.nodes[path] = _NodeInfo(_start(node), key, style)
        if id(node) in self._active:
            raise YamlSyntaxError("YAML error: an alias refers to itself", _start(node))
        self._active.add(id(node))
        for child_path, child, child_key in self._children(node, path):
            self.walk(child, child_path, child_key)
        self._active.discard(id(node))

    def _children(
        self, node: Node, path: NodePath
    ) -> Iterator[tuple[NodePath, Node, Location | None]]:
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                yield (*path, index), item, None
        elif isinstance(node, MappingNode):
            seen: dict[str | int, Location] = {}
            for key_node, value_node in node.value:
                key = self._path_key(key_node)
                location = _start(key_node)
                if _written_twice(seen.get(key), _start(node)):
                    self.duplicates.append(DuplicateKey((*path, key), location))
                seen[key] = location
                yield (*path, key), value_node, location

    def _path_key(self, key_node: Node) -> str | int:
        if not isinstance(key_node, ScalarNode):
            return f"<complex key at line {key_node.start_mark.line + 1}>"
        key = self._loader.key_value(key_node)
        if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
            return key
        return str(key)


def _start(node: Node) -> Location:
    return Location(node.start_mark.line + 1, node.start_mark.column + 1)


def _written_twice(earlier: Location | None, mapping_start: Location) -> bool:
    # Keys merged in with `<<: *anchor` come from the anchor, which is written before
    # the mapping; overriding them is the point of a merge, not a duplicate.
    if earlier is None:
        return False
    return (earlier.line, earlier.col) >= (mapping_start.line, mapping_start.col)


def _mark_location(error: yaml.MarkedYAMLError) -> Location:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return Location(1, 1)
    return Location(mark.line + 1, mark.column + 1)


def _describe(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return "YAML syntax error: " + ", ".join(parts) if parts else "YAML syntax error"

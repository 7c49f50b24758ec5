"""Read YAML while remembering which line each value came from, so errors can name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError

PathKey = tuple[str | int, ...]
# libyaml's C parser when PyYAML was built with it (the wheels are): the same nodes and line marks,
# several times faster, which is most of the bot's start-up time.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class LocatedYaml:
    """A YAML document's data plus the 1-based line of every key and item in it."""

    path: Path
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, location: PathKey) -> int:
        """The line of `location`, or of its nearest located parent."""
        key = tuple(location)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 1

    def where(self, location: PathKey) -> str:
        """`file:line` for error messages."""
        return f"{self.path}:{self.line_of(location)}"


def _index_lines(node: yaml.Node, prefix: PathKey, lines: dict[PathKey, int]) -> None:
    lines.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            lines[key] = key_node.start_mark.line + 1
            _index_lines(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = (*prefix, index)
            lines[key] = item.start_mark.line + 1
            _index_lines(item, key, lines)


def load_located_yaml(path: Path) -> LocatedYaml:
    """Parse one YAML file; a syntax error becomes a ContentError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ContentError([f"{path}: cannot be read: {error}"]) from error
    try:
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise ContentError([f"{path}:{line}: YAML syntax error: {error.problem or error}"]) from error
    except yaml.YAMLError as error:
        raise ContentError([f"{path}: YAML error: {error}"]) from error
    located = LocatedYaml(path=path, data=data)
    if node is not None:
        _index_lines(node, (), located.lines)
    return located

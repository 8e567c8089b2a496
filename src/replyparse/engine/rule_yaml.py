"""Reading one rule file's YAML: libyaml, with the line of every mapping kept for error messages,
duplicate keys and aliases refused. Imported only when a rule set is not in the cache."""
from __future__ import annotations

from typing import Any

import yaml

from ..errors import RuleError


class LineDict(dict):
    """A mapping read from a rule file that knows the line it starts on (for error messages)."""
    line: int = 0


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's SafeLoader (5× faster than the pure-Python one) that remembers the line of every
    mapping, for error messages."""

    def construct_mapping(self, node, deep=False):
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        # duplicate keys are silently merged by PyYAML; a rule author wants to know
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                raise RuleError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return mapping


def _refuse_aliases(root) -> None:
    """YAML aliases are refused: no rule file needs them, and an alias bomb (a billion laughs)
    would expand to gigabytes in whatever walks the data. An alias makes the parser hand out the
    same node twice, so a node met twice is one."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise RuleError(f"line {node.start_mark.line + 1}: a YAML alias (of the value at this line) is not "
                            "allowed in rule files (write the value out, or use a {DEF})")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack += (k, v)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


def _construct_map(loader, node):
    return loader.construct_mapping(node)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def read_yaml(path, data: bytes) -> Any:
    try:
        loader = _LineLoader(data.decode("utf-8"))
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _refuse_aliases(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except RuleError as e:
        raise RuleError(f"{path}:{str(e)[5:] if str(e).startswith('line ') else e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise RuleError(f"{path}:{line}: malformed YAML: {getattr(e, 'problem', e)}") from None
    except UnicodeDecodeError as e:
        raise RuleError(f"{path}:0: not UTF-8: {e}") from None

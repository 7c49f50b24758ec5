"""Which text keys the code uses, found by reading it (for `python -m bot check`), not kept in lists.

The code asks for a content text by key: `texts.get("welcome")`, `texts.reply(key, ...)`,
`texts.button("flow_stop_label", ...)`, `Reply(key="text.welcome")`. This module reads the
source of the `bot` package with `ast` and follows every key back to where it is written:

- a literal, or either side of `a if c else b` / `a or b`;
- a name: its assignments in the function, a loop over a constant tuple, a module constant
  (imported or not); for a parameter, its `Literal[...]` type, else its default and what every
  call that fits the function passes it;
- an attribute named `..._key` (`action.resume_key`): the class attributes and record fields of
  that name; a call: the function's `Literal[...]` return type, else its `return` expressions;
- an f-string or a `+`: a family ("book_who_{}_label") whose holes are followed the same way;
  a loop over the catalogue (`catalog.centre.topics`) takes its members from the content.

A family whose hole the scan cannot follow takes its members from a `TEXT_FAMILIES` declaration
(below, or in any module); without one it stays open ("erased_{}"): content keys that fit it
count as used, and at least one must exist. A key that comes whole from content (a form's
`ask:`, a flow's text) is checked where that content is loaded (`bot.catalog.form_model`), and
the keys content names count as used (`content_keys`). `bot/catalog/` and `bot/engine/texts.py`
are not read for uses: they hold the texts and hand them out, they do not ask for them.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

PACKAGE: Final = Path(__file__).resolve().parents[1]
TEXT_METHODS: Final = frozenset({"get", "reply", "button"})  # `Texts` methods whose first argument is a key
KEY_KEYWORDS: Final = frozenset({"key", "label_key"})
REPLY_PREFIX: Final = "text."  # a `Reply` of a content text is keyed "text.<key>"
_KEY: Final = re.compile(r"[a-z][a-z0-9_]*")
_KEY_PART: Final = re.compile(r"[a-z0-9_]*")
# Families whose hole the scan cannot follow (a booking row's own `who`, `mode`, `status`), and where
# their members are listed: a tuple, "module:NAME" (a constant of the code) or "catalog:path" (the
# content, e.g. a form step's options). Any module may declare its own `TEXT_FAMILIES` the same way,
# next to the code that builds the keys; these wait for the booking code to do so. A declaration
# whose members cannot be found is an error of `check`.
TEXT_FAMILIES: Final = {
    "book_who_{}": "catalog:forms.booking.spec.steps.who.options",
    "book_mode_{}": "catalog:forms.booking.spec.steps.mode.options",
    "book_status_{}": "bot.storage.booking_store:OPEN_STATUSES",
    "staff_status_{}": ("requested", "claimed", "proposed", "confirmed", "cancelled", "closed", "withdrawn"),
}
FAMILIES_NAME: Final = "TEXT_FAMILIES"
# The catalogue holds texts as mappings and `Texts` is the mechanism itself: keys pass through, none is asked for there.
SKIPPED: Final = ("bot.catalog", "bot.engine.texts")
_MAX_DEPTH: Final = 12
_MAX_TEMPLATES: Final = 256


@dataclass(frozen=True)
class Hole:
    """Where a key is built from values: from the catalogue (`path`, e.g. "centre.topics"), or unknown.
    `declared`: where a `TEXT_FAMILIES` entry named the path (content must then have it)."""

    path: str | None = None
    declared: str | None = None


UNKNOWN: Final = Hole()
CATALOG_PREFIX: Final = "catalog:"
Part = str | Hole
Template = tuple[Part, ...]


@dataclass(frozen=True)
class KeyUse:
    """One key (or family of keys) the code asks for, and where."""

    template: Template
    site: str  # "bot/engine/core.py:548"

    @property
    def pattern(self) -> str:
        """The key as written for people: holes as "{}" ("book_who_{}_label")."""
        return "".join(part if isinstance(part, str) else "{}" for part in self.template)

    def expand(self, catalog: Any) -> tuple[list[str], re.Pattern[str] | None]:
        """The keys this use names (catalogue holes filled in), and a pattern for what stays unknown."""
        choices = [[part] if isinstance(part, str) else _content_values(catalog, part) for part in self.template]
        keys: list[str] = []
        patterns: list[str] = []
        for combination in itertools.product(*choices):
            if all(isinstance(part, str) for part in combination):
                keys.append("".join(combination))  # type: ignore[arg-type]
            else:
                patterns.append("".join(re.escape(p) if isinstance(p, str) else ".+" for p in combination))
        return keys, re.compile("|".join(patterns)) if patterns else None


def _content_values(catalog: Any, hole: Hole) -> list[Part]:
    """The values of a catalogue path ("centre.topics" -> the topic ids), or the hole itself."""
    if hole.path is None:
        return [hole]
    value = _at_path(catalog, hole.path)
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(item) for item in value]
    return [] if hole.declared else [UNKNOWN]


def _at_path(catalog: Any, path: str) -> Any:
    """What the catalogue holds at "forms.booking.spec.steps.who.options" (mappings by key)."""
    value = catalog
    for name in path.split(".") if path else ():
        value = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
    return value


@dataclass(frozen=True)
class TextKeyUses:
    """Every text key the code asks for, each with the places that ask."""

    uses: tuple[KeyUse, ...]
    stale: tuple[tuple[str, str], ...] = ()  # `TEXT_FAMILIES` entries whose members are gone: (pattern, where)

    def required(self, catalog: Any) -> dict[str, list[str]]:
        """Key -> the places that use it, for every key the code names (families expanded)."""
        found: dict[str, list[str]] = {}
        for use in self.uses:
            for key in use.expand(catalog)[0]:
                sites = found.setdefault(key, [])
                if use.site not in sites:
                    sites.append(use.site)
        return found

    def open_families(self, catalog: Any) -> list[tuple[KeyUse, re.Pattern[str]]]:
        """The families with a hole the scan could not follow, each with the pattern its keys fit."""
        out = []
        for use in self.uses:
            pattern = use.expand(catalog)[1]
            if pattern is not None and any(isinstance(part, str) for part in use.template):
                out.append((use, pattern))
        return out

    def unfollowed(self) -> list[str]:
        """Where a key comes whole from elsewhere (a form's or a flow's content, checked where it is loaded)."""
        return sorted({use.site for use in self.uses if use.template == (UNKNOWN,)})


def content_keys(catalog: Any, texts: Iterable[str]) -> set[str]:
    """The text keys the content names itself: centre topics (`centre_<id>`, `centre_<id>_label`),
    and any value of a form or a flow that is a text key (a form's `label` with "{option}" per option)."""
    texts = set(texts)
    found: set[str] = set()
    centre = getattr(catalog, "centre", None)
    for topic_id in getattr(centre, "topics", None) or {}:
        found.update({f"centre_{topic_id}", f"centre_{topic_id}_label"})

    def walk(value: Any) -> None:
        if hasattr(value, "model_dump"):
            value = value.model_dump()
        if isinstance(value, Mapping):
            options = value.get("options")
            for item in value.values():
                if isinstance(item, str) and "{option}" in item and isinstance(options, list):
                    found.update(item.replace("{option}", str(option)) for option in options)
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value in texts:
            found.add(value)

    for form in (getattr(catalog, "forms", None) or {}).values():
        walk(getattr(form, "spec", form))
    for flow in (getattr(catalog, "flows", None) or {}).values():
        walk(flow[1] if isinstance(flow, tuple) and len(flow) == 2 else flow)
    return found & texts


def text_key_problems(catalog: Any, uses: TextKeyUses | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings): each key the code uses that content/texts*.yaml lacks, with where it is
    used; a family of keys none of which exists; and (warnings) texts nothing uses."""
    uses = uses or scan_package()
    texts = set(catalog.texts)
    errors = [f"{site}: TEXT_FAMILIES '{pattern}': its members are no longer where it says" for pattern, site in uses.stale]
    declared = {hole for use in uses.uses for hole in use.template if isinstance(hole, Hole) and hole.declared}
    for hole in sorted(declared, key=lambda hole: str(hole.declared)):
        if not _content_values(catalog, hole):
            errors.append(f"{hole.declared}: TEXT_FAMILIES: the content has nothing at '{hole.path}'")
    required = uses.required(catalog)
    for key in sorted(set(required) - texts):
        errors.append(f"content/texts.yaml: the text '{key}' is missing (used at {', '.join(required[key])})")
    families = uses.open_families(catalog)
    for use, pattern in families:
        if not any(pattern.fullmatch(key) for key in texts):
            errors.append(f"content/texts.yaml: no text fits '{use.pattern}' (a key built at {use.site})")
    used = set(required) | content_keys(catalog, texts)
    used |= {key for key in texts for _, pattern in families if pattern.fullmatch(key)}
    where = getattr(catalog, "where", {})
    warnings = [f"{where.get(f'texts/{key}', 'content/texts.yaml')}: the text '{key}' is used by no code or content" for key in sorted(texts - used)]
    return errors, warnings


# --- reading the package -------------------------------------------------------------------------------------


Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass
class _Module:
    name: str
    rel: str
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    nodes: list[ast.AST] = field(default_factory=list)


@dataclass(frozen=True)
class _Where:
    module: _Module
    function: Function | None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _is_texts(node: ast.expr) -> bool:
    """`texts`, `self.texts`, `self.engine.texts`, `staff_texts`, `texts.in_language(code)`."""
    if isinstance(node, ast.Name):
        return node.id.endswith("texts")
    if isinstance(node, ast.Attribute):
        return node.attr.endswith("texts")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_language":
        return _is_texts(node.func.value)
    return False


def _own_nodes(function: Function) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions defined inside it."""
    stack: list[ast.AST] = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _parameters(function: Function) -> list[ast.arg]:
    args = function.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def _defaults(function: Function) -> dict[str, ast.expr]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    found = {arg.arg: value for arg, value in zip(positional[len(positional) - len(args.defaults):], args.defaults)}
    found.update({arg.arg: value for arg, value in zip(args.kwonlyargs, args.kw_defaults) if value is not None})
    return found


class _Package:
    """The parsed package and the indexes the key resolution walks."""

    def __init__(self, root: Path) -> None:
        self.modules: dict[str, _Module] = {}
        self.functions: dict[str, list[tuple[_Module, Function]]] = {}
        self.calls: dict[str, list[tuple[_Module, ast.Call]]] = {}
        self.class_attrs: dict[str, list[tuple[_Module, ast.expr]]] = {}
        self.keywords: dict[str, list[tuple[_Module, ast.Call, ast.expr]]] = {}
        # What a name, an attribute or a call was found to hold, by where it stands; a lookup still
        # running counts as unknown, which ends a cycle (a parameter passed on to itself).
        self._memo: dict[tuple[object, ...], list[Template]] = {}
        base = root.parent
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(base)
            name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            module = _Module(name, relative.as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(relative)))
            self.modules[name] = module
            self._index(module)

    def _index(self, module: _Module) -> None:
        for statement in module.tree.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                module.constants[statement.targets[0].id] = statement.value
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
                module.constants[statement.target.id] = statement.value
        nodes: list[ast.AST] = [module.tree]
        for node in nodes:  # grows while it is read: every node once, each knowing its parent
            for child in ast.iter_child_nodes(node):
                module.parents[child] = node
                nodes.append(child)
        module.nodes = nodes
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(node.name, []).append((module, node))
            elif isinstance(node, ast.Call):
                name = _callee(node)
                if name:
                    self.calls.setdefault(name, []).append((module, node))
                for keyword in node.keywords if name and name[:1].isupper() else ():  # a record built: Step(resume_key=...)
                    if keyword.arg:
                        self.keywords.setdefault(keyword.arg, []).append((module, node, keyword.value))
            elif isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if isinstance(statement, ast.Assign):
                        for target in statement.targets:
                            if isinstance(target, ast.Name):
                                self.class_attrs.setdefault(target.id, []).append((module, statement.value))
                    elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
                        self.class_attrs.setdefault(statement.target.id, []).append((module, statement.value))

    def declared_families(self) -> dict[str, tuple[list[Part], str]]:
        """Every `TEXT_FAMILIES` entry of the package: pattern -> (members, where declared); a member
        is a string, or a `Hole` of the catalogue; no members at all: the declaration is stale."""
        declared: dict[str, tuple[list[Part], str]] = {}
        for module in self.modules.values():
            table = module.constants.get(FAMILIES_NAME)
            if not isinstance(table, ast.Dict):
                continue
            for key, value in zip(table.keys, table.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    continue
                site = f"{module.rel}:{key.lineno}"
                if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.startswith(CATALOG_PREFIX):
                    declared[key.value] = ([Hole(value.value[len(CATALOG_PREFIX):], site)], site)
                    continue
                if isinstance(value, ast.Constant) and isinstance(value.value, str) and ":" in value.value:
                    source, _, name = value.value.partition(":")
                    other = self.modules.get(source)
                    found = self._global(name, other, 0, frozenset(), self.items) if other else []
                else:
                    found = self.items(value, _Where(module, None), 0, frozenset())
                members: list[Part] = [t[0] for t in found if len(t) == 1 and isinstance(t[0], str)]
                declared[key.value] = (members if len(members) == len(found) else [], site)
        return declared

    def function_of(self, module: _Module, node: ast.AST) -> Function | None:
        current = module.parents.get(node)
        while current is not None and not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            current = module.parents.get(current)
        return current

    def where(self, module: _Module, node: ast.AST) -> _Where:
        return _Where(module, self.function_of(module, node))

    # --- the uses --------------------------------------------------------------------------------------------

    def uses(self) -> Iterator[KeyUse]:
        declared = self.declared_families()
        for use in self._found_uses():
            members = declared.get(use.pattern, ([], ""))[0]
            if not members or use.template.count(UNKNOWN) != 1:
                yield use
                continue
            hole = use.template.index(UNKNOWN)
            for member in members:
                yield KeyUse(_tidy((*use.template[:hole], member, *use.template[hole + 1 :])), use.site)

    def _found_uses(self) -> Iterator[KeyUse]:
        for module in self.modules.values():
            if module.name in SKIPPED or module.name.startswith(f"{SKIPPED[0]}."):
                continue
            for node in module.nodes:
                expression = self._key_expression(node, module)
                if expression is None:
                    continue
                site = f"{module.rel}:{node.lineno}"  # type: ignore[attr-defined]
                for template in self.resolve(expression, self.where(module, node), 0, frozenset()):
                    if isinstance(node, (ast.Constant, ast.JoinedStr)):
                        template = _without_prefix(template)
                    if template:
                        yield KeyUse(template, site)

    def _is_texts(self, receiver: ast.expr, module: _Module, node: ast.AST) -> bool:
        """A `Texts`: by its name, or a local name given one (`chosen = texts.in_language(language)`)."""
        if _is_texts(receiver):
            return True
        function = self.function_of(module, node)
        if not isinstance(receiver, ast.Name) or function is None:
            return False
        return any(
            isinstance(inner, ast.Assign) and _is_texts(inner.value)
            and any(isinstance(target, ast.Name) and target.id == receiver.id for target in inner.targets)
            for inner in _own_nodes(function)
        )

    def _key_expression(self, node: ast.AST, module: _Module) -> ast.expr | None:
        """The key argument of a `Texts` call, or a "text.<key>" string itself."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in TEXT_METHODS and self._is_texts(node.func.value, module, node):
                if node.args and not isinstance(node.args[0], ast.Starred):
                    return node.args[0]
                return next((k.value for k in node.keywords if k.arg in KEY_KEYWORDS), None)
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            key = node.value[len(REPLY_PREFIX):]
            if node.value.startswith(REPLY_PREFIX) and _KEY.fullmatch(key) and not key.endswith("_"):  # not a prefix
                return node
            return None
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith(REPLY_PREFIX):
                literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                if _KEY_PART.fullmatch(literal[len(REPLY_PREFIX):]):
                    return node
        return None

    # --- following a key back --------------------------------------------------------------------------------

    def resolve(self, node: ast.expr, at: _Where, depth: int, seen: frozenset[int]) -> list[Template]:
        """The templates an expression may evaluate to (`UNKNOWN` where it cannot be followed)."""
        if depth > _MAX_DEPTH or id(node) in seen:
            return [(UNKNOWN,)]
        seen = seen | {id(node)}
        depth += 1
        if isinstance(node, ast.Constant):
            return [(node.value,)] if isinstance(node.value, str) else []
        if isinstance(node, ast.JoinedStr):
            parts: list[list[Template]] = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append([(str(value.value),)])
                elif isinstance(value, ast.FormattedValue) and value.format_spec is None and value.conversion == -1:
                    parts.append(_filled(self.resolve(value.value, at, depth, seen)))
                else:
                    parts.append([(UNKNOWN,)])
            return _concat(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _concat([_filled(self.resolve(node.left, at, depth, seen)), _filled(self.resolve(node.right, at, depth, seen))])
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, at, depth, seen) + self.resolve(node.orelse, at, depth, seen)
        if isinstance(node, ast.BoolOp):
            return [t for value in node.values for t in self.resolve(value, at, depth, seen)]
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value, at, depth, seen)
        if isinstance(node, ast.Name):
            return self._name(node.id, at, depth, seen, iterate=False)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, at, depth, seen)
        if isinstance(node, ast.Call):
            return self._returns(node, at, depth, seen)
        if isinstance(node, ast.Subscript):
            values = self._definitions_of(node.value, at)
            if values and all(isinstance(value, ast.Dict) for value, _ in values):
                return [t for value, where in values for v in value.values for t in self.resolve(v, where, depth, seen)]  # type: ignore[attr-defined]
        return [(UNKNOWN,)]

    def items(self, node: ast.expr, at: _Where, depth: int, seen: frozenset[int], index: int | None = None) -> list[Template]:
        """The values a loop over `node` gives its target (`index`: that element of each item)."""
        if depth > _MAX_DEPTH:
            return [(UNKNOWN,)]
        depth += 1
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "keys") and not node.args:
            if node.func.attr == "keys" or index == 0:
                return self.items(node.func.value, at, depth, seen)
            return [(UNKNOWN,)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "enumerate" and node.args:
            return self.items(node.args[0], at, depth, seen) if index == 1 else [(UNKNOWN,)]
        if index is not None:
            return [(UNKNOWN,)]
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [t for element in node.elts for t in self.resolve(element, at, depth, seen)]
        if isinstance(node, ast.Dict):
            return [t for key in node.keys if key is not None for t in self.resolve(key, at, depth, seen)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
            if node.func.id in ("tuple", "list", "set", "frozenset", "sorted", "reversed"):
                return self.items(node.args[0], at, depth, seen)
        path = _catalog_path(node)
        if path is not None:
            return [(Hole(path),)]
        if isinstance(node, ast.Name):
            return self._name(node.id, at, depth, seen, iterate=True)
        return [(UNKNOWN,)]

    def _remembered(self, key: tuple[object, ...], find: Any) -> Any:
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = [(UNKNOWN,)]
        found = find()
        if found is None:
            del self._memo[key]
        else:
            self._memo[key] = found
        return found

    def _name(self, name: str, at: _Where, depth: int, seen: frozenset[int], *, iterate: bool) -> list[Template]:
        where = id(at.function) if at.function is not None else at.module.name
        return self._remembered(("name", name, where, iterate), lambda: self._find_name(name, at, depth, seen, iterate=iterate))

    def _find_name(self, name: str, at: _Where, depth: int, seen: frozenset[int], *, iterate: bool) -> list[Template]:
        follow = self.items if iterate else self.resolve
        function = at.function
        while function is not None:
            found = self._local(name, function, at.module, depth, seen, iterate=iterate)
            if found is not None:
                return found
            function = self.function_of(at.module, function)
        return self._global(name, at.module, depth, seen, follow)

    def _global(self, name: str, module: _Module, depth: int, seen: frozenset[int], follow: Any) -> list[Template]:
        if name in module.constants:
            return follow(module.constants[name], _Where(module, None), depth, seen)
        if name in module.imports:
            source, original = module.imports[name]
            other = self.modules.get(source)
            if other is not None:
                return self._global(original, other, depth, seen, follow)
        return [(UNKNOWN,)]

    def _local(
        self, name: str, function: Function, module: _Module, depth: int, seen: frozenset[int], *, iterate: bool
    ) -> list[Template] | None:
        """What `name` holds in this function: its assignments, loop targets, or (a parameter) its callers' values."""
        at = _Where(module, function)
        follow = self.items if iterate else self.resolve
        found: list[Template] = []
        assigned = False
        for node in _own_nodes(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    value = _assigned(target, node.value, name)
                    if value is not None:
                        assigned = True
                        found += follow(value, at, depth, seen) if isinstance(value, ast.expr) else [(UNKNOWN,)]
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name) and node.target.id == name:
                if node.value is not None:
                    assigned = True
                    found += follow(node.value, at, depth, seen)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                assigned = True
                found.append((UNKNOWN,))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                index = _target_index(node.target, name)
                if index is not None:
                    assigned = True
                    found += [(UNKNOWN,)] if iterate else self.items(node.iter, at, depth, seen, None if index < 0 else index)
        if assigned:
            return found
        if isinstance(function, ast.Lambda) or name not in {arg.arg for arg in _parameters(function)}:
            return None
        return self._parameter(name, function, module, depth, seen, iterate=iterate)

    def _parameter(
        self, name: str, function: ast.FunctionDef | ast.AsyncFunctionDef, module: _Module, depth: int,
        seen: frozenset[int], *, iterate: bool,
    ) -> list[Template]:
        arg = next(arg for arg in _parameters(function) if arg.arg == name)
        if arg.annotation is not None and not iterate:
            literal = self._literal(arg.annotation, module)
            if literal is not None:
                return literal
        follow = self.items if iterate else self.resolve
        found: list[Template] = []
        default = _defaults(function).get(name)
        if default is not None:
            found += follow(default, _Where(module, self.function_of(module, function)), depth, seen)
        positional = [*function.args.posonlyargs, *function.args.args]
        index = next((i for i, a in enumerate(positional) if a.arg == name), None)
        method = bool(positional) and positional[0].arg in ("self", "cls")
        for caller, call in self.calls.get(function.name, []):
            shift = 1 if method and isinstance(call.func, ast.Attribute) else 0
            if not _fits(function, call, shift):
                continue  # another function of the same name
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                found.append((UNKNOWN,))
                continue
            value = next((k.value for k in call.keywords if k.arg == name), None)
            if value is None and index is not None:
                if 0 <= index - shift < len(call.args):
                    value = call.args[index - shift]
            if value is not None:
                found += follow(value, self.where(caller, call), depth, seen)
        return found or [(UNKNOWN,)]

    def _attribute(self, node: ast.Attribute, at: _Where, depth: int, seen: frozenset[int]) -> list[Template]:
        return self._remembered(("attribute", node.attr), lambda: self._find_attribute(node, depth, seen))

    def _find_attribute(self, node: ast.Attribute, depth: int, seen: frozenset[int]) -> list[Template]:
        """An attribute named for a key (`action.resume_key`): the class attributes and the record
        fields (`Step(resume_key=...)`) of that name. Any other attribute is content or data."""
        if not node.attr.endswith("key"):
            return [(UNKNOWN,)]
        found: list[Template] = []
        for module, value in self.class_attrs.get(node.attr, []):
            found += self.resolve(value, _Where(module, None), depth, seen)
        for module, call, value in self.keywords.get(node.attr, []):
            found += self.resolve(value, self.where(module, call), depth, seen)
        return found or [(UNKNOWN,)]

    def _returns(self, node: ast.Call, at: _Where, depth: int, seen: frozenset[int]) -> list[Template]:
        name = _callee(node)
        return self._remembered(("returns", name), lambda: self._find_returns(name, depth, seen))

    def _find_returns(self, name: str | None, depth: int, seen: frozenset[int]) -> list[Template]:
        functions = self.functions.get(name or "", [])
        if not functions:
            return [(UNKNOWN,)]
        found: list[Template] = []
        for module, function in functions:
            literal = self._literal(function.returns, module) if function.returns is not None else None
            if literal is not None:
                found += literal
                continue
            for inner in _own_nodes(function):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    found += self.resolve(inner.value, _Where(module, function), depth, seen)
        return found or [(UNKNOWN,)]

    def _literal(self, annotation: ast.expr, module: _Module, depth: int = 0) -> list[Template] | None:
        """The values of a `Literal[...]` type (through aliases, and `X | None`); None if not one."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            sides = [self._literal(side, module, depth + 1) for side in (annotation.left, annotation.right)]
            sides = [side for side, node in zip(sides, (annotation.left, annotation.right)) if not _is_none(node)]
            return None if not sides or any(side is None for side in sides) else [t for side in sides for t in side or []]
        if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name) and annotation.value.id == "Literal":
            values = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            return [(v.value,) for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if isinstance(annotation, ast.Name):
            if annotation.id in module.constants:
                return self._literal(module.constants[annotation.id], module, depth + 1)
            if annotation.id in module.imports:
                source, original = module.imports[annotation.id]
                other = self.modules.get(source)
                if other is not None and original in other.constants:
                    return self._literal(other.constants[original], other, depth + 1)
        return None

    def _definitions_of(self, node: ast.expr, at: _Where) -> list[tuple[ast.expr, _Where]]:
        """The expression a plain name was last given (a module constant), for a subscript."""
        if isinstance(node, ast.Name):
            module = at.module
            name = node.id
            while True:
                if name in module.constants:
                    return [(module.constants[name], _Where(module, None))]
                if name in module.imports and module.imports[name][0] in self.modules:
                    module, name = self.modules[module.imports[name][0]], module.imports[name][1]
                    continue
                return []
        return []


def _fits(function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, shift: int) -> bool:
    """Whether `call` can call `function`: its keywords are parameters, its positional arguments fit."""
    args = function.args
    names = {arg.arg for arg in _parameters(function)}
    if args.kwarg is None and any(k.arg is not None and k.arg not in names for k in call.keywords):
        return False
    positional = len(args.posonlyargs) + len(args.args) - shift
    return args.vararg is not None or sum(not isinstance(a, ast.Starred) for a in call.args) <= positional


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _assigned(target: ast.expr, value: ast.expr, name: str) -> ast.expr | bool | None:
    """The part of `value` that `name` receives in `target = value` (True: some part nobody can name)."""
    if isinstance(target, ast.Name):
        return value if target.id == name else None
    if isinstance(target, (ast.Tuple, ast.List)):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name) and element.id == name:
                if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                    return value.elts[index]
                return True
    return None


def _target_index(target: ast.expr, name: str) -> int | None:
    """-1 when a loop's target is `name` itself, the position when it is one element of a tuple target."""
    if isinstance(target, ast.Name):
        return -1 if target.id == name else None
    if isinstance(target, ast.Tuple):
        for index, element in enumerate(target.elts):
            if isinstance(element, ast.Name) and element.id == name:
                return index
    return None


def _catalog_path(node: ast.expr) -> str | None:
    """`texts.catalog.centre.topics` -> "centre.topics": what the content holds there."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    names.reverse()
    if "catalog" not in names[:-1]:
        return None
    return ".".join(names[names.index("catalog") + 1 :])


def _filled(templates: list[Template]) -> list[Template]:
    """A piece of a key, without the empty string a guard keeps out ("centre_" + "" is never asked for)."""
    kept = [template for template in templates if _tidy(template)]
    return kept or [(UNKNOWN,)]


def _concat(parts: list[list[Template]]) -> list[Template]:
    """Every combination of the parts' templates, joined (too many: one unknown hole)."""
    out: list[Template] = [()]
    for choices in parts:
        if not choices:
            return []
        out = [left + right for left in out for right in choices]
        if len(out) > _MAX_TEMPLATES:
            return [(UNKNOWN,)]
    return [_tidy(template) for template in out]


def _tidy(template: Template) -> Template:
    """Adjacent literals joined, adjacent unknown holes merged into one."""
    out: list[Part] = []
    for part in template:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        elif part == UNKNOWN and out and out[-1] == UNKNOWN:
            continue
        out.append(part)
    return tuple(out)


def _without_prefix(template: Template) -> Template:
    first = template[0] if template else ""
    if isinstance(first, str) and first.startswith(REPLY_PREFIX):
        return _tidy((first[len(REPLY_PREFIX):], *template[1:]))
    return template


@lru_cache(maxsize=4)
def scan_package(root: Path = PACKAGE) -> TextKeyUses:
    """The text keys the package's code uses (read once per process)."""
    package = _Package(root)
    unique: dict[tuple[Template, str], KeyUse] = {}
    for use in package.uses():
        unique.setdefault((use.template, use.site), use)
    stale = tuple((pattern, site) for pattern, (members, site) in package.declared_families().items() if not members)
    return TextKeyUses(tuple(unique.values()), stale)

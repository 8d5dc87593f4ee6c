"""The shape every domain keeps: imports point one way, imports sit at the top of a module, and
SQL is written only in repositories. Read from the source, so a change that breaks the shape
fails here (import-linter, run by `make lint`, also keeps app.core, app.db and app.models free
of the domains)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
# Commands import what they run, so `inovasi serve` does not load the seed and `inovasi
# --help` stays quick: the one place a function-level import is allowed.
LAZY_IMPORTS_ALLOWED = {"app.cli"}
# Names that build SQL, kept out of services, routers and schemas (repositories, app/db and
# the models write it; core's infrastructure too).
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "exists", "union_all"}
SESSION_RUNNERS = {"execute", "scalar", "scalars", "get", "stream", "stream_scalars"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(), str(path))
        for path in sorted(APP.rglob("*.py"))
    }


MODULES = _modules()


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
    )


def _runtime_imports(module: str, tree: ast.Module) -> Iterator[str]:
    """The app modules `module` imports when it is imported (not under TYPE_CHECKING)."""
    for node in tree.body:
        if _is_type_checking(node):
            continue
        for sub in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(sub, ast.Import):
                yield from (a.name for a in sub.names if a.name.startswith("app."))
            elif isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
                if not sub.module.startswith("app"):
                    continue
                for alias in sub.names:
                    candidate = f"{sub.module}.{alias.name}"
                    yield candidate if candidate in MODULES else sub.module


def _graph() -> dict[str, set[str]]:
    return {
        name: {target for target in _runtime_imports(name, tree) if target in MODULES}
        for name, tree in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back() -> None:
    """Every import between app modules points one way: no cycle, however long."""
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def _nested_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    top: set[int] = set()
    for statement in tree.body:
        top.add(id(statement))
        if _is_type_checking(statement) or isinstance(statement, ast.Try):
            top.update(id(sub) for sub in ast.walk(statement))
    for node in ast.walk(tree):
        if id(node) in top:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name == "app" or name.startswith("app.") for name in names):
            yield node


@pytest.mark.parametrize("module", sorted(set(MODULES) - LAZY_IMPORTS_ALLOWED))
def test_imports_sit_at_the_top_of_the_module(module: str) -> None:
    """No import of an app module hides inside a function (the way a cycle is dodged); an
    optional or heavy third-party package may still be imported where it is needed."""
    lines = [node.lineno for node in _nested_imports(MODULES[module])]
    assert lines == [], f"{module} imports inside a function at lines {lines}"


def _runs_on_a_session(func: ast.expr) -> bool:
    """`session.execute(...)` and the like: a statement run outside a repository."""
    if not isinstance(func, ast.Attribute) or func.attr not in SESSION_RUNNERS:
        return False
    owner = func.value
    name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
    return isinstance(name, str) and name.endswith("session")


def _builds_sql(tree: ast.Module) -> list[str]:
    imported: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module in {
            "sqlalchemy",
            "sqlalchemy.sql",
        }:
            imported.update(a.asname or a.name for a in statement.names if a.name in SQL_BUILDERS)
    calls: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in imported:
                calls.append(f"{name}() at line {node.lineno}")
            elif _runs_on_a_session(node.func):
                calls.append(f"a session's {ast.unparse(node.func)}() at line {node.lineno}")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "func"
            and "func" in imported
        ):
            calls.append(f"func.{node.attr} at line {node.lineno}")
    return calls


# Every module of a domain but its repositories (`repository.py`, `*_repository.py`, or a
# package `repository/`).
OUTSIDE_REPOSITORIES = sorted(
    name
    for name in MODULES
    if name.startswith("app.domains.")
    and not any(
        part == "repository" or part.endswith("_repository") for part in name.split(".")[3:]
    )
)


@pytest.mark.parametrize("module", OUTSIDE_REPOSITORIES)
def test_sql_is_written_only_in_repositories(module: str) -> None:
    """A domain's services, routers and schemas build no SQL: its repository does."""
    assert _builds_sql(MODULES[module]) == []

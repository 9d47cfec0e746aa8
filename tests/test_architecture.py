"""The layers of the package, as its folders show them, and the direction of their imports.

``core`` (models, errors, rules, tokens) ← ``db`` and ``throttle`` ← ``services`` ← ``http``
← the top (``extension``, ``cli``, the public ``__init__``). A layer imports only layers to its
left; nothing below ``http`` imports Sanic; no module imports itself back through others.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sanic_auth_sessions"
NAME = "sanic_auth_sessions"

# What each layer may import from the package (besides itself).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "db": {"core"},
    "throttle": {"core"},
    "services": {"core", "db", "throttle"},
    "http": {"core", "db", "throttle", "services"},
}
BELOW_HTTP = ("core", "db", "throttle", "services")
WEB_FRAMEWORKS = ("sanic", "sanic_ext", "sanic_routing", "sanic_testing")

# Modules below ``http`` that still import Sanic, and why; the list only shrinks.
SANIC_BELOW_HTTP: dict[str, str] = {}
# Imports that still point up a layer, and why; the list only shrinks.
UPWARD: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.relative_to(PACKAGE).parts
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[str]:
    """Every module imported at run time (``if TYPE_CHECKING:`` blocks left out)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "imports inside the package are absolute"
            assert node.module is not None
            yield node.module
            # ``from package import module`` imports the module too.
            for alias in node.names:
                yield f"{node.module}.{alias.name}"
        yield from _imports(node)


def imports_of(path: Path, known: set[str]) -> set[str]:
    found = set()
    for name in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if name.startswith(NAME + ".") or name == NAME:
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            found.add(name)
        else:
            found.add(name)
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in ALLOWED else None


MODULES = package_modules()
GRAPH = {name: imports_of(path, set(MODULES)) for name, path in MODULES.items()}


def test_the_folders_are_the_layers() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(ALLOWED)
    top = {name for name in MODULES if name.count(".") == 1}
    assert top == {
        f"{NAME}.{leaf}"
        for leaf in (
            "_version",
            "__main__",
            "cli",
            "extension",
            "models",
            "startup",
            *tuple(ALLOWED),
        )
    }


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m)))
def test_imports_point_down(module: str) -> None:
    layer = layer_of(module)
    assert layer is not None
    for target in GRAPH[module]:
        if not target.startswith(NAME + "."):
            continue
        other = layer_of(target)
        assert other is not None or target.endswith("._version"), f"{module} imports {target}"
        if other is not None and other != layer and (module, target) not in UPWARD:
            assert other in ALLOWED[layer], f"{module} ({layer}) imports {target} ({other})"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) in BELOW_HTTP))
def test_no_web_framework_below_http(module: str) -> None:
    frameworks = {name for name in GRAPH[module] if name.split(".")[0] in WEB_FRAMEWORKS}
    if module in SANIC_BELOW_HTTP:
        assert frameworks, f"{module} no longer imports Sanic: take it off the list"
    else:
        assert not frameworks, f"{module} imports {sorted(frameworks)}"


def test_the_exception_lists_are_still_needed() -> None:
    for module, target in UPWARD:
        assert target in GRAPH[module], f"{module} no longer imports {target}: take it off"


def test_no_import_cycles() -> None:
    inside = {m: {t for t in ts if t in MODULES and t != m} for m, ts in GRAPH.items()}
    # A package's __init__ re-exports its modules; a cycle through it is no cycle of code.
    for name in list(inside):
        inside[name] -= {t for t in inside[name] if MODULES[t].name == "__init__.py"}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(inside[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(inside):
        if module not in state:
            visit(module)


def test_the_checks_see_a_bad_import() -> None:
    """The graph really holds the imports: a module of ``core`` importing ``http`` is seen."""
    tree = ast.parse("from sanic_auth_sessions.http.guards import require_auth\nimport sanic\n")
    found = {name for name in _imports(tree)}
    assert "sanic_auth_sessions.http.guards" in found and "sanic" in found
    assert "http" not in ALLOWED["core"]


# Libraries that a feature needs only once it is used (passkeys, social login, migrating, a
# password's strength). Imported with the package they would add their import time to the
# start of every process, workers included: together a third of a second.
ON_FIRST_USE = ("webauthn", "httpx", "authlib", "aerich", "zxcvbn")


def _imported_at_import(tree: ast.AST) -> Iterator[str]:
    """What a module imports when it is imported: not in functions, not for type checking."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from _imported_at_import(node)


def test_feature_libraries_are_imported_at_their_first_use() -> None:
    """Nothing that ``import sanic_auth_sessions`` runs imports them (the modules that do,
    such as ``services.passkeys``, are imported where the feature is first used)."""
    at_import = {
        name: set(_imported_at_import(ast.parse(path.read_text(encoding="utf-8"))))
        for name, path in MODULES.items()
    }
    reached, todo = set(), [NAME]
    while todo:
        module = todo.pop()
        if module in reached:
            continue
        reached.add(module)
        # ``import a.b.c`` runs the packages ``a`` and ``a.b`` too.
        parents = [module.rsplit(".", n)[0] for n in range(1, module.count(".") + 1)]
        todo += [m for m in (*at_import[module], *parents) if m in MODULES]
    assert "sanic_auth_sessions.extension" in reached
    assert "sanic_auth_sessions.services.passkeys" not in reached
    found = sorted(
        (module, name)
        for module in reached
        for name in at_import[module]
        if name.split(".")[0] in ON_FIRST_USE
    )
    assert not found, f"imported with the package: {found}"

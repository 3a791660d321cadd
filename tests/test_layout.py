"""The code's layering, read from its imports (ast), so a newcomer's shortcut fails CI.

- Route modules (those that build an APIRouter) are included by app.py and imported by
  nothing else: shared pieces live in services or small named modules.
- frontdesk/db/ imports no feature package, and routes don't reach into frontdesk.db.
- Feature packages import each other one way only: no cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "frontdesk"
FEATURES = {
    "accounts",
    "agents",
    "chat",
    "conversations",
    "events",
    "files",
    "ops",
    "web",
    "kit",
    "db",
    "models",
    "ratelimits",
}
DB_MAY_NOT_IMPORT = FEATURES - {"db"}


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = SRC) -> Iterator[str]:
    """Every frontdesk module `path` imports, at any depth of its code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path, root).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from frontdesk.x import routes` imports the module frontdesk.x.routes.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def is_route_module(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "APIRouter"
        for node in ast.walk(tree)
    )


def modules(root: Path = SRC) -> dict[str, Path]:
    return {module_name(path, root): path for path in (root / "frontdesk").rglob("*.py")}


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "frontdesk" else None


def route_module_importers(root: Path = SRC) -> list[str]:
    found = modules(root)
    routes = {name for name, path in found.items() if is_route_module(path)}
    return sorted(
        f"{name} imports {target}"
        for name, path in found.items()
        if name != "frontdesk.app"
        for target in set(imported_modules(path, root)) & routes
        if target != name
    )


def db_imports_of_features(root: Path = SRC) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, path in modules(root).items()
        if feature_of(name) == "db" or name == "frontdesk.db"
        for target in imported_modules(path, root)
        if (target.split(".")[1:2] or [""])[0] in DB_MAY_NOT_IMPORT
        and target.startswith("frontdesk.")
    )


def route_imports_of_db(root: Path = SRC) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, path in modules(root).items()
        if is_route_module(path)
        for target in imported_modules(path, root)
        if target == "frontdesk.db" or target.startswith("frontdesk.db.")
    )


def feature_cycles(root: Path = SRC) -> list[list[str]]:
    """Cycles in the graph of imports between feature packages."""
    edges: dict[str, set[str]] = {feature: set() for feature in FEATURES}
    for name, path in modules(root).items():
        source = feature_of(name)
        if source not in FEATURES:
            continue
        for target in imported_modules(path, root):
            destination = feature_of(target) or (
                target.split(".")[1] if target.count(".") == 1 else None
            )
            if destination in FEATURES and destination != source:
                edges[source].add(destination)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        trail.pop()
        state[node] = 2

    for feature in sorted(edges):
        if feature not in state:
            visit(feature)
    return cycles


def test_no_module_but_the_app_imports_a_route_module() -> None:
    assert route_module_importers() == []


def test_the_data_layer_imports_no_feature_package() -> None:
    assert db_imports_of_features() == []


def test_routes_reach_the_database_through_services_and_the_runtime() -> None:
    assert route_imports_of_db() == []


def test_feature_packages_depend_on_each_other_one_way() -> None:
    assert feature_cycles() == []


def test_the_checks_see_route_modules_at_all() -> None:
    """A check that finds no route module would pass whatever the code did."""
    routes = [name for name, path in modules().items() if is_route_module(path)]
    assert "frontdesk.chat.routes" in routes and len(routes) >= 8


@pytest.mark.parametrize(
    "source, finds",
    [
        ("from frontdesk.chat.routes import reply\n", "route_module_importers"),
        ("from frontdesk.events.bus import Event\n", "db_imports_of_features"),
    ],
)
def test_the_checks_catch_what_they_guard_against(tmp_path: Path, source: str, finds: str) -> None:
    """Planted in a copy of the tree, each shortcut is reported."""
    import shutil

    shutil.copytree(PACKAGE, tmp_path / "frontdesk")
    target = "files/store.py" if finds == "route_module_importers" else "db/engines.py"
    planted = tmp_path / "frontdesk" / target
    planted.write_text(source + planted.read_text(encoding="utf-8"), encoding="utf-8")
    assert globals()[finds](tmp_path) != []
    if finds == "route_module_importers":
        assert feature_cycles(tmp_path) != []  # files -> chat -> files

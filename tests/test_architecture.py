"""The layer rules of DESIGN.md, checked mechanically on every file of the package code.

`api → service → {domain, repository} → core`; `worker → service`; `cli` (ops commands) →
service, and repository for the server-level operations; `domain` is a leaf.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("api", "cli", "core", "domain", "repository", "service", "worker")

ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "core": set(),
    "repository": {"domain", "core"},
    "service": {"domain", "repository", "core"},
    "api": {"service", "domain", "core"},
    "worker": {"service", "domain", "core"},
    "cli": {"service", "domain", "repository", "core"},
}
# Third-party packages that belong to one layer only.
OWNED_BY = {
    "fastapi": {"api"},
    "starlette": {"api"},
    "sse_starlette": {"api"},
    "asyncpg": {"repository", "core"},
    "httpx": {"repository"},
    "azure": {"repository", "core"},
}
# Stand-ins for outside systems, for development and tests only.
TEST_ONLY = {"vitec_simulator", "tests", "bench"}
# Services hold a session for their repositories; building queries is the repositories' job.
SQLALCHEMY_OUTSIDE_DATA = {"sqlalchemy.ext.asyncio": {"AsyncSession"}}


def source_files() -> Iterator[tuple[str, Path]]:
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            yield layer, path


def imports(path: Path) -> Iterator[tuple[str, set[str]]]:
    """Each imported module with the names taken from it (empty for `import x`)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, set()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, {alias.name for alias in node.names}


FILES = list(source_files())


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize(("layer", "path"), FILES, ids=[relative(p) for _, p in FILES])
def test_imports_follow_the_layer_rule(layer: str, path: Path) -> None:
    wrong: list[str] = []
    for module, names in imports(path):
        top = module.split(".")[0]
        if top in LAYERS and top != layer and top not in ALLOWED[layer]:
            wrong.append(f"{layer} → {top} ({module})")
        if top in TEST_ONLY:
            wrong.append(f"{layer} imports {top}, which production never runs")
        if top in OWNED_BY and layer not in OWNED_BY[top]:
            wrong.append(f"{top} imported in {layer}")
        if top == "sqlalchemy" and layer not in {"repository", "core"}:
            permitted = SQLALCHEMY_OUTSIDE_DATA.get(module)
            if permitted is None or not names <= permitted:
                wrong.append(f"sqlalchemy query building in {layer}: {module} {sorted(names)}")
    assert not wrong, f"{relative(path)}: " + "; ".join(wrong)


# The SDK's types and errors stay behind the blob gateway; core only builds the one client.
BLOB_SDK_MODULES = {"repository/blob_store.py", "core/blob_client.py"}


def test_only_the_blob_gateway_uses_the_blob_sdk() -> None:
    users = {
        relative(path)
        for _, path in FILES
        if any(module.startswith("azure.storage.blob") for module, _ in imports(path))
    }
    assert users == BLOB_SDK_MODULES


def test_only_the_unit_of_work_commits() -> None:
    committing = [relative(path) for _, path in FILES if re.search(r"\.commit\(", path.read_text())]
    assert committing == ["core/database.py"]


def test_only_settings_read_the_environment() -> None:
    readers = [relative(path) for _, path in FILES if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text())]
    assert set(readers) <= {"core/settings.py"}


def test_the_checks_see_the_code() -> None:
    # Guards the test itself: a broken walk that finds nothing would pass everything above.
    assert len(FILES) > 20
    assert any(module == "fastapi" for module, _ in imports(ROOT / "api" / "main.py"))


def _module_path(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def transitive_imports(path: Path) -> set[str]:
    """Every package module `path` imports, directly or through the modules it imports."""
    seen: set[str] = set()
    waiting = [path]
    while waiting:
        for module, names in imports(waiting.pop()):
            # `from package import module` imports the module too.
            for name in {module} | {f"{module}.{name}" for name in names}:
                found = _module_path(name) if name.split(".")[0] in LAYERS else None
                if found is not None and name not in seen:
                    seen.add(name)
                    waiting.append(found)
    return seen


@pytest.mark.parametrize("reader", ["api/routes/estates.py", "service/estates.py"])
def test_the_estate_read_api_does_not_import_the_sync_service(reader: str) -> None:
    # Reading the read model needs the Vitec client (images read through), never the sync.
    reached = transitive_imports(ROOT / reader)
    assert "service.vitec" in reached  # the walk follows imports (through service.estates for the router)
    assert "service.vitec_sync" not in reached

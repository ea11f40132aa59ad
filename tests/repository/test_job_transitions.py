"""One state machine: every statement that changes a job's status is built by
`repository.job_states.transition` from two `JobStatus` members the domain allows, and together
they use every transition the domain declares (a table nothing follows would be a second truth)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from domain.jobs import TRANSITIONS, IllegalTransitionError, JobStatus
from repository.job_states import transition
from tests.test_architecture import FILES, relative

# The layers that write rows (the API reads statuses into responses, which is no change).
WRITERS = {"repository", "service", "worker", "cli", "core"}


def _status_name(node: ast.expr) -> str | None:
    """`JobStatus.X` → "X"."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "JobStatus":
        return node.attr
    return None


def _mentions_status_enum(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Name) and child.id == "JobStatus" for child in ast.walk(node))


class _Walker(ast.NodeVisitor):
    def __init__(self, path: Path) -> None:
        self.where = relative(path)
        self.edges: list[tuple[str, str, str]] = []
        self.bypasses: list[str] = []
        self._function: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function.append(node.name)
        self.generic_visit(node)
        self._function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _inside_transition(self) -> bool:
        return self.where == "repository/job_states.py" and "transition" in self._function

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "transition":
            names = [_status_name(arg) for arg in node.args[:2]]
            if None in names or len(names) < 2:
                self.bypasses.append(f"{self.where}:{node.lineno}: transition() needs two JobStatus members")
            else:
                self.edges.append((names[0] or "", names[1] or "", f"{self.where}:{node.lineno}"))
        writes = (isinstance(node.func, ast.Attribute) and node.func.attr == "values" and _may_write_jobs(node)) or (
            isinstance(node.func, ast.Name) and node.func.id == "Job"
        )
        for keyword in node.keywords if writes else []:
            if keyword.arg == "status" and not self._inside_transition():
                self.bypasses.append(f"{self.where}:{node.lineno}: status={ast.unparse(keyword.value)}")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "status" and _mentions_status_enum(value):
                self.bypasses.append(f"{self.where}:{node.lineno}: 'status': {ast.unparse(value)}")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "status":
                self.bypasses.append(f"{self.where}:{node.lineno}: {ast.unparse(target)} = ...")
        self.generic_visit(node)


def _may_write_jobs(values: ast.Call) -> bool:
    """False only for a `.values()` whose statement visibly starts at `update(X)` or `insert(X)` of
    another table than jobs (documents have statuses of their own); anything unclear counts."""
    node: ast.AST = values.func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"update", "insert"}:
            table = node.args[0] if node.args else None
            return not (isinstance(table, ast.Name) and table.id != "Job")
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return True


def _walk() -> tuple[list[tuple[str, str, str]], list[str]]:
    edges: list[tuple[str, str, str]] = []
    bypasses: list[str] = []
    for layer, path in FILES:
        if layer not in WRITERS:
            continue
        walker = _Walker(path)
        walker.visit(ast.parse(path.read_text(), filename=str(path)))
        edges += walker.edges
        bypasses += walker.bypasses
    return edges, bypasses


def test_no_statement_writes_a_status_around_the_state_machine() -> None:
    _, bypasses = _walk()
    assert bypasses == []


def test_every_status_change_is_a_transition_the_domain_allows() -> None:
    edges, _ = _walk()
    illegal = [where for source, target, where in edges if JobStatus[target] not in TRANSITIONS[JobStatus[source]]]
    assert edges, "the walk found no transition: it no longer sees the code"
    assert illegal == []


def test_every_declared_transition_is_used_by_some_statement() -> None:
    edges, _ = _walk()
    used = {(JobStatus[source], JobStatus[target]) for source, target, _ in edges}
    declared = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert declared - used == set()


@pytest.mark.parametrize(
    ("source", "target"), [(JobStatus.SUCCEEDED, JobStatus.QUEUED), (JobStatus.QUEUED, JobStatus.SUCCEEDED)]
)
def test_an_illegal_transition_cannot_even_be_built(source: JobStatus, target: JobStatus) -> None:
    with pytest.raises(IllegalTransitionError):
        transition(source, target)

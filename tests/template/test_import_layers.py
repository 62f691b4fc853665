"""Imports only run downwards, as the README's layout says; a cycle is a failure.

- the pure cores import the standard library, their own modules, their imaging or
  columnar library and the shared pure modules (``file_signatures``, in the runtime layer
  beside the runtime): never boto3, botocore or the runtime;
- a shared pure module imports the standard library only;
- the runtime (pipeline_runtime) imports no function code and nothing of the local runner,
  and holds nothing for the runner: every name the runner takes from it, a function uses
  too (the shared pure modules are no function code: the runtime raises
  ``input_rejection``'s base class too); inside it, data access (s3io) and event parsing
  (events) import no policy: neither the
  record loop (outcomes) nor the idempotency protocol;
- each handler imports its own core and the runtime, and nothing of the other function;
- the local runner imports no handler or core: it loads handlers by the template's Handler
  and CodeUri, as Lambda does. Of the runtime it imports the event parser only, so that
  it reads events exactly as the handlers do;
- the template model (stack_model) imports the standard library and PyYAML only;
- the operations tools (a real AWS account) import the template model, boto3 and
  botocore: never product code, and nothing of the local runner (the emulator); the
  local runner never imports them.

Read from the source with ast (every import statement, at any depth), not by importing.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
RUNTIME_DIR = ROOT / "layers" / "runtime" / "pipeline_runtime"
# Pure modules of the runtime layer that every function and the local runner may import.
SHARED_PURE = {
    name: ROOT / "layers" / "runtime" / f"{name}.py"
    for name in ("file_signatures", "input_rejection")
}
FUNCTIONS = {
    "image_processor": frozenset({"PIL", "pillow_heif", "isal"}),
    "csv_summarizer": frozenset({"pyarrow"}),
}
RUNTIME_LIBRARIES = frozenset(
    {"boto3", "botocore", "tenacity", "urllib3", "aws_lambda_powertools", "pipeline_runtime"}
)


def _imports(path: Path) -> set[str]:
    """Top-level names of everything a module imports (relative imports excluded)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _modules(folder: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(folder.glob("*.py"))}


def _core_modules(function: str) -> dict[str, Path]:
    return {n: p for n, p in _modules(ROOT / function).items() if n != "app"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_cores_import_only_their_own_modules_and_their_library(function):
    core = _core_modules(function)
    assert core
    for name, path in core.items():
        foreign = _imports(path) - STDLIB - set(core) - FUNCTIONS[function] - set(SHARED_PURE)
        assert foreign == set(), f"{function}/{name}.py imports {sorted(foreign)}"


@pytest.mark.parametrize("module", sorted(SHARED_PURE))
def test_shared_pure_modules_import_the_standard_library_only(module):
    assert _imports(SHARED_PURE[module]) - STDLIB == set()


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("the image core", ROOT / "image_processor" / "image_decode.py"),
        ("the CSV core", ROOT / "csv_summarizer" / "csv_encoding.py"),
        ("the CSV core", ROOT / "csv_summarizer" / "csv_source.py"),
        ("the local runner", ROOT / "local_pipeline" / "routing.py"),
    ],
)
def test_every_user_of_file_signatures_imports_the_one_table(user, path):
    assert "file_signatures" in _imports(path), f"{user} ({path.name}) has its own table"


def test_the_runtime_imports_no_function_code_and_no_local_runner():
    function_modules = {n for f in FUNCTIONS for n in _modules(ROOT / f)}
    for name, path in _modules(RUNTIME_DIR).items():
        imported = _imports(path)
        assert not imported & function_modules, f"pipeline_runtime/{name}.py: {imported}"
        foreign = imported - STDLIB - RUNTIME_LIBRARIES - set(SHARED_PURE)
        assert not foreign, f"pipeline_runtime/{name}.py imports {sorted(foreign)}"


@pytest.mark.parametrize("module", ["s3io", "events"])
def test_data_access_and_event_parsing_import_no_policy(module):
    graph = _package_graph(RUNTIME_DIR, "pipeline_runtime")
    assert graph[module] <= {"events", "observability"}, graph[module]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_handler_imports_its_core_and_the_runtime_only(function):
    allowed = STDLIB | set(_core_modules(function)) | {"pipeline_runtime"}
    foreign = _imports(ROOT / function / "app.py") - allowed
    assert foreign == set(), f"{function}/app.py imports {sorted(foreign)}"


def _runtime_modules_imported(path: Path) -> set[str]:
    """Modules of pipeline_runtime that a module imports, by their names in the package."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "pipeline_runtime":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "pipeline_runtime."
        ):
            names.add(str(node.module).split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {
                a.name.split(".")[1] for a in node.names if a.name.startswith("pipeline_runtime.")
            }
    return names


def test_the_local_runner_imports_no_handler_or_core_and_of_the_runtime_the_parser_only():
    product = {n for f in FUNCTIONS for n in _modules(ROOT / f)}
    for name, path in _modules(ROOT / "local_pipeline").items():
        assert not _imports(path) & product, f"local_pipeline/{name}.py"
        assert _runtime_modules_imported(path) <= {"events"}, f"local_pipeline/{name}.py"
    assert _runtime_modules_imported(ROOT / "local_pipeline" / "event_objects.py") == {"events"}


OPERATIONS_LIBRARIES = frozenset({"boto3", "botocore", "stack_model", "operations"})


def test_the_local_runner_never_imports_the_operations_tools():
    for name, path in _modules(ROOT / "local_pipeline").items():
        assert "operations" not in _imports(path), f"local_pipeline/{name}.py"


def test_the_operations_tools_import_no_product_code_and_no_emulator_code():
    modules = _modules(ROOT / "operations")
    assert modules
    for name, path in modules.items():
        foreign = _imports(path) - STDLIB - OPERATIONS_LIBRARIES
        assert foreign == set(), f"operations/{name}.py imports {sorted(foreign)}"


def test_the_template_model_imports_the_standard_library_and_pyyaml_only():
    modules = _modules(ROOT / "stack_model")
    assert modules
    for name, path in modules.items():
        foreign = _imports(path) - STDLIB - {"yaml", "stack_model"}
        assert foreign == set(), f"stack_model/{name}.py imports {sorted(foreign)}"


def _names_used(path: Path) -> set[str]:
    """Every name a module imports from elsewhere or reads as an attribute."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def _runtime_names_imported(path: Path) -> set[str]:
    """Names a module takes from the runtime's modules: ``from pipeline_runtime.events
    import n``, or ``events.n`` after ``from pipeline_runtime import events``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline_runtime."):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "pipeline_runtime":
            modules |= {alias.asname or alias.name for alias in node.names}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            names.add(node.attr)
    return names


def test_the_runtime_holds_nothing_for_the_local_runner_alone():
    """What the runner takes from the runtime, the functions use too: the runtime serves
    the functions, and the runner reads events with their parser rather than its own."""
    product = [ROOT / f / "app.py" for f in FUNCTIONS] + list(_modules(RUNTIME_DIR).values())
    used_by_functions: dict[str, set[Path]] = {}
    for path in product:
        for name in _names_used(path):
            used_by_functions.setdefault(name, set()).add(path)
    taken = {
        n for p in _modules(ROOT / "local_pipeline").values() for n in _runtime_names_imported(p)
    }
    assert taken, "the runner reads events with the runtime's parser"
    for name in taken:
        users = {p for p in used_by_functions.get(name, set()) if p.stem != "events"}
        assert users, f"pipeline_runtime serves {name} to the local runner alone"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in graph (module -> modules of the same package), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_graph(folder: Path, package: str | None = None) -> dict[str, set[str]]:
    modules = _modules(folder)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                inner = parts[1] if package and parts[0] == package and len(parts) > 1 else None
                targets.add(inner or parts[0])
                if package and node.module == package:  # from package import module
                    targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    targets.add(parts[1] if package and parts[0] == package else parts[0])
        graph[name] = targets & set(modules) - {name}
    return graph


@pytest.mark.parametrize(
    ("folder", "package"),
    [
        ("image_processor", None),
        ("csv_summarizer", None),
        ("layers/runtime/pipeline_runtime", "pipeline_runtime"),
        ("local_pipeline", "local_pipeline"),
        ("operations", "operations"),
        ("stack_model", "stack_model"),
    ],
)
def test_no_module_imports_another_in_a_cycle(folder, package):
    graph = _package_graph(ROOT / folder, package)
    assert len(graph) > 1
    assert _cycle(graph) is None, _cycle(graph)


def test_the_graph_sees_from_package_import_module(tmp_path):
    (tmp_path / "a.py").write_text("from pkg import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from pkg.a import x\n")
    assert _cycle(_package_graph(tmp_path, "pkg")) == ["a", "b", "a"]


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None

"""The code stays plain: small modules and functions, no import cycle, no home-made runtime; and the
registry of event types agrees with the schemas and tables it names."""
import ast
import json
import re

from conftest import ROOT

PACKAGE = ROOT / "dprk_timeline"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, ast.Module]:
    """Every module of the package by its name (a package by its own name, for its __init__.py)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def imported(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package's modules this module imports at its top level (not inside functions)."""
    is_package = (ROOT / name.replace(".", "/") / "__init__.py").is_file()
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else base if node.level else node.module
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in known else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {module for module in found if module in known and module != name}


def test_no_module_imports_itself_through_others():
    trees = modules()
    graph = {name: imported(name, tree, set(trees)) for name, tree in trees.items()}
    assert graph["dprk_timeline.build"] >= {"dprk_timeline.render.package", "dprk_timeline.replay.engine"}
    cycles = []

    def visit(name, path):
        for other in graph[name]:
            if other in path:
                cycles.append(path[path.index(other):] + [other])
            elif other not in done:
                visit(other, path + [other])
        done.add(name)
    done = set()
    for name in graph:
        if name not in done:
            visit(name, [name])
    assert cycles == []


def test_modules_and_functions_stay_small():
    long_modules = {path.name: n for path in PACKAGE.rglob("*.py")
                    if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long_modules == {}
    long_functions = [f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
                      for name, tree in modules().items() for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long_functions == []


def test_no_home_made_concurrency_or_memory_tricks():
    pattern = re.compile(r"fork|marshal|malloc_trim|setswitchinterval|gc\.freeze|sys\.intern|F_SETPIPE|multiprocessing|"
                         r"threading|pickle")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in PACKAGE.rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if pattern.search(line)]
    assert found == []


def test_the_registry_names_a_schema_for_every_event_type_and_a_maker_for_every_table():
    from dprk_timeline.checks.schema import schemas
    from dprk_timeline.registry import EVENT_TYPES, TABLES

    for name, event_type in EVENT_TYPES.items():
        assert event_type.schema_id in schemas(), f"no schemas/events/{name}.json"
        assert schemas()[event_type.schema_id]["properties"]["type"] == {"const": name}
        assert (event_type.rows is None) == (event_type.id_field is None) == (not event_type.tables), name
    # every event schema but the shared ones is a registered type
    shared = {"changeset", "common", "claim"}
    files = {path.stem for path in (ROOT / "schemas" / "events").glob("*.json")}
    assert files - shared == set(EVENT_TYPES)
    # every table is made by exactly one type's records (the history of changes by all), and has its Table Schema
    makers = [table for event_type in EVENT_TYPES.values() for table in event_type.tables]
    assert sorted(makers + ["changes"]) == sorted(TABLES)
    assert {path.stem for path in (ROOT / "schemas" / "tables").glob("*.json")} == set(TABLES)
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert [resource["name"] for resource in descriptor["resources"]] == TABLES

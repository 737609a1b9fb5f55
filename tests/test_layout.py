"""The layout shows the architecture: no import circle between the product's modules (every
import counts, a deferred one inside a function too), and the lower layers never import the
upper ones (sources and lib know nothing of Dagster assets, ingest, warehouse or serving)."""

import ast
import re
from pathlib import Path

import yaml
from conftest import REPO

from dagster_project.sources import SOURCES

PACKAGE = REPO / "dagster_project"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the product modules it imports (`from a.b import c` is a.b.c when c is a module)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    if target in modules:
                        graph[name].add(target)
                    elif node.module in modules:
                        graph[name].add(node.module)
            elif isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names if alias.name in modules)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_between_modules():
    graph = import_graph()
    assert len(graph) > 40  # the walk found the package
    assert cycles(graph) == []


def test_lower_layers_never_import_upper_ones():
    upper = ("dagster_project.ingest", "dagster_project.warehouse", "dagster_project.serving")
    upper += ("dagster_project.definitions", "dagster_project.run")
    wrong = {
        (module, target)
        for module, targets in import_graph().items()
        if module.startswith(("dagster_project.sources", "dagster_project.pulls", "dagster_project.lib"))
        for target in targets
        if target.startswith(upper)
    }
    assert not wrong, sorted(wrong)


def test_every_source_has_its_staging_folder_current_model_and_load_log_entry():
    """What the README promises a new source needs, checked: its module (SOURCES), one staging
    folder declaring `lake_<source>` with `records` and `load_log`, its `int_<source>__current`
    model, and its place in the audit load log's source list (so a forgotten one fails here)."""
    models = REPO / "dbt" / "models"
    for name in SOURCES:
        declared = yaml.safe_load((models / "staging" / name / f"_{name}__sources.yml").read_text("utf-8"))
        (lake,) = [s for s in declared["sources"] if s["name"] == f"lake_{name}"]
        assert {"records", "load_log"} <= {t["name"] for t in lake["tables"]}, name
        assert (models / "intermediate" / f"int_{name}__current.sql").exists(), name
    listed = re.search(r"set lake_sources = \[([^\]]*)\]", (models / "audit" / "load_log.sql").read_text())
    assert listed, "dbt/models/audit/load_log.sql no longer sets lake_sources"
    assert sorted(re.findall(r"'(\w+)'", listed.group(1))) == sorted(SOURCES)
    assert sorted(p.name for p in (models / "staging").iterdir() if p.is_dir()) == sorted(SOURCES)


def test_the_readme_layout_names_every_module_of_the_product():
    """The README's layout section is a newcomer's map: every module and package of
    dagster_project is named there (as a word), so a module added without its place on the map
    fails here."""
    readme = (REPO / "README.md").read_text("utf-8")
    layout = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", layout))
    names = {
        path.parent.name if path.name == "__init__.py" else path.stem
        for path in PACKAGE.rglob("*.py")
        if "charts" not in path.parts[:-1]  # charts/: "one module per chart"
    }
    missing = sorted(names - words)
    assert not missing, f"README.md's Layout section does not name: {', '.join(missing)}"

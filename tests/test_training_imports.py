"""The training modules sit in no import cycle: every import and from-import statement counts, at
module level or inside a function, and importing a module counts as importing its packages too
(except the importer's own packages, which Python has started before the importer)."""

import ast
import pathlib

import scratchgan

ROOT = pathlib.Path(scratchgan.__file__).parent
MINE = ("scratchgan.train", "scratchgan.training", "scratchgan.metrics.evaluate", "scratchgan.cli")


def module_name(path):
    parts = ("scratchgan", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path, modules):
    """The scratchgan modules that ``path``'s statements import, with their parent packages."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            base = ".".join([*base, *([node.module] if node.module else [])])
            # `from .. import models`: a submodule if there is one, else a name in the package
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        for target in targets:
            while target.startswith("scratchgan"):
                if target in modules:
                    found.add(target)
                target = target.rpartition(".")[0]
    ancestors = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
    return found - ancestors - {name}


def test_no_import_cycle_runs_through_the_training_modules():
    paths = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {name: imports_of(path, paths) for name, path in paths.items()}

    def reaches(start, goal):
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                if nxt == goal:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    mine = [n for n in graph if n.startswith(MINE)]
    assert "scratchgan.training.trainer" in mine and "scratchgan.metrics.evaluate" in mine
    cycles = [(a, b) for a in mine for b in graph[a] if reaches(b, a)]
    assert cycles == []


def test_the_finder_sees_a_cycle_when_there_is_one(tmp_path):
    """The check above could pass by seeing no edges: it sees these."""
    paths = {module_name(p): p for p in ROOT.rglob("*.py")}
    evaluate = imports_of(paths["scratchgan.metrics.evaluate"], paths)
    trainer = imports_of(paths["scratchgan.training.trainer"], paths)
    assert {"scratchgan.training.runs", "scratchgan.training"} <= evaluate
    assert {"scratchgan.metrics.evaluate", "scratchgan.metrics"} <= trainer
    facade = imports_of(paths["scratchgan.train"], paths)
    assert "scratchgan.training.trainer" in facade and "scratchgan.data" in facade

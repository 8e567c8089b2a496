"""The package's layout holds (README: How it works): no import cycles between replyparse's
modules, counting imports made inside functions (a local import hides a cycle, it does not
remove it), and no module importing another module's private (``_name``) names."""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "replyparse"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for p in SRC.rglob("*.py")}


def _imports(mod: str, path: Path, known: set[str]):
    """(target module, imported names) for every import of a replyparse module, anywhere in the file."""
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("replyparse"):
                continue
            for a in node.names:  # `from . import ocr` imports a module, not a name
                sub = f"{target}.{a.name}"
                if sub in known:
                    yield sub, []
                else:
                    yield target, [a.name]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("replyparse"):
                    yield a.name, []


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for target, _ in _imports(mod, path, known):
            # importing a.b.c runs a/__init__ and a/b/__init__ first, unless the importer is inside them
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                t = ".".join(parts[:i])
                if t in known and t != mod and not mod.startswith(t + "."):
                    graph[mod].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_checker_finds_a_cycle_and_a_private_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    graph = _graph()
    assert len(graph) > 40 and graph["replyparse.pipeline"]  # the walk saw the package
    assert _cycles(graph) == []


def test_no_module_imports_another_modules_private_names():
    mods = _modules()
    known = set(mods)
    private = [f"{mod}: {target}.{name}" for mod, path in mods.items() for target, names in _imports(mod, path, known)
               for name in names if name.startswith("_") and not name.startswith("__")]
    assert private == []


def test_test_fixtures_are_not_in_the_package():
    assert not (SRC / "render.py").exists() and (SRC.parents[1] / "tests" / "fixtures" / "render.py").exists()

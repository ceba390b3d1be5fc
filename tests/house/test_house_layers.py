"""The house rules, read from the sources (AST): layers import downward only, no import
cycle, no private name of another module, keras and keras-tuner through their public API.

The layers, bottom to top (a module imports only from its own layer or below):

    zoo.utils, zoo.compat       shared helpers; the one place allowed keras internals
    zoo.registry, zoo.datasets  names -> classes; offline data loaders
    zoo.training                ZooModel, the step, schedules, loss math
    zoo.models                  the families
    callbacks                   schedules installed, checkpoints, TensorBoard, LR finder
    zoo.weights                 published files: fetch, verify, cache, load
    zoo.api                     zoo.create(name, weights=...), model_info
    zoo.evaluation, zoo.tuning  FID; keras-tuner spaces and tuners
    zoo.jobs                    what the scripts do
    zoo.bench                   benchmark suites (use jobs)
    zoo.cli                     the `zoo` command

The package namespace `zoo` (its `__init__`) re-exports the library: it may import
anything below `zoo.jobs`, and only jobs, bench and the CLI import it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("zoo", "callbacks")
LAYERS = [
    ("zoo.utils", "zoo.compat"),
    ("zoo.registry", "zoo.datasets"),
    ("zoo.training",),
    ("zoo.models",),
    ("callbacks",),
    ("zoo.weights",),
    ("zoo.api",),
    ("zoo.evaluation", "zoo.tuning"),
    ("zoo.jobs",),
    ("zoo.bench",),
    ("zoo.cli",),
]
NAMESPACE = "zoo"
NAMESPACE_MAX_LAYER = 7  # zoo/__init__ may import up to evaluation/tuning
NAMESPACE_USERS_MIN_LAYER = 8  # jobs and above may `import zoo`
COMPAT = "zoo.compat"


def _modules():
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def layer_of(module):
    if module == NAMESPACE:
        return None
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    if best is None:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return best[0]


def _package_of(module, path):
    return module if path.name == "__init__.py" else module.rsplit(".", 1)[0]


def imports(module):
    """[(line, imported module, [imported names] or None)] of `module`, every import
    statement (function-level ones too), relative ones resolved."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((node.lineno, alias.name, None))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(module, path).split(".")
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            out.append((node.lineno, base, [a.name for a in node.names]))
    return out


def internal_edges():
    """{module: {(imported module, line)}} restricted to the zoo's own modules."""
    edges = {}
    for module in MODULES:
        targets = set()
        for line, base, names in imports(module):
            if base.split(".")[0] not in PACKAGES:
                continue
            if names is None:
                if base in MODULES:
                    targets.add((base, line))
                continue
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            for sub in submodules:
                targets.add((sub, line))
            if len(submodules) < len(names) and base in MODULES:
                targets.add((base, line))
        edges[module] = targets
    return edges


EDGES = internal_edges()


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_layers_import_downward_only():
    bad = []
    for source, targets in EDGES.items():
        for target, line in sorted(targets):
            if target == source:
                continue
            if source == NAMESPACE:
                ok = layer_of(target) <= NAMESPACE_MAX_LAYER
            elif target == NAMESPACE:
                ok = layer_of(source) >= NAMESPACE_USERS_MIN_LAYER
            else:
                ok = layer_of(target) <= layer_of(source)
            if not ok:
                bad.append(f"{MODULES[source].relative_to(ROOT)}:{line} imports {target}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    graph = {m: {t for t, _ in targets if t != m} for m, targets in EDGES.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_private_name_of_another_module():
    bad = []
    for module, path in MODULES.items():
        package = _package_of(module, path)
        for line, base, names in imports(module):
            if base.split(".")[0] not in PACKAGES:
                continue
            targets = [base] + [f"{base}.{n}" for n in names or () if f"{base}.{n}" in MODULES]
            for target in targets:
                parts = target.split(".")
                private = [p for p in parts if p.startswith("_") and not p.startswith("__")]
                # a package's private modules are for that package only
                owner = ".".join(parts[: parts.index(private[0])]) if private else None
                if owner and not (package == owner or package.startswith(owner + ".")):
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
            for name in names or ():
                private = name.startswith("_") and not name.startswith("__")
                if private and f"{base}.{name}" not in MODULES:
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {base}.{name}")
        # attribute access through an imported zoo module: `registry._entry(...)`
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] in PACKAGES:
                        aliases[a.asname or a.name.split(".")[0]] = a.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                for a in node.names:
                    if f"{node.module}.{a.name}" in MODULES:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                chain, value = [node.attr], node.value
                while isinstance(value, ast.Attribute):
                    chain.append(value.attr)
                    value = value.value
                if isinstance(value, ast.Name) and value.id in aliases:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} uses "
                               f"{value.id}.{'.'.join(reversed(chain))}")
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


def test_no_keras_src_import_outside_compat():
    bad = []
    for module, path in MODULES.items():
        if module == COMPAT:
            continue
        for line, base, _ in imports(module):
            if base.startswith(("keras.src", "keras_tuner.src")) or base in ("keras.src",):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {base}")
    assert not bad, "keras internals imported outside zoo/compat.py:\n" + "\n".join(bad)


def _private_names_of(package):
    """Every `_name` keras (or keras-tuner) defines or reads in its own sources."""
    import importlib

    root = Path(importlib.import_module(package).__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        if path.name.endswith("_test.py"):
            continue
        try:
            tree = ast.parse(path.read_text())
        except SyntaxError:  # pragma: no cover
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


@pytest.fixture(scope="module")
def keras_private_names():
    return _private_names_of("keras") | _private_names_of("keras_tuner")


def test_no_keras_private_attribute_outside_compat(keras_private_names):
    """`obj._x` where keras uses `_x` itself: either reading keras's internals, or a zoo
    attribute that could clobber one of keras's (rename it)."""
    bad = []
    for module, path in MODULES.items():
        if module == COMPAT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in keras_private_names:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
        for cls in ast.walk(ast.parse(path.read_text())):
            if not isinstance(cls, ast.ClassDef):
                continue
            for node in cls.body:  # a method overriding one of keras's private ones
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    node.name in keras_private_names
                ):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} def {node.name}")
    assert not bad, (
        "keras/keras-tuner private attributes outside zoo/compat.py:\n" + "\n".join(sorted(bad))
    )


def test_the_private_attribute_check_sees_keras_internals(keras_private_names):
    # the names the zoo once touched: if keras renames them the list above shrinks
    assert {"_loss_tracker", "_learning_rate", "_initial_epoch"} <= keras_private_names

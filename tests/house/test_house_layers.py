"""The house rules, read from the sources (AST): layers import downward only, no import
cycle, no private name of another module, keras and keras-tuner through their public API,
and no engine that names a family.

The layers, bottom to top (a module imports only from its own layer or below):

    zoo.utils, zoo.compat,      shared helpers; the one place allowed keras internals;
    zoo.errors                  the user-error exceptions
    zoo.registry, zoo.datasets  names -> classes and families; offline data loaders
    zoo.training                ZooModel, the step, schedules, loss math
    model parts                 the modules directly in zoo/models: the bases and layers
                                families share (VisionClassifier, BatchNormalization, ...)
    engines                     callbacks, zoo.weights (store, convert), zoo.evaluation,
                                zoo.tuning, zoo.lora: they ask a family's declarations through
                                zoo.registry, and never import one
    families                    zoo/models/<family>/: one package each
    zoo.models, zoo.api         the index of the families; zoo.create(name, weights=...)
    zoo.jobs                    what the scripts do
    zoo.bench                   benchmark suites (use jobs)
    zoo.cli                     the `zoo` command

The package namespace `zoo` (its `__init__`) re-exports the library: it may import
anything below `zoo.jobs`, and only jobs, bench and the CLI import it. A family's
tests (`zoo/models/<family>/test_*.py`) stand above every layer, as tests/ does.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("zoo", "callbacks")
MODELS = ROOT / "zoo" / "models"
#: the family packages: every folder of zoo/models with an __init__.py
FAMILY_PACKAGES = tuple(sorted(f"zoo.models.{p.parent.name}" for p in MODELS.glob("*/__init__.py")))
#: the shared model parts: the modules directly in zoo/models
MODEL_PARTS = tuple(sorted(f"zoo.models.{p.stem}" for p in MODELS.glob("*.py")
                           if p.stem != "__init__"))
FAMILIES_LAYER = 5
LAYERS = [
    ("zoo.utils", "zoo.compat", "zoo.errors"),
    ("zoo.registry", "zoo.datasets"),
    ("zoo.training",),
    MODEL_PARTS,
    ("callbacks", "zoo.weights", "zoo.evaluation", "zoo.tuning", "zoo.lora"),
    FAMILY_PACKAGES,
    ("zoo.models", "zoo.api"),
    ("zoo.jobs", "zoo.catalogue"),
    ("zoo.bench",),
    ("zoo.cli",),
]
TESTS_LAYER = len(LAYERS)  # a family's tests, beside its code
NAMESPACE = "zoo"
NAMESPACE_MAX_LAYER = 6  # zoo/__init__ may import up to zoo.models and zoo.api
NAMESPACE_USERS_MIN_LAYER = 7  # jobs and above may `import zoo`
COMPAT = "zoo.compat"


def is_test_module(module):
    return module.rsplit(".", 1)[-1].startswith("test_")


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
    if is_test_module(module):
        return TESTS_LAYER
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
            elif isinstance(node, ast.arg):
                names.add(node.arg)
        names.update(name for _, name in _named_in_strings(tree))  # getattr(obj, "_x")
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


#: calls whose string arguments name an attribute or a keyword
_NAMING_CALLS = ("getattr", "setattr", "hasattr", "delattr")
_NAMING_METHODS = ("get", "pop", "setdefault")


def _named_in_strings(tree):
    """[(line, string)] of the strings `tree` uses as names: arguments of getattr, setattr,
    hasattr, delattr and of `.get`/`.pop`/`.setdefault`, dict keys, subscripts."""
    found = []

    def add(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id in _NAMING_CALLS) or (
                    isinstance(func, ast.Attribute) and func.attr in _NAMING_METHODS):
                for arg in node.args:
                    add(arg)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                add(key)
        elif isinstance(node, ast.Subscript):
            add(node.slice)
    return found


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
    assert {"_loss_tracker", "_learning_rate", "_initial_epoch", "_compile_config",
            "_use_cached_eval_dataset", "_oracle", "_model",
            "_call_has_training_arg"} <= keras_private_names


#: the test files that exercise zoo.compat, and the house rules themselves: they name
#: keras's internals on purpose
HOUSE_TESTS = ("tests/house/",)


def _test_sources():
    """{relative path: source} of every Python file under tests/ but the house tests."""
    return {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "tests").rglob("*.py"))
            if not str(p.relative_to(ROOT)).startswith(HOUSE_TESTS)}


def private_strings(tree, private_names):
    """[(line, name)] of the strings in `tree` that name a keras private attribute or
    keyword: `getattr(obj, "_x")`, `setattr`, `hasattr`, `kwargs.get("_x")`, a config key."""
    return [(line, name) for line, name in _named_in_strings(tree) if name in private_names]


#: strings that only look like keras's private names: (file, string) -> whose they are
NOT_KERAS = {("zoo/jobs/imagenet_entries.py", "_metrics"): "a key of torchvision's weights meta"}


def test_no_keras_private_name_in_a_string_outside_compat(keras_private_names):
    """The attribute check above sees `obj._x`; this one `getattr(obj, "_x")` and its kin, in
    the library and in tests/."""
    sources = {str(path.relative_to(ROOT)): path.read_text()
               for module, path in MODULES.items() if module != COMPAT}
    sources.update(_test_sources())
    bad = [f"{path}:{line} {name!r}" for path, source in sources.items()
           for line, name in private_strings(ast.parse(source), keras_private_names)
           if (path, name) not in NOT_KERAS]
    assert not bad, "keras private names in strings outside zoo/compat.py:\n" + "\n".join(bad)


def test_no_keras_internals_in_the_tests(keras_private_names):
    """tests/ uses keras through its public API too (zoo.compat's tests aside)."""
    bad = []
    for path, source in _test_sources().items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                    else [node.module or ""]
                bad += [f"{path}:{node.lineno} imports {n}" for n in names
                        if n.startswith(("keras.src", "keras_tuner.src"))]
            elif isinstance(node, ast.Attribute) and node.attr in keras_private_names:
                bad.append(f"{path}:{node.lineno} .{node.attr}")
    assert not bad, "keras internals in tests/:\n" + "\n".join(bad)


def test_the_string_check_sees_a_private_name():
    tree = ast.parse('"""Docstrings may say _model."""\nx = getattr(cb, "_model", None)\n')
    assert private_strings(tree, {"_model"}) == [(2, "_model")]


# ---------------------------------------------------------------- engines name no family
def _family_words():
    """Every family name, registered model name and registered class name, lowercased."""
    import zoo  # noqa: F401  (registers the families)
    from zoo import registry

    names = set(registry.families()) | set(registry.list_models())
    names |= {registry.get(n).cls.__name__ for n in registry.list_models()}
    return names


#: strings an engine may not hold, as written: "lstm" names a model, while "LSTM" is
#: also an ONNX operator's name
FAMILY_STRINGS = _family_words()
FAMILY_WORDS = {name.lower() for name in FAMILY_STRINGS}


def _tokens(identifier):
    """`ResNetBlock` -> ["res", "net", "block", "resnetblock"]; `vae_space` -> ["vae",
    "space", "vae_space"]: the identifier's words, and the identifier itself."""
    import re

    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", identifier).lower().split("_")
    return [w for w in words if w] + [identifier.lower()]


def engine_modules():
    """Every module that is not a family (or its tests), a benchmark suite or the index of
    the families: what must work for any family, named or not."""
    return {m: p for m, p in MODULES.items()
            if not (is_test_module(m) or layer_of(m) == FAMILIES_LAYER
                    or m.startswith("zoo.bench") or m == "zoo.models")}


def family_named(tree):
    """[(line, what)] of the names a module defines and the strings it holds that are a
    family's, a model's or a model class's name (docstrings aside)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.arg):
            names.append(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, ast.alias):
            names.append(node.asname or node.name.split(".")[-1])
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings and node.value in FAMILY_STRINGS):
            found.append((node.lineno, repr(node.value)))
        for name in names:
            if any(token in FAMILY_WORDS for token in _tokens(name)):
                found.append((getattr(node, "lineno", 0), name))
    return found


def test_no_engine_names_a_family():
    """Engines ask a family's declarations (zoo.registry.Family, a model's methods); a
    family's name, a model name or a model class in an engine is a per-family switch."""
    bad = []
    for module, path in engine_modules().items():
        for line, what in family_named(ast.parse(path.read_text())):
            bad.append(f"{path.relative_to(ROOT)}:{line} {what}")
    assert not bad, "engines naming a family:\n" + "\n".join(sorted(bad))


def test_the_family_name_check_sees_a_switch():
    source = '''
RULES = {"resnet": 1}
def vae_parts(model):
    """The resnet docstring is fine."""
    from zoo.models.gan import DCGAN
    return isinstance(model, DCGAN)
'''
    found = sorted(what for _, what in family_named(ast.parse(source)))
    assert found == ["'resnet'", "DCGAN", "vae_parts"], found

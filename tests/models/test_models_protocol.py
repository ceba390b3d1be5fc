"""Every family package follows docs/adding-a-family.md: what is where, and declared once.

    zoo/models/<family>/
        __init__.py              the family's docstring; imports its classes and entry points
        <class>.py               one public class per file, named after it (ResNet: resnet.py)
        <family>_variants.py     VARIANTS, one `@register` entry point per name, tiny_arguments
        <family>_convert.py      RULES {source: Rules} (families with converted weights)
        <family>_tuning.py       search_space(arguments)
        <family>_<concern>.py    any other module of the family (functions, constants)
        test_<family>*.py        the family's own tests
        weights/<model>.<tag>.json, weights/files/   published entries and shipped files
"""

import ast
import inspect
import re

import pytest

import zoo
from zoo import registry
from zoo.weights.convert.rules import Rules

FAMILIES = registry.families()


def _public_classes(path):
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_family_folder_holds_only_what_the_protocol_names(family):
    folder = FAMILIES[family].folder
    assert FAMILIES[family].package == f"zoo.models.{family}"
    for path in sorted(folder.glob("*.py")):
        stem = path.stem
        if stem == "__init__" or stem.startswith("test_"):
            continue
        classes = _public_classes(path)
        if not classes:
            assert stem.startswith(f"{family}_"), f"{path.name}: name it {family}_<concern>.py"
            continue
        assert len(classes) == 1, f"{path.name}: one public class per file. Found: {classes}"
        assert classes[0].lower() == stem.replace("_", ""), \
            f"{path.name} holds {classes[0]}: a class file is named after its class"
    others = {p.name for p in folder.iterdir() if p.is_dir()} - {"weights", "__pycache__"}
    assert not others, f"{folder}: unexpected folders {sorted(others)}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_family_declares_its_variants_and_converters(family):
    variants = FAMILIES[family].declaration("variants")
    assert sorted(variants.VARIANTS) == FAMILIES[family].names()
    for name in FAMILIES[family].names():
        assert set(variants.tiny_arguments(name)) <= set(registry.defaults(name)), name
    convert = FAMILIES[family].declaration("convert")
    if convert is not None:
        assert convert.RULES and all(isinstance(r, Rules) for r in convert.RULES.values())
        assert set(convert.RULES) <= {"torchvision", "timm"}
    assert FAMILIES[family].declaration("tuning") is not None, f"{family} has no search space"


@pytest.mark.parametrize("name", zoo.list_models())
def test_each_entry_point_is_one_line_over_the_table(name):
    """go-to-definition on a name lands on a function that builds it: docstring, one return."""
    entry = registry.get(name)
    source = inspect.getsource(entry.builder)
    body = ast.parse(source.strip()).body[0].body
    assert ast.get_docstring(ast.parse(source.strip()).body[0]), f"{name} has no docstring"
    assert len(body) == 2 and isinstance(body[1], ast.Return), f"{name}: one line"
    assert re.search(rf"""create\(["']{name}["'], \*\*kwargs\)""", source), source


@pytest.mark.parametrize("name", zoo.list_models())
def test_declared_weights_are_the_published_entries(name):
    entry = registry.get(name)
    published = {spec.tag for spec in zoo.list_weights(f"{name}.*")}
    assert set(entry.weights) == published, (name, entry.weights, sorted(published))
    for spec in zoo.list_weights(f"{name}.*"):
        assert registry.family(name).weights_folder.joinpath(f"{spec.name}.json").is_file()

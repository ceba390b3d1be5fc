"""Names (issue 21, item 5): no two modules of `zoo/` and `callbacks/` share a file name,
unless they mirror each other on purpose and say so in their docstrings."""

import ast
import collections
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("zoo", "callbacks")
#: file names two modules may share: each of them says in its docstring whom it mirrors
MIRRORS = {
    # callbacks.schedules re-exports zoo.training.schedules for callback users
    "schedules.py": ("callbacks/schedules.py", "zoo/training/schedules.py"),
}
#: names every package has; not modules a reader looks for by name
IGNORED = {"__init__.py", "conftest.py"}


def _modules():
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
            if ".venv" not in p.parts]


def shared_names(paths):
    """{file name: [paths]} of the names more than one path has (tests excepted)."""
    by_name = collections.defaultdict(list)
    for path in paths:
        if path.name in IGNORED or path.name.startswith("test_"):
            continue
        by_name[path.name].append(path.relative_to(ROOT).as_posix())
    return {name: sorted(found) for name, found in by_name.items() if len(found) > 1}


def test_no_two_modules_share_a_file_name():
    clashes = {name: found for name, found in shared_names(_modules()).items()
               if tuple(found) != tuple(sorted(MIRRORS.get(name, ())))}
    assert not clashes, f"modules sharing a file name (rename one): {clashes}"


def test_mirrors_say_so_in_their_docstrings():
    for name, paths in MIRRORS.items():
        for rel in paths:
            doc = ast.get_docstring(ast.parse((ROOT / rel).read_text())) or ""
            others = [p for p in paths if p != rel]
            assert any(Path(o).with_suffix("").as_posix().replace("/", ".") in doc
                       for o in others), f"{rel}'s docstring must name the module it mirrors"


def test_the_name_check_sees_a_clash():
    paths = [ROOT / "zoo" / "a" / "export.py", ROOT / "zoo" / "b" / "export.py",
             ROOT / "zoo" / "c" / "__init__.py", ROOT / "zoo" / "d" / "__init__.py"]
    assert shared_names(paths) == {"export.py": ["zoo/a/export.py", "zoo/b/export.py"]}


def test_every_benchmark_suite_is_named_suite_bench():
    bench = ROOT / "zoo" / "bench"
    stray = [p.name for p in bench.glob("*.py")
             if not p.name.startswith("_") and not p.stem.endswith("_bench")]
    assert not stray, f"zoo/bench modules must be SUITE_bench.py (scripts/bench.py SUITE): {stray}"


def test_a_module_over_500_lines_says_which_one_concept_it_holds():
    """A source file of `zoo/`, `callbacks/` or `scripts/` over 500 lines holds one concept and
    says which in its docstring ("One concept in one file ..."); otherwise it is split."""
    long = []
    for path in [*_modules(), *sorted((ROOT / "scripts").glob("*.py"))]:
        source = path.read_text()
        if source.count("\n") > 500 and not path.name.startswith("test_"):
            doc = ast.get_docstring(ast.parse(source)) or ""
            if "One concept in one file" not in doc:
                long.append(path.relative_to(ROOT).as_posix())
    assert not long, f"over 500 lines without saying its one concept (split it): {long}"

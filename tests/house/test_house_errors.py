"""Errors (issue 21, item 4): a user's mistake is one line and status 2; anything else is a
bug in the zoo, shown with its traceback, a line saying so, and status 1; ZOO_DEBUG=1 or
`--traceback` shows the traceback of user errors too."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo import cli, errors
from zoo.jobs import train
from zoo.utils import command_line

ROOT = Path(__file__).resolve().parents[2]
#: raises of plain ValueError/TypeError that are bugs (a programming error), not a user's
PLAIN_RAISES = {
    ("zoo/compat.py", "already holds a value"),
    ("zoo/models/vision_layers.py", "no input size up to"),
    ("zoo/registry.py", "is already registered"),
    ("zoo/weights/__init__.py", "is already registered"),
    ("callbacks/checkpoint.py", "does not match its recorded size"),  # caught, never shown
}


def _run(argv, capsys, monkeypatch, debug=None):
    # set, so that monkeypatch restores it after `--traceback` has set it
    monkeypatch.setenv("ZOO_DEBUG", "0" if debug is None else debug)
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, err


def test_a_user_error_is_one_line_and_status_2(capsys, monkeypatch):
    code, err = _run(["train", "mlp", "--epochs", "0"], capsys, monkeypatch)
    assert code == 2
    assert err.strip().splitlines() == ["error: `--epochs` must be > 0. Received: 0"]


@pytest.mark.parametrize("how", ["ZOO_DEBUG=1", "--traceback"])
def test_zoo_debug_or_traceback_shows_a_user_errors_traceback(how, capsys, monkeypatch):
    argv = ["train", "mlp", "--epochs", "0"] + (["--traceback"] if how == "--traceback" else [])
    code, err = _run(argv, capsys, monkeypatch, debug="1" if how == "ZOO_DEBUG=1" else None)
    assert code == 2
    assert "Traceback (most recent call last)" in err and "UserValueError" in err
    assert err.strip().splitlines()[-1] == "error: `--epochs` must be > 0. Received: 0"


@pytest.mark.parametrize("exc", [ValueError("bad shape"), TypeError("got 3 args"),
                                 KeyError("x"), ZeroDivisionError("division by zero")])
def test_a_bug_shows_its_traceback_and_says_it_is_a_bug(exc, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(train, "_main", broken)
    code, err = _run(["train", "mlp", "--epochs", "1"], capsys, monkeypatch)
    assert code == 1
    assert "Traceback (most recent call last)" in err and "in broken" in err
    last = err.strip().splitlines()[-1]
    assert "bug in keras-zoo" in last and type(exc).__name__ in last, last


def test_a_bug_in_zoo_list_is_a_bug_too(capsys, monkeypatch):
    from zoo import catalogue

    monkeypatch.setattr(catalogue, "read", lambda: {}["missing"])
    code, err = _run(["list"], capsys, monkeypatch)
    assert code == 1 and "Traceback" in err and "bug in keras-zoo" in err


def test_a_missing_package_is_the_users_and_a_missing_zoo_module_a_bug():
    assert command_line.is_missing_package(ModuleNotFoundError("x", name="torch"))
    assert command_line.is_missing_package(errors.UserImportError("install onnx"))
    assert not command_line.is_missing_package(ModuleNotFoundError("x", name="zoo.nosuch"))


def test_user_errors_are_the_builtin_errors_api_users_catch():
    with pytest.raises(ValueError, match="Received: hidden_units") as caught:
        zoo.create("mlp", hidden_units=(0,))
    assert isinstance(caught.value, errors.UserError)
    assert issubclass(errors.UserTypeError, TypeError)
    assert issubclass(errors.UserFileNotFoundError, OSError)


def test_the_command_line_in_a_fresh_process():
    """`python -m zoo.cli list PATTERN` (no keras import): one line; with --traceback the
    traceback."""
    command = [sys.executable, "-m", "zoo.cli", "list", "zzz*"]
    env = {**os.environ, "ZOO_DEBUG": "0"}
    quiet = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    loud = subprocess.run(command + ["--traceback"], capture_output=True, text=True, cwd=ROOT,
                          env=env)
    assert quiet.returncode == loud.returncode == 2
    assert quiet.stderr.strip().splitlines() == [
        "error: No model name matches zzz*; `zoo list` shows them all. Received: pattern='zzz*'"]
    assert "Traceback" in loud.stderr and loud.stderr.strip().splitlines()[-1].startswith("error:")


def plain_user_raises():
    """[(file, line, message start)] of `raise ValueError/TypeError(...)` in the zoo that are
    not in PLAIN_RAISES: each should be a `zoo.errors` user error, or a bug."""
    found = []
    for package in ("zoo", "callbacks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            source = path.read_text()
            for node in ast.walk(ast.parse(source)):
                if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                        and isinstance(node.exc.func, ast.Name)
                        and node.exc.func.id in ("ValueError", "TypeError")):
                    text = ast.get_source_segment(source, node)
                    if not any(rel == f and m in text for f, m in PLAIN_RAISES):
                        found.append((rel, node.lineno, " ".join(text.split())[:80]))
    return found


def test_the_zoos_raises_of_user_mistakes_are_user_errors():
    """A plain ValueError is shown as a bug by the command line: a check of the user's
    input raises `zoo.errors.UserValueError` (or UserTypeError)."""
    assert plain_user_raises() == []

"""The docs stay true (issue 21, item 6): every Python example in README.md and docs/ runs,
and every shell command there is parsed by its script's argument parser, so a renamed
flag or function fails the suite instead of the reader.

A Python block runs in a fresh folder, the blocks of one page in order in one namespace
(as a reader pastes them). A block that cannot run here says why on its first line,
`# not run here: REASON` (the network, a GPU), and is checked for syntax only.
"""

import contextlib
import importlib
import os
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = "# not run here:"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
#: script -> the module whose build_parser() parses its arguments
SCRIPTS = {"train": "zoo.jobs.train", "evaluate": "zoo.jobs.evaluate", "tune": "zoo.jobs.tune",
           "export": "zoo.jobs.export", "publish_weights": "zoo.jobs.publish_weights",
           "port_weights": "zoo.jobs.port_weights", "pretrain_text": "zoo.jobs.pretrain_text",
           "make_imagenet_entries": "zoo.jobs.imagenet_entries"}
ZOO_COMMANDS = {"train": "train", "evaluate": "evaluate", "tune": "tune", "export": "export",
                "publish-weights": "publish_weights", "port-weights": "port_weights",
                "pretrain-text": "pretrain_text"}


def blocks(page, languages):
    """[(line, code)] of the fenced blocks of `page` in `languages`."""
    text = page.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(2)) for m in FENCE.finditer(text)
            if m.group(1) in languages]


def python_blocks():
    return [(page, line, code) for page in PAGES for line, code in blocks(page, ("python",))]


def shell_commands():
    """[(page, line, argv)] of the `python scripts/X.py ...` and `zoo ...` commands in the
    shell blocks and the inline code of every page."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for line, code in blocks(page, ("sh", "bash", "shell", "console")):
            variables = dict(re.findall(r'^(\w+)="([^"]*)"', code, re.M | re.S))
            joined = re.sub(r"\\\n", " ", code)
            for offset, command in enumerate(joined.split("\n")):
                command = re.sub(r"\$(\w+)", lambda m: variables.get(m.group(1), "0"), command)
                for part in re.split(r";|&&|&(?!\S)", command):
                    argv = _argv(part)
                    if argv:
                        found.append((page, line + offset, argv))
        without_blocks = FENCE.sub("", text)
        for m in re.finditer(r"`(python scripts/[^`]+|zoo (?:[a-z-]+)[^`]*)`", without_blocks):
            argv = _argv(m.group(1))
            if argv and len(argv) > (2 if argv[0] == "zoo" else 1) and not _is_usage(m.group(1)):
                found.append((page, 0, argv))
    return found


def _is_usage(text):
    """A usage line rather than a command: placeholders (RUN_DIR, [--lr LR], A|B, ...)."""
    return bool(re.search(r"\.\.\.|\||\[|\{|\b[A-Z][A-Z_]+\b", text))


def _argv(command):
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return None
    while words and (re.match(r"^\w+=", words[0]) or words[0] in ("flock",)):
        words = words[2:] if words[0] == "flock" else words[1:]
    if len(words) >= 2 and words[0] == "python" and words[1].startswith("scripts/"):
        return words[1:]
    if words and words[0] == "zoo" and len(words) >= 2:
        return words
    return None


def parser_for(argv):
    """(parser, arguments) that `argv` (scripts/X.py ... or zoo CMD ...) goes to."""
    if argv[0] == "zoo":
        command, rest = argv[1], argv[2:]
        if command in ("list", "info", "bench"):
            return command, rest
        return importlib.import_module(SCRIPTS[ZOO_COMMANDS[command]]).build_parser(), rest
    script, rest = Path(argv[0]).stem, argv[1:]
    if script == "bench":
        module = importlib.import_module(f"zoo.bench.{rest[0]}_bench")
        return module.build_parser(), rest[1:]
    return importlib.import_module(SCRIPTS[script]).build_parser(), rest


def test_the_pages_have_examples_to_check():
    assert len(python_blocks()) >= 10 and len(shell_commands()) >= 40


@pytest.mark.parametrize("page, line, argv", shell_commands(),
                         ids=lambda v: v.name if isinstance(v, Path) else None)
def test_a_documented_command_parses(page, line, argv):
    where = f"{page.relative_to(ROOT)}:{line}: {' '.join(argv)}"
    parser, rest = parser_for(argv)
    if parser == "bench":
        import zoo.bench

        assert rest and rest[0] in zoo.bench.suites(), where
        return
    if parser in ("list", "info"):  # `zoo list` takes patterns, `zoo info` one name
        assert not any(a.startswith("-") for a in rest), where
        assert parser == "list" or len(rest) <= 1, where
        return
    try:
        parser.parse_args(rest)
    except SystemExit as exit:
        pytest.fail(f"{where}: the parser refuses it (status {exit.code})")


def test_the_command_check_sees_a_renamed_flag():
    parser, rest = parser_for(["scripts/train.py", "mlp", "--epoch", "3"])
    with pytest.raises(SystemExit):
        parser.parse_args(rest)


@pytest.mark.slow  # real data: small slices of Fashion-MNIST and the movie reviews
@pytest.mark.parametrize("page", sorted({p for p, _, _ in python_blocks()}),
                         ids=lambda p: p.name)
def test_the_python_examples_of_a_page_run(page, tmp_path, monkeypatch):
    import keras

    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_example__"}
    for _, line, code in [b for b in python_blocks() if b[0] == page]:
        where = f"{page.relative_to(ROOT)}:{line}"
        compiled = compile(code, where, "exec")  # every block: its syntax
        if code.lstrip().startswith(NOT_RUN):
            reason = code.lstrip()[len(NOT_RUN):].split("\n")[0].strip()
            assert reason, f"{where}: `{NOT_RUN}` needs a reason"
            continue
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            exec(compiled, namespace)
    keras.config.set_dtype_policy("float32")

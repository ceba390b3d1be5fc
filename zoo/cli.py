"""The `zoo` command (`zoo train|evaluate|tune|bench|export|publish-weights|port-weights|
list|info ...`) and the entry shared with `scripts/*.py`.

This module imports nothing from the zoo at import time: the scripts load it by
path, before `zoo` (hence keras) is imported, so that `--backend` can still
choose keras's backend. `zoo list` and `zoo info` answer from the generated
index (`zoo.catalogue`) and never import keras.
"""

import importlib
import json
import os
import sys

COMMANDS = {
    "train": "zoo.jobs.train",
    "evaluate": "zoo.jobs.evaluate",
    "tune": "zoo.jobs.tune",
    "bench": "zoo.bench",
    "export": "zoo.jobs.export",
    "publish-weights": "zoo.jobs.publish_weights",
    "port-weights": "zoo.jobs.port_weights",
    "pretrain-text": "zoo.jobs.pretrain_text",
    "list": None,
    "info": None,
}
BACKENDS = ("tensorflow", "jax", "torch")
#: set (to 1) to print the traceback of user errors too; `--traceback` does the same
DEBUG_VARIABLE = "ZOO_DEBUG"


def option_value(argv, flag):
    """The value of `flag` in `argv` (`--flag V` or `--flag=V`), else None."""
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def prepare(argv):
    """What must happen before keras is imported: `--backend` sets KERAS_BACKEND,
    `--verbose 2` (or more) lets TensorFlow print its own start-up output, and
    `--traceback` sets ZOO_DEBUG=1."""
    if "--traceback" in argv:
        os.environ[DEBUG_VARIABLE] = "1"
    backend = option_value(argv, "--backend")
    if backend is not None:
        if backend not in BACKENDS:
            print(f"error: `--backend` must be one of {BACKENDS}. Received: {backend!r}",
                  file=sys.stderr)
            sys.exit(2)
        os.environ["KERAS_BACKEND"] = backend
    try:
        verbose = int(option_value(argv, "--verbose") or 0)
    except ValueError:
        verbose = 0
    if verbose >= 2:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    return backend


def run_script(command, argv):
    """`scripts/<command>.py ARGV`: prepare, import TensorFlow quietly, run the job."""
    prepare(argv)
    return _guarded(_run_script, command, argv)


def _run_script(command, argv):
    from zoo.utils.tensorflow_logs import import_tensorflow_quietly

    import_tensorflow_quietly()  # every job reads data through tf.data, on any backend
    return interruptible(importlib.import_module(COMMANDS[command]).main, argv)


def _guarded(function, *args):
    """`function(*args)`, whose user errors (`zoo.utils.command_line.USER_ERRORS`, a
    missing package) are one line and status 2, and any other exception a bug in the
    zoo: its traceback, a line saying so, status 1."""
    try:
        return function(*args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:
        from zoo.utils import command_line

        if isinstance(err, command_line.USER_ERRORS) or (
                isinstance(err, ImportError) and command_line.is_missing_package(err)):
            return command_line.report(err)  # e.g. --backend torch without torch installed
        return command_line.report_bug(err)


def interruptible(main, argv):
    """`main(argv)`, with Ctrl-C as one line and status 130 instead of a traceback.

    train.py and tune.py catch it themselves, to say how to resume; the other jobs write
    each output to a temporary path and rename it, so an interruption leaves the old file.
    """
    try:
        return main(argv)
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C); an output being written is not replaced: "
              "run the command again.", file=sys.stderr)
        return 130


def main(argv=None):
    """The `zoo` command; returns its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--traceback" in argv:
        os.environ[DEBUG_VARIABLE] = "1"
    return _guarded(_main, argv)


def _main(argv):
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: zoo {" + ",".join(COMMANDS) + "} ...")
        if not argv:
            print("error: a command is needed. Received: none", file=sys.stderr)
            return 2
        if argv[0] not in ("-h", "--help"):
            print(f"error: unknown command. Received: {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    command, rest = argv[0], argv[1:]
    if command in ("list", "info"):
        backend = prepare(argv)
        rest = [a for i, a in enumerate(rest) if a != "--traceback"
                and not a.startswith("--backend") and (i == 0 or rest[i - 1] != "--backend")]
        return _list_or_info(command, rest, backend)
    import keras

    backend = prepare(argv)
    if backend and backend != keras.backend.backend():
        # keras fixed its backend when `zoo` was imported: start again with it set.
        os.execv(sys.executable, [sys.executable, "-m", "zoo.cli", *argv])
    from zoo.utils.tensorflow_logs import import_tensorflow_quietly

    import_tensorflow_quietly()
    return interruptible(importlib.import_module(COMMANDS[command]).main, rest)


def _list_or_info(command, rest, backend=None):
    """`zoo list [PATTERN ...]`, `zoo info NAME`: from the index, without keras."""
    from zoo import catalogue
    from zoo.errors import UserValueError

    index = catalogue.read()
    if any(a.startswith("-") for a in rest) or (command == "info" and len(rest) > 1):
        raise UserValueError(
            f"`zoo {command}` takes {'patterns' if command == 'list' else 'one name'}"
            f" (and --backend). Received: {' '.join(rest)}")
    if command == "list":
        patterns = rest or ["*"]
        found = {p: catalogue.list_models(p, index) for p in patterns}
        names = sorted({n for matched in found.values() for n in matched})
        if not names:
            raise UserValueError(f"No model name matches {' '.join(patterns)}; `zoo list` shows "
                                 f"them all. Received: pattern={' '.join(patterns)!r}")
        for pattern in (p for p, matched in found.items() if not matched):
            print(f"(no model name matches {pattern!r})", file=sys.stderr)
        print("\n".join(names))
        return 0
    if not rest:
        raise UserValueError("`zoo info` needs a model name, e.g. `zoo info mlp` (`zoo list` shows "
                             "them). Received: no name")
    info = catalogue.model_info(rest[0], index)
    info.pop("summary")
    print(json.dumps({**info, "backend": backend or catalogue.backend()}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

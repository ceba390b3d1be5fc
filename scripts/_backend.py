"""What every script does first: run `zoo.cli.run_script` for its command.

`zoo/cli.py` is loaded by its path, not imported as `zoo.cli`: that would import
the `zoo` package, hence keras, before `--backend` has chosen keras's backend.
"""

import importlib.util
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _cli():
    sys.path.insert(0, ROOT)  # the checkout's zoo, also where it is not installed
    path = os.path.join(ROOT, "zoo", "cli.py")
    spec = importlib.util.spec_from_file_location("zoo_cli_entry", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(command):
    """Runs `zoo <command>` with this script's arguments and exits with its status."""
    sys.exit(_cli().run_script(command, sys.argv[1:]))


def apply_backend_flag(argv):
    """Sets KERAS_BACKEND from `--backend` (and TensorFlow's log level from `--verbose`)
    before keras is imported; for scripts that import their job themselves."""
    cli = _cli()
    cli.prepare(argv)
    from zoo.utils.tensorflow_logs import import_tensorflow_quietly

    import_tensorflow_quietly()

"""Helpers of the reliability tests: tiny train.py runs in process, snapshots of a folder."""

import hashlib
import os
import shutil
from pathlib import Path

#: a train.py run of a few seconds on real Fashion-MNIST (the first 128 examples)
TINY_RUN = ["mlp", "--limit", "128", "--batch-size", "32", "--model-arg", "hidden_units=(8,)",
            "--no-tensorboard", "--verbose", "0"]


def train_argv(run_dir, *extra, epochs=2):
    return [*TINY_RUN, "--epochs", str(epochs), "--run-dir", str(run_dir), *extra]


def call(main, argv, capsys):
    """(exit status, stdout, stderr) of an entry's `main(argv)`, argparse's exits included."""
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder):
    """{relative path: (sha256, mtime_ns)} of every file under `folder`, hidden ones too."""
    folder = Path(folder)
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            out[str(path.relative_to(folder))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return out


def copy_run(template, destination):
    shutil.copytree(template, destination)
    return Path(destination)


def one_error_line(err):
    """The stderr of a refused command: no traceback, exactly one `error:` line."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]

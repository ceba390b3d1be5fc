"""Mistaken command lines: each ends in one `error:` line on stderr and status 2, no traceback.

Run in process through each entry's `main(argv)` (the scripts and the `zoo` command call
exactly these), so the table costs no TensorFlow start-up per line.
"""

import pytest
from reliability_testlib import call, one_error_line, snapshot

import zoo.bench
from zoo import cli
from zoo.jobs import evaluate, export, port_weights, publish_weights, train, tune

ENTRIES = {"zoo": cli.main, "train": train.main, "evaluate": evaluate.main, "tune": tune.main,
           "export": export.main, "publish": publish_weights.main, "bench": zoo.bench.main,
           "port": port_weights.main}

MISTAKES = [
    # the zoo command
    ("zoo", [], "a command is needed"),
    ("zoo", ["nope"], "unknown command"),
    ("zoo", ["info"], "needs a model name"),
    ("zoo", ["info", "nosuch"], "'nosuch'"),
    ("zoo", ["info", "mlp", "resnet18"], "takes one name"),
    ("zoo", ["list", "zzz*"], "No model name matches"),
    # train.py
    ("train", ["mlpp"], "name='mlpp'"),
    ("train", ["mlp", "--optimizer", "adamm"], "optimizer='adamm'"),
    ("train", ["mlp", "--dataset", "nope"], "name='nope'"),
    ("train", ["mlp", "--model-arg", "hidden_units=(0,)"], "hidden_units"),
    ("train", ["mlp", "--model-arg", "oops"], "KEY=VALUE"),
    ("train", ["mlp", "--model-arg", "nosuch=1"], "nosuch"),
    ("train", ["mlp", "--epochs", "0"], "`--epochs` must be > 0"),
    ("train", ["mlp", "--epochs", "-1"], "`--epochs` must be > 0"),
    ("train", ["mlp", "--batch-size", "0"], "`--batch-size` must be > 0"),
    ("train", ["mlp", "--limit", "64", "--batch-size", "0"], "`--batch-size` must be > 0"),
    ("train", ["mlp", "--limit", "0"], "`--limit`"),
    ("train", ["mlp", "--lr", "-1"], "lr=-1"),
    ("train", ["mlp", "--schedule", "multistep", "--milestones", "a,b"], "`--milestones`"),
    ("train", ["mlp", "--schedule", "sometimes"], "invalid choice: 'sometimes'"),
    ("train", ["mlp", "--epochs", "two"], "invalid int value: 'two'"),
    ("train", ["mlp", "--resume"], "needs the `--run-dir`"),
    ("train", ["mlp", "--resume", "--overwrite", "--run-dir", "{tmp}/r"], "one of them"),
    ("train", ["mlp", "--run-dir", "{tmp}/afile"], "is a file"),
    ("train", ["mlp", "--limit", "64", "--validation-split", "1.5", "--run-dir", "{tmp}/r"],
     "validation_split=1.5"),
    ("train", ["mlp", "--keep-checkpoints", "0"], "`--keep-checkpoints`"),
    ("train", ["mlp", "--limit", "64", "--schedule", "onecycle", "--cycle-momentum", "x,y",
               "--run-dir", "{tmp}/r"], "`--cycle-momentum`"),
    ("train", ["mlp", "--mixed-precision", "fp8"], "invalid choice: 'fp8'"),
    ("train", ["mlp", "--nonsense"], "unrecognized arguments"),
    # evaluate.py
    ("evaluate", ["mlp"], "untrained model"),
    ("evaluate", ["mlp", "--weights", "nope"], "weights='nope'"),
    ("evaluate", ["mlp", "--weights", "{tmp}/junk.weights.h5"], "not a keras weights file"),
    ("evaluate", ["{tmp}/junk.keras"], "not a readable .keras model"),
    ("evaluate", ["{tmp}/emptydir"], "No model file"),
    ("evaluate", ["{tmp}/rundir", "--weights", "fashion_mnist"], "goes with a registered"),
    ("evaluate", ["mlp", "--weights", "fashion_mnist", "--batch-size", "0"], "`--batch-size`"),
    ("evaluate", ["nosuch", "--weights", "fashion_mnist"], "name='nosuch'"),
    ("evaluate", ["mlp", "--weights", "fashion_mnist", "--dataset", "nope"], "name='nope'"),
    ("evaluate", ["mlp", "--weights", "fashion_mnist", "--feature-model", "x"],
     "`--feature-model` applies to generative models"),
    # tune.py
    ("tune", ["mlpp", "--directory", "{tmp}/t"], "name='mlpp'"),
    ("tune", ["mlp", "--directory", "{tmp}/afile"], "is a file"),
    ("tune", ["mlp", "--epochs", "0"], "`--epochs`"),
    ("tune", ["mlp", "--max-trials", "0"], "`--max-trials`"),
    ("tune", ["mlp", "--validation-split", "1"], "`--validation-split`"),
    ("tune", ["mlp", "--train-examples", "1"], "`--train-examples`"),
    ("tune", ["mlp", "--fixed", "widht=2", "--directory", "{tmp}/t"], "'widht'"),
    ("tune", ["mlp", "--objective", "val_auc", "--directory", "{tmp}/t"], "'val_auc'"),
    ("tune", ["mlp", "--objective", "val_loss:up", "--directory", "{tmp}/t"], "min or max"),
    ("tune", ["mlp", "--algorithm", "grid"], "invalid choice: 'grid'"),
    # export.py
    ("export", ["mlp", "--format", "pdf", "--output", "{tmp}/m.pdf"], "--format"),
    ("export", ["mlp", "--format", "onnx"], "required: --output"),
    # publish_weights.py
    ("publish", ["{tmp}/nope", "--name", "x"], "not a directory"),
    ("publish", ["{tmp}/emptydir", "--name", "x"], "config.json is missing"),
    ("publish", ["{tmp}/notarun", "--name", "x"], "not a scripts/train.py record"),
    # port_weights.py
    ("port", ["caffe", "resnet18", "{tmp}/afile"], "source='caffe'"),
    ("port", ["torchvision", "resnet18", "{tmp}/none.pth"], "No checkpoint file"),
    ("port", ["torchvision", "resnet18", "{tmp}/afile", "--output", "{tmp}/o.h5"], "`--output`"),
    ("port", ["torchvision", "resnet18", "{tmp}/junk.weights.h5"], "junk.weights.h5"),
    ("port", ["torchvision", "resnet18", "{tmp}/afile", "--model-arg", "x"], "KEY=VALUE"),
    # bench.py
    ("bench", ["nosuch"], "unknown suite"),
    ("bench", ["mlp", "--epochs", "1"], "--epochs must be >= 2"),
    ("bench", ["reliability", "--rounds", "0"], "`--rounds` must be > 0"),
    ("bench", ["transfer", "--methods", "probe"], "`--methods` must be among"),
    ("bench", ["transfer", "--epochs", "0"], "`--epochs` must be > 0"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """The files and folders the mistaken commands name."""
    tmp = tmp_path_factory.mktemp("mistakes")
    (tmp / "afile").write_text("a file, not a directory")
    (tmp / "junk.weights.h5").write_bytes(b"not an HDF5 file")
    (tmp / "junk.keras").write_bytes(b"not a zip file")
    (tmp / "emptydir").mkdir()
    (tmp / "rundir").mkdir()
    (tmp / "rundir" / "model.keras").write_bytes(b"")
    (tmp / "notarun").mkdir()
    for name in ("config.json", "metrics.json"):
        (tmp / "notarun" / name).write_text("{}")
    (tmp / "notarun" / "model.keras").write_bytes(b"")
    return tmp


def test_the_table_is_long_enough():
    assert len(MISTAKES) >= 40 and len({(e, tuple(a)) for e, a, _ in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize("entry, argv, message", MISTAKES,
                         ids=[" ".join([e, *a]) for e, a, _ in MISTAKES])
def test_a_mistaken_command_is_one_error_line_and_status_2(entry, argv, message, places,
                                                           tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a default run directory would land here
    before = snapshot(places)
    argv = [a.replace("{tmp}", str(places)) for a in argv]
    code, _, err = call(ENTRIES[entry], argv, capsys)
    line = one_error_line(err)
    assert code == 2, (code, err)
    assert message in line, line
    assert snapshot(places) == before and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["evaluate", "export", "publish-weights", "port-weights",
                                     "bench"])
def test_ctrl_c_in_any_job_is_one_line_and_status_130(command, monkeypatch, capsys):
    import importlib

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(cli.COMMANDS[command]), "main", interrupted)
    # the `zoo` command, then scripts/<command>.py
    for entry in (cli.main, lambda argv: cli.run_script(command, argv[1:])):
        code, _, err = call(entry, [command], capsys)
        assert code == 130 and "interrupted (Ctrl-C)" in one_error_line(err), err

"""The zoo deletes or replaces only what it wrote: properties over every job that writes.

- every job that writes a directory refuses one holding files it did not write,
  `--overwrite` included, naming them, and changes nothing;
- a file output never replaces a directory, nor a file the zoo did not write;
- every path read from a record (a manifest, a cache record, a checkpoint state) stays
  inside its folder, or the record is refused and nothing it names is touched;
- `--overwrite` deletes only what the manifest lists of the job's own files, under the lock.
"""

import json
import os

import pytest
from reliability_testlib import TINY_RUN, call, copy_run, one_error_line, snapshot, train_argv

from zoo import bench
from zoo.jobs import export, port_weights, pretrain_text, train, tune
from zoo.utils import ownership


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))


def _foreign_folder(folder):
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("print('mine')\n")
    (folder / "thesis.tex").write_text("\\chapter{Mine}\n")
    return folder


# every job that writes a directory, with the arguments that point it at `folder`
DIRECTORY_JOBS = {
    "train": lambda d: (train.main, train_argv(d)),
    "train --overwrite": lambda d: (train.main, train_argv(d, "--overwrite")),
    "train --resume": lambda d: (train.main, train_argv(d, "--resume")),
    "train --find-lr --overwrite": lambda d: (
        train.main, [*TINY_RUN, "--run-dir", str(d), "--find-lr", "--overwrite"]),
    "tune --overwrite": lambda d: (tune.main, [
        "mlp", "--directory", str(d.parent), "--project-name", d.name, "--overwrite",
        "--train-examples", "64", "--max-trials", "1", "--epochs", "1"]),
    "pretrain_text --overwrite": lambda d: (pretrain_text.main, [
        "gru", "--run-dir", str(d), "--overwrite", "--limit-tokens", "200", "--epochs", "1"]),
    "bench generative train": lambda d: (bench.main, [
        "generative", "train", "dcgan", "--run-dir", str(d), "--epochs", "1"]),
    "export tf_saved_model --overwrite": lambda d: (export.main, [
        "mlp", "--format", "tf_saved_model", "--output", str(d), "--overwrite"]),
    "export onnx --overwrite (a file output)": lambda d: (export.main, [
        "mlp", "--format", "onnx", "--output", str(d), "--overwrite"]),
}


@pytest.mark.parametrize("job", sorted(DIRECTORY_JOBS))
def test_every_job_refuses_a_folder_holding_files_it_did_not_write(job, tmp_path, capsys):
    folder = _foreign_folder(tmp_path / "myproject")
    before = snapshot(tmp_path)
    main, argv = DIRECTORY_JOBS[job](folder)
    code, _, err = call(main, argv, capsys)
    line = one_error_line(err)
    assert code == 2, err
    if "onnx" in job:
        assert "never replaces" in line and "a directory" in line, line
    else:
        assert "src/main.py" in line and "thesis.tex" in line, line
    assert snapshot(tmp_path) == before


def test_a_file_output_replaces_only_a_file_the_zoo_wrote(tmp_path, capsys):
    theirs = tmp_path / "theirs.json"
    theirs.write_text("{}")
    cases = [
        (bench.main, ["mlp", "--json-out", str(theirs)]),
        (export.main, ["mlp", "--format", "onnx", "--output", str(theirs), "--overwrite"]),
        (port_weights.main, ["torchvision", "resnet18", str(tmp_path / "none.pth"),
                             "--output", str(tmp_path / "mine.weights.h5")]),
    ]
    (tmp_path / "mine.weights.h5").write_bytes(b"the user's")
    before = snapshot(tmp_path)
    for main, argv in cases:
        code, _, err = call(main, argv, capsys)
        assert code == 2 and "is not a file the zoo wrote" in one_error_line(err), err
    assert snapshot(tmp_path) == before
    # what the zoo wrote (and nobody changed since) it may replace
    ownership.write_output_json(theirs.with_name("ours.json"), {"a": 1})
    ownership.check_output_file(theirs.with_name("ours.json"))
    theirs.with_name("ours.json").write_text('{"a": 2}')  # changed by someone: not any more
    with pytest.raises(ValueError, match="or it changed since"):
        ownership.check_output_file(theirs.with_name("ours.json"))


def test_pretrain_text_publishes_over_no_file_an_entry_does_not_record(tmp_path, capsys):
    """The language-model entries go through publish_weights' checks and staged commit."""
    run, package = tmp_path / "lm-run", tmp_path / "package"
    run.mkdir()
    (run / "config.json").write_text('{"model": "gru", "command": "x"}')
    (run / "metrics.json").write_text("{}")
    (run / "model.keras").write_bytes(b"")
    (package / "files").mkdir(parents=True)
    (package / "files" / "gru.review_lm.weights.h5").write_bytes(b"someone's")
    before = snapshot(tmp_path)
    argv = ["gru", "--run-dir", str(run), "--publish", "review_lm", "--package-dir", str(package)]
    code, _, err = call(pretrain_text.main, [*argv, "--force"], capsys)
    assert code == 2 and "no entry records its sha256" in one_error_line(err), err
    (package / "gru.review_lm.json").write_text("{}")
    code, _, err = call(pretrain_text.main, argv, capsys)
    assert code == 2 and "pass --force to replace it" in one_error_line(err), err
    (package / "gru.review_lm.json").unlink()
    assert snapshot(tmp_path) == before


def test_a_run_directory_holding_a_foreign_config_json_is_refused(tmp_path, capsys):
    """The issue's case: `p/config.json` of the user's, then train.py --run-dir p."""
    run = tmp_path / "p"
    run.mkdir()
    (run / "config.json").write_text('{"my": 1}')
    code, _, err = call(train.main, train_argv(run), capsys)
    assert code == 2 and "did not write: config.json" in one_error_line(err)
    assert (run / "config.json").read_text() == '{"my": 1}'
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]


def test_find_lr_overwrite_deletes_only_its_own_files(finished, tmp_path, capsys):
    """The issue's case: --find-lr --overwrite on a finished run kept nothing of it."""
    run = copy_run(finished, tmp_path / "run")
    (run / "lr_finder.json").write_text("{}")  # an earlier range test's
    mine = ("lr_finder", ".zoo")  # its own files, the lock and the manifest
    before = {k: v for k, v in snapshot(run).items() if not k.startswith(mine)}
    code, out, err = call(train.main, [*TINY_RUN, "--run-dir", str(run), "--find-lr",
                                       "--find-lr-steps", "5", "--overwrite"], capsys)
    assert code == 0, err
    after = snapshot(run)
    assert {k: v for k, v in after.items() if k in before} == before  # the run untouched
    assert json.loads((run / "lr_finder.json").read_text())["lr"]
    assert "lr_finder.json" in ownership.read_manifest(run)


def test_overwrite_deletes_what_the_manifest_lists_under_the_lock(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path / "run")
    seen = []
    remove = ownership.OwnedDirectory.remove_owned

    def spy(self, entries=None):
        seen.append(ownership.DirectoryLock(self.path).holder())  # held by this process
        return remove(self, entries)

    ownership.OwnedDirectory.remove_owned = spy
    try:
        code, _, err = call(train.main, train_argv(run, "--overwrite", epochs=1), capsys)
    finally:
        ownership.OwnedDirectory.remove_owned = remove
    assert code == 0, err
    assert len(seen) == 1 and seen[0].startswith(f"pid {os.getpid()} "), seen


def test_tune_overwrite_takes_the_lock_before_deleting_anything(tmp_path, capsys):
    """The issue's case: a second tune.py --overwrite deleted the first one's search, lock
    file included, before it took the lock."""
    project = tmp_path / "mlp-fashion_mnist-random"
    project.mkdir()
    ownership.OwnedDirectory(project, ("oracle.json",)).record()
    (project / "oracle.json").write_text("{}")  # a search's record
    seen = []
    remove = ownership.OwnedDirectory.remove_owned

    class Stop(Exception):
        pass

    def spy(self, entries=None):
        seen.append(ownership.DirectoryLock(self.path).holder())
        remove(self, entries)
        raise Stop  # enough: no search needed

    ownership.OwnedDirectory.remove_owned = spy
    try:
        with pytest.raises(Stop):
            tune.main(["mlp", "--directory", str(tmp_path), "--overwrite", "--train-examples",
                       "64", "--max-trials", "1", "--epochs", "1", "--fixed",
                       "hidden_units=(4,)"])
    finally:
        ownership.OwnedDirectory.remove_owned = remove
    assert len(seen) == 1 and seen[0].startswith(f"pid {os.getpid()} "), seen
    assert not (project / "oracle.json").exists() and (project / ownership.LOCK_NAME).exists()


@pytest.mark.parametrize("entry", ["../outside.txt", "/etc/passwd", "a/../../outside.txt"])
def test_a_manifest_naming_a_path_outside_its_folder_is_refused(entry, finished, tmp_path,
                                                                capsys):
    run = copy_run(finished, tmp_path / "run")
    (tmp_path / "outside.txt").write_text("keep")
    manifest = run / ownership.MANIFEST_NAME
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "entries": data["entries"] + [entry]}))
    before = snapshot(tmp_path)
    code, _, err = call(train.main, train_argv(run, "--overwrite"), capsys)
    assert code == 2 and "not a path inside its folder" in one_error_line(err), err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("named", ["{victim}", "../victim.txt", "sub/../../victim.txt"])
def test_a_cache_record_naming_a_file_outside_the_cache_is_refused(named, tmp_path):
    """The issue's case: a converted-weights record whose "file" is /abs/victim.txt (with
    a wrong sha256) made a load delete victim.txt."""
    import zoo
    from zoo.weights import ported, store

    spec = zoo.weights.get_weights("resnet18.imagenet")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    record = ported._record_path(spec)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({
        "file": named.format(victim=victim), "sha256": "0" * 64, "size": 8,
        "source_format": spec.source_format, "source_sha256": spec.sha256,
        "converter": ported.CONVERTER_VERSION}))
    with pytest.raises(store.WeightsIntegrityError, match="the record is refused"):
        ported.fetch_converted(spec, progress=False)
    assert victim.read_text() == "precious"


def test_a_checkpoint_state_naming_a_file_outside_its_folder_is_ignored(tmp_path):
    import callbacks
    from zoo.utils.files import sha256_file

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    victim = tmp_path / "victim.weights.h5"
    victim.write_bytes(b"precious")
    (folder / "state-00001.json").write_text(json.dumps(
        {"weights": "../victim.weights.h5", "size": 8, "sha256": sha256_file(victim)}))
    with pytest.warns(UserWarning, match="plain file name"):
        assert callbacks.Checkpoint(folder).valid_states() == []
    assert victim.read_bytes() == b"precious"


def test_a_file_output_is_checked_and_replaced_by_one_writer_at_a_time(tmp_path):
    """Export, port and bench reports check and replace their output under one lock: a
    second writer waits, and then finds the first one's file (the zoo's: replaced)."""
    import threading

    report = tmp_path / "report.json"
    ownership.write_output_json(report, {"run": 1})
    with ownership.replacing_outputs():  # another writer between its check and its record
        writer = threading.Thread(target=ownership.write_output_json, args=(report, {"run": 2}))
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and json.loads(report.read_text()) == {"run": 1}
    writer.join(10)
    assert not writer.is_alive() and json.loads(report.read_text()) == {"run": 2}

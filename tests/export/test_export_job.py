"""scripts/export.py as a user runs it: the acceptance command, run directories, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from export_testlib import images

import zoo
from zoo import cli
from zoo.jobs import export as job

ROOT = Path(__file__).resolve().parents[2]
RAW = 1.0 / 255.0


def _script(args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "export.py"), *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def _our_stderr(text):
    """stderr without TensorFlow's C++ start-up log lines (printed by every TF program)."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith(
        ("I0000", "W0000", "E0000", "WARNING: All log messages before absl"))]


@pytest.mark.slow
def test_acceptance_resnet20_onnx_gives_keras_classes_on_raw_fashion_mnist(tmp_path):
    out = _script(["resnet20", "--weights", "fashion_mnist", "--format", "onnx",
                   "--output", "r20.onnx"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "input images: uint8 (None, 28, 28, 1)" in out.stdout
    assert "checked in its runtime against keras" in out.stdout

    import onnxruntime

    (_, _), (x_test, _) = zoo.datasets.load_arrays("fashion_mnist")
    raw = x_test[:16]
    assert raw.dtype == np.uint8
    session = onnxruntime.InferenceSession(str(tmp_path / "r20.onnx"))
    logits = session.run(None, {session.get_inputs()[0].name: raw})[0]
    model = zoo.create("resnet20", weights="fashion_mnist")
    reference = model.predict(raw.astype("float32") / 255.0, verbose=0)
    np.testing.assert_array_equal(logits.argmax(-1), reference.argmax(-1))
    np.testing.assert_allclose(logits, reference, rtol=0, atol=1e-4)


def test_a_run_directory_exports_taking_the_datasets_raw_images(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    model = zoo.create("mlp", hidden_units=(8,))
    model.save(run / "model.keras")
    (run / "config.json").write_text(json.dumps({"model": "mlp", "dataset": "fashion_mnist"}))
    assert job.main([str(run), "--format", "onnx", "--output", str(tmp_path / "m.onnx")]) == 0
    x = images((28, 28, 1))
    y = job.load_artifact(tmp_path / "m.onnx", "onnx")(x)
    np.testing.assert_allclose(y, model.predict(x / 255.0, verbose=0), rtol=0, atol=1e-4)


def _other_parts():
    vae = zoo.create("vae", input_shape=(8, 8, 1), latent_dim=4, filters=(4, 8))
    gan = zoo.create("wgan_gp", input_shape=(8, 8, 1), latent_dim=4, filters=(4, 8))
    ae = zoo.create("autoencoder", input_shape=(8, 8, 1), latent_dim=4, filters=(4, 8))
    x = images((8, 8, 1))
    return [(vae, "encoder", vae.encode(x / 255.0)),
            (gan, "discriminator", gan.predict(x / 255.0, verbose=0)),
            (ae, None, ae.predict(x / 255.0, verbose=0))], x


def test_the_other_generative_parts_export_to_onnx(tmp_path):
    cases, x = _other_parts()
    for i, (model, part, reference) in enumerate(cases):
        out = tmp_path / f"m{i}.onnx"
        job.export(model, out, "onnx", part=part, raw_scale=RAW, check=False)
        y = job.load_artifact(out, "onnx")(x)
        np.testing.assert_allclose(y, reference, rtol=0, atol=1e-4, err_msg=str(part))


def test_overwrite_replaces_and_a_failed_check_writes_nothing(tmp_path, monkeypatch):
    """--overwrite replaces an artifact the zoo wrote, never a file it did not write."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    model = zoo.create("mlp", hidden_units=(8,))
    out = tmp_path / "m.onnx"
    job.export(model, out, "onnx", check=False)
    old = out.read_bytes()
    with pytest.raises(job.ExportError, match="--overwrite"):
        job.export(model, out, "onnx")
    assert out.read_bytes() == old
    report = job.export(zoo.create("mlp", hidden_units=(4,)), out, "onnx", overwrite=True)
    assert out.read_bytes() != old and report["max_abs_diff"] <= job.ATOL
    theirs = tmp_path / "theirs.onnx"
    theirs.write_bytes(b"not the zoo's")
    with pytest.raises(ValueError, match="is not a file the zoo wrote"):
        job.export(model, theirs, "onnx", overwrite=True)
    assert theirs.read_bytes() == b"not the zoo's"
    theirs.unlink()

    monkeypatch.setattr(job, "parity", lambda runner, inference: 0.5)
    with pytest.raises(job.ExportError, match="differs from keras by 0.5"):
        job.export(model, tmp_path / "bad.onnx", "onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "m.onnx"]


# ---------------------------------------------------------------------- bad input
def _main_fails(capsys, argv, match, cwd):
    before = sorted(os.listdir(cwd))
    try:
        code = job.main(argv)
    except SystemExit as exit:  # argparse's own errors (a missing option)
        code = exit.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], err
    assert "Traceback" not in err
    assert sorted(os.listdir(cwd)) == before  # nothing written


@pytest.mark.parametrize("argv,match", [
    (["mlp", "--format", "pdf", "--output", "{d}/m.pdf"], "--format pdf"),
    (["mlp", "--format", "onnx"], "required: --output"),
    (["mlp", "--format", "litert", "--output", "{d}/m.onnx"], ".tflite"),
    (["mlp", "--format", "onnx", "--output", "{d}/taken.onnx"], "pass --overwrite"),
    (["{d}/emptyrun", "--format", "onnx", "--output", "{d}/e.onnx"], "has no model.keras"),
    (["{d}/nowhere/", "--format", "onnx", "--output", "{d}/e.onnx"], "No run directory"),
    (["dcgan", "--format", "onnx", "--output", "{d}/g.onnx"],
     "pass --part generator or --part discriminator"),
    (["vae", "--format", "onnx", "--output", "{d}/v.onnx"], "--part decoder or --part encoder"),
    (["vae", "--format", "onnx", "--output", "{d}/v.onnx", "--part", "generator"],
     "must be one of ['decoder', 'encoder']"),
    (["mlp", "--format", "onnx", "--output", "{d}/m.onnx", "--part", "decoder"],
     "the whole model exports"),
    (["mlp", "--weights", "imagenet", "--format", "onnx", "--output", "{d}/m.onnx"],
     "No weights 'imagenet'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, match):
    (tmp_path / "taken.onnx").write_bytes(b"keep")
    (tmp_path / "emptyrun").mkdir()
    argv = [a.format(d=tmp_path) for a in argv]
    _main_fails(capsys, argv, match, tmp_path)
    assert (tmp_path / "taken.onnx").read_bytes() == b"keep"


def test_a_missing_exporter_names_the_install_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(job, "installed", lambda module: module != "onnxruntime")
    _main_fails(capsys, ["mlp", "--format", "onnx", "--output", str(tmp_path / "m.onnx")],
                'onnxruntime, not installed: pip install "keras-zoo[export]"', tmp_path)


def test_unsupported_backend_pairs_say_which_backend_to_use():
    with pytest.raises(job.ExportError, match="cannot write litert from the jax backend: "
                                              "use --backend tensorflow"):
        job.check_format("litert", "jax")
    with pytest.raises(job.ExportError, match="use --backend tensorflow"):
        job.check_format("onnx", "torch")
    job.check_format("onnx", "jax")  # supported: no error


def test_the_script_and_the_zoo_command_fail_without_a_traceback(tmp_path, capsys):
    out = _script(["dcgan", "--format", "onnx", "--output", "g.onnx"], cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    ours = _our_stderr(out.stderr)
    assert len(ours) == 1 and ours[0].startswith("error: A DCGAN is exported one part"), ours
    assert list(tmp_path.iterdir()) == []

    assert cli.main(["export", "mlp", "--format", "xml", "--output", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: `--format` must be one of ('tf_saved_model', 'onnx', 'litert'). "
        "Received: --format xml")

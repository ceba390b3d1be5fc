"""Files written by the zoo before the family folders and functional vision models load.

tests/legacy/files holds tiny models saved by main at 630d7c7 (make_legacy_fixtures.py),
with their inputs and outputs: each `.keras` file loads through `keras.saving.load_model`,
and the weights inside it through `model.load_weights` and `zoo.create(..., weights=path)`,
giving the stored outputs. The vision families were subclassed models then (their layers
nested in blocks, at other paths in the file): zoo.compat reads those by layer name.
"""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo

FILES = Path(__file__).resolve().parent / "files"
MANIFEST = json.loads((FILES / "manifest.json").read_text())
CASES = sorted(MANIFEST["cases"])


def _output(model, name, x):
    if name == "dcgan":
        return keras.ops.convert_to_numpy(model.discriminator(x))
    out = model.predict(x, verbose=0)
    return {k: keras.ops.convert_to_numpy(v) for k, v in out.items()} if isinstance(out, dict) \
        else keras.ops.convert_to_numpy(out)


def _assert_outputs(name, got):
    want = dict(np.load(FILES / f"{name}.outputs.npz"))
    if not isinstance(got, dict):
        got = {next(iter(want)): got}
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, atol=1e-5, err_msg=f"{name} {key}")


#: families added after 630d7c7: no file of the earlier layout exists
ADDED_SINCE = {"vit", "swin", "convnext", "regnet", "inception", "mobilenet", "efficientnet",
               "speednet"}


def test_the_fixtures_cover_every_family_that_saves_weights():
    families = {zoo.registry.get(n).family for n in CASES if n in zoo.list_models()}
    assert families == set(zoo.registry.families()) - ADDED_SINCE


@pytest.mark.parametrize("name", CASES)
def test_a_keras_file_of_the_earlier_layout_loads_with_the_same_outputs(name):
    model = keras.saving.load_model(FILES / f"{name}.keras")
    x = np.load(FILES / f"{name}.x.npy")
    _assert_outputs(name, _output(model, name, x))


@pytest.mark.parametrize("name", [n for n in CASES if n in zoo.list_models()])
def test_its_weights_load_into_a_model_built_today(name, tmp_path):
    with zipfile.ZipFile(FILES / f"{name}.keras") as archive:
        (tmp_path / "old.weights.h5").write_bytes(archive.read("model.weights.h5"))
    kwargs = {k: tuple(v) if isinstance(v, list) else v
              for k, v in MANIFEST["cases"][name].items()}
    x = np.load(FILES / f"{name}.x.npy")
    model = zoo.create(name, **kwargs)
    if name == "lstm":  # the vocabulary is an asset of the .keras file, not a weight
        model = keras.saving.load_model(FILES / f"{name}.keras")
    model.load_weights(tmp_path / "old.weights.h5")
    _assert_outputs(name, _output(model, name, x))
    if name != "lstm":
        loaded = zoo.create(name, weights=str(tmp_path / "old.weights.h5"), **kwargs)
        _assert_outputs(name, _output(loaded, name, x))

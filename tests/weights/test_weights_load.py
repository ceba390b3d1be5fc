"""Loading weights into models: entries, local paths, mismatched heads, specs."""

import dataclasses
import hashlib
import warnings

import numpy as np
import pytest

import zoo
from zoo import weights as zw

TINY = dict(input_shape=(6,), num_classes=3, hidden_units=(5, 4))


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A registered entry `mlp.tiny_load` whose file lives in tmp_path (package:// url)."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    model = zoo.create("mlp", **TINY)
    (tmp_path / "files").mkdir()
    path = tmp_path / "files" / "tiny.weights.h5"
    model.save_weights(str(path))
    data = path.read_bytes()
    spec = zw.WeightsSpec(
        name="mlp.tiny_load", model="mlp", model_config=dict(TINY),
        url="package://files/tiny.weights.h5", sha256=hashlib.sha256(data).hexdigest(),
        size=len(data), dataset="fashion_mnist", metrics={}, evaluation_command="-",
        params=model.count_params(), input_shape=(6,), preprocessing="-",
        training_command="-", license="Apache-2.0", root=str(tmp_path),
    )
    monkeypatch.setitem(zw._entries(), spec.name, spec)
    return spec, model, path


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def test_create_with_entry_uses_its_config_and_weights(tiny):
    spec, original, _ = tiny
    model = zoo.create("mlp", weights="tiny_load")
    assert model.hidden_units == (5, 4) and model.count_params() == spec.params
    assert _same(model, original)


@pytest.mark.jax
@pytest.mark.torch
def test_other_num_classes_is_a_clear_error_and_leaves_the_model_unchanged(tiny):
    _, original, path = tiny
    model = zoo.create("mlp", **{**TINY, "num_classes": 7})
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError) as info:
        zw.load_weights(model, path)
    message = str(info.value)
    assert "layer 'logits'" in message and "file (4, 3), model (4, 7)" in message
    assert "skip_mismatch=True" in message
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.jax
@pytest.mark.torch
def test_skip_mismatch_loads_the_body_and_keeps_the_head_with_a_warning(tiny):
    _, original, _ = tiny
    model = zoo.create("mlp", **{**TINY, "num_classes": 7})
    head = model.logits.kernel.numpy().copy()
    with pytest.warns(UserWarning, match="logits"):
        zw.load_weights(model, "mlp.tiny_load", skip_mismatch=True)
    for mine, theirs in zip(model.hidden, original.hidden):
        np.testing.assert_array_equal(mine.kernel.numpy(), theirs.kernel.numpy())
    np.testing.assert_array_equal(model.logits.kernel.numpy(), head)


def test_create_with_entry_and_new_num_classes_keeps_the_body_and_gives_a_fresh_head(tiny):
    _, original, _ = tiny
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an asked-for new head is no mismatch
        model = zoo.create("mlp", weights="tiny_load", num_classes=2)
    assert model.logits.kernel.shape == (4, 2)
    for mine, theirs in zip(model.hidden, original.hidden):
        np.testing.assert_array_equal(mine.kernel.numpy(), theirs.kernel.numpy())
    # a change beyond the head: refused for an entry (it changes the function), and from a
    # file a mismatch, an error naming the layer, or skipped
    with pytest.raises(ValueError, match="hidden_units=\\(5, 6\\) changes the function"):
        zoo.create("mlp", weights="tiny_load", hidden_units=(5, 6))
    path = tiny[2]
    other = {**TINY, "hidden_units": (5, 6)}
    with pytest.raises(ValueError, match="dense_1"):
        zoo.create("mlp", weights=str(path), **other)
    with pytest.warns(UserWarning, match="dense_1"):
        zoo.create("mlp", weights=str(path), skip_mismatch=True, **other)


def test_local_path(tiny, tmp_path):
    _, original, path = tiny
    model = zoo.create("mlp", weights=str(path), **TINY)
    assert _same(model, original)
    with pytest.raises(FileNotFoundError, match="no.weights.h5"):
        zoo.create("mlp", weights=str(tmp_path / "no.weights.h5"), **TINY)


def test_matching_load_gives_no_warning(tiny):
    _, original, path = tiny
    model = zoo.create("mlp", **TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zw.load_weights(model, path)
    assert _same(model, original)


def test_bad_names_and_types(tiny):
    with pytest.raises(ValueError, match="Did you mean 'tiny_load'") as info:
        zoo.create("mlp", weights="tiny_laod")
    assert "Received: weights='tiny_laod'" in str(info.value)
    with pytest.raises(TypeError, match="weights=3"):
        zoo.create("mlp", weights=3)
    with pytest.raises(ValueError, match="No published weights"):
        zw.get_weights("mlp.nothing")
    with pytest.raises(ValueError, match="already registered"):
        zw.register_weights(zw.get_weights("mlp.tiny_load"))
    with pytest.raises(TypeError, match="spec="):
        zw.register_weights({"name": "x"})


def test_spec_checks_and_json_round_trip(tiny, tmp_path):
    spec, _, _ = tiny
    path = tmp_path / "entry.json"
    spec.write(path)
    again = zw.WeightsSpec.read(path)
    assert again == spec and again.root == str(tmp_path)
    assert spec.tag == "tiny_load"
    with pytest.raises(ValueError, match="sha256="):
        dataclasses.replace(spec, sha256="abc")
    with pytest.raises(ValueError, match="name="):
        dataclasses.replace(spec, name="resnet20.tiny")
    with pytest.raises(ValueError, match="url="):
        dataclasses.replace(spec, url="ftp://x")
    with pytest.raises(ValueError, match="size="):
        dataclasses.replace(spec, size=0)
    with pytest.raises(ValueError, match="Unknown WeightsSpec fields"):
        zw.WeightsSpec.from_json({**spec.to_json(), "extra": 1})


def test_a_changed_shipped_file_is_refused(tiny, tmp_path):
    spec, _, path = tiny
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(zw.WeightsIntegrityError, match="sha256"):
        zoo.create("mlp", weights="tiny_load")
    assert not list((tmp_path / "zoo-home" / "weights").iterdir())


def test_model_info_lists_the_entry(tiny):
    assert "mlp.tiny_load" in zoo.model_info("mlp")["weights"]
    assert [w.name for w in zoo.list_weights("mlp.tiny_*")] == ["mlp.tiny_load"]

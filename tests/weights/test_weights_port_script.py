"""scripts/port_weights.py: a local checkpoint converted, compared with its reference."""

import hashlib

import numpy as np
import pytest

from zoo.jobs import port_weights, references

import torch  # noqa: E402  (installed by `make install`; a skip would hide the check)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random resnet18 in torchvision's format, named as torchvision names its files."""
    folder = tmp_path_factory.mktemp("port")
    reference = references.randomize(references.torchvision_model("resnet18"), seed=3)
    path = folder / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    named = folder / f"resnet18-{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}.pth"
    path.rename(named)
    return named


def test_port_prints_the_relative_logit_difference(checkpoint, tmp_path, capsys):
    out = tmp_path / "r18.weights.h5"
    assert port_weights.main(["torchvision", "resnet18", str(checkpoint), "--output", str(out),
                              "--model-arg", "input_shape=[64,64,3]"]) == 0
    printed = capsys.readouterr().out
    relative = float(printed.rsplit(":", 1)[1].strip(" )\n"))
    assert relative <= 1e-4, printed
    assert out.is_file()
    import zoo

    model = zoo.create("resnet18", weights=str(out), input_shape=(64, 64, 3))
    x = np.random.default_rng(0).normal(size=(1, 64, 64, 3)).astype("float32")
    reference = references.torchvision_model("resnet18")
    reference.load_state_dict(torch.load(checkpoint, weights_only=True))
    want = references.logits(reference, x)
    assert np.abs(model.predict(x, verbose=0) - want).max() <= 1e-4 * np.abs(want).max()


def test_bad_input_is_a_clear_error(checkpoint, tmp_path, capsys):
    assert port_weights.main(["caffe", "resnet18", str(checkpoint)]) == 2
    assert "source='caffe'" in capsys.readouterr().err
    assert port_weights.main(["torchvision", "resnet50", str(checkpoint)]) == 2
    err = capsys.readouterr().err
    assert "first mismatch at layer 'stage1_block0_conv1'" in err and "(64, 64, 3, 3)" in err
    renamed = tmp_path / "resnet18-deadbeef.pth"
    renamed.write_bytes(checkpoint.read_bytes())
    assert port_weights.main(["torchvision", "resnet18", str(renamed)]) == 2
    assert "prefix 'deadbeef'" in capsys.readouterr().err
    assert port_weights.main(["torchvision", "resnet18", str(tmp_path / "none.pth")]) == 2
    assert "file=" in capsys.readouterr().err


def test_cli_entry(capsys):
    from zoo import cli

    with pytest.raises(SystemExit) as info:
        cli.main(["port-weights", "--help"])
    assert info.value.code == 0 and "--output" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["int8", "nan"])
def test_a_quantized_or_non_finite_checkpoint_is_refused_before_writing(
        checkpoint, tmp_path, capsys, damage):
    """The issue's cases: int8 tensors without scales, a NaN bias: both were written."""
    state = torch.load(checkpoint, weights_only=True)
    if damage == "int8":
        state["layer1.0.conv1.weight"] = state["layer1.0.conv1.weight"].to(torch.int8)
        named = "'layer1.0.conv1.weight' (layer 'stage1_block0_conv1') as int8"
    else:
        state["fc.bias"][3] = float("nan")
        named = "NaN or inf in 'fc.bias' (layer 'logits': 1 of 1000 values)"
    path = tmp_path / "damaged.pth"
    torch.save(state, path)
    out = tmp_path / "out.weights.h5"
    assert port_weights.main(["torchvision", "resnet18", str(path), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [path]


@pytest.fixture(scope="module")
def legacy_densenet(tmp_path_factory):
    """A random densenet121 saved as torchvision's published 2017 files are: key names
    `denselayer1.norm.1.weight` (which its own loader renames), no BatchNorm counters."""
    import re

    reference = references.randomize(references.torchvision_model("densenet121"), seed=5)
    legacy = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))"
                        r"((?:[12])\.(?:weight|bias|running_mean|running_var))$")
    state = {}
    for key, value in reference.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        match = legacy.match(key)
        state[f"{match.group(1)}.{match.group(2)}" if match else key] = value
    assert any(".norm.1." in key for key in state)
    path = tmp_path_factory.mktemp("legacy") / "densenet121-legacy.pth"
    torch.save(state, path)
    return path


def test_the_reference_check_loads_published_densenet_names_as_torchvision_does(
        legacy_densenet, capsys):
    """It read them with strict=False and no rename: "relative difference 3.3"."""
    assert port_weights.main(["torchvision", "densenet121", str(legacy_densenet),
                              "--model-arg", "input_shape=[32,32,3]"]) == 0
    printed = capsys.readouterr().out
    assert float(printed.rsplit(":", 1)[1].strip(" )\n")) <= 1e-4, printed


def test_the_reference_loads_strictly(checkpoint):
    state = torch.load(checkpoint, weights_only=True)
    del state["layer2.0.bn1.running_var"]
    with pytest.raises(ValueError, match="layer2.0.bn1.running_var"):
        references.torchvision_reference("resnet18", state)


def test_a_published_state_with_auxiliary_heads_loads_as_torchvision_loads_it():
    """torchvision's published GoogLeNet and Inception v3 files hold their auxiliary heads'
    tensors (`aux1.*`, `AuxLogits.*`): the reference is built with them, then leaves them out."""
    torch.manual_seed(0)
    with_heads = references.torchvision_model("googlenet", aux_logits=True, init_weights=True)
    state = with_heads.state_dict()
    assert any(key.startswith("aux1.") for key in state)
    reference = references.torchvision_reference("googlenet", state)
    assert reference.aux_logits is False and not reference.training

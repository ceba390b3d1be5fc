"""Ported torchvision/timm weights: every family against its reference, through zoo.create.

For each family a torchvision (or timm) reference with random weights and random
BatchNorm statistics is saved in its source's real format (`torch.save` state
dict, timm's safetensors), served from a loopback HTTP server under a
hash-named file, loaded through `zoo.create(name, weights=spec)` (download,
verification, conversion, cache), and compared in inference on the same
images: logits and every `features_only` stage. Depths and widths are reduced
where the full network adds nothing (the same layer kinds and naming rules);
`test_every_imagenet_entry_converts_its_full_key_set` checks every published
entry's full key set on torch's meta device, without allocating weights.
"""

import hashlib
import io
import warnings

import keras
import numpy as np
import pytest

import zoo
from loopback import LoopbackServer
from zoo import compat
from zoo import weights as zw
from zoo.jobs import references
from zoo.weights import classes, convert, ported

import torch  # noqa: E402  (installed by `make install`; a skip would hide the check)
tv = references.import_torchvision()

SIZE = 64
RTOL = 1e-4  # max |difference| <= RTOL * max |reference logit|


def _narrow(ref, in_features, dropout_first, width=64, classes=10):
    """torchvision's classifier (same module indices) at `width` instead of 4096."""
    nn = torch.nn
    if dropout_first:  # AlexNet: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear
        ref.classifier = nn.Sequential(nn.Dropout(), nn.Linear(in_features, width), nn.ReLU(),
                                       nn.Dropout(), nn.Linear(width, width), nn.ReLU(),
                                       nn.Linear(width, classes))
    else:  # VGG: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear
        ref.classifier = nn.Sequential(nn.Linear(in_features, width), nn.ReLU(), nn.Dropout(),
                                       nn.Linear(width, width), nn.ReLU(), nn.Dropout(),
                                       nn.Linear(width, classes))
    return ref


def _vgg(cfg, batch_norm):
    features = tv.models.vgg.make_layers(cfg, batch_norm=batch_norm)
    return _narrow(tv.models.vgg.VGG(features, init_weights=False), cfg[-2] * 49, False)


def _alexnet():
    return _narrow(tv.models.AlexNet(), 256 * 36, True)


SMALL_VGG = dict(filters=(8, 16, 24, 32, 32), head_units=(64, 64), num_classes=10)
# family -> (zoo name, zoo arguments, reference builder, source)
CASES = {
    "resnet18": ("resnet18", {}, lambda: references.torchvision_model("resnet18"),
                 "torchvision"),
    "resnet50": ("resnet50", dict(depths=(1, 2, 1, 1)),
                 lambda: tv.models.resnet.ResNet(tv.models.resnet.Bottleneck, [1, 2, 1, 1]),
                 "torchvision"),
    "densenet121": ("densenet121", dict(depths=(2, 2, 2, 2)),
                    lambda: tv.models.DenseNet(32, (2, 2, 2, 2), 64), "torchvision"),
    "googlenet": ("googlenet", {}, lambda: references.torchvision_model(
        "googlenet", transform_input=True), "torchvision"),
    "vgg11_bn": ("vgg11_bn", SMALL_VGG,
                 lambda: _vgg([8, "M", 16, "M", 24, 24, "M", 32, 32, "M", 32, 32, "M"], True),
                 "torchvision"),
    "vgg16": ("vgg16", SMALL_VGG, lambda: _vgg(
        [8, 8, "M", 16, 16, "M", 24, 24, 24, "M", 32, 32, 32, "M", 32, 32, 32, "M"], False),
        "torchvision"),
    "alexnet": ("alexnet", dict(head_units=(64, 64), num_classes=10), _alexnet, "torchvision"),
    "timm_resnet50": ("resnet50", dict(depths=(1, 1, 1, 1)), lambda: references.import_timm()
                      .models.resnet.ResNet(block=references.import_timm().models.resnet
                                            .Bottleneck, layers=[1, 1, 1, 1]), "timm"),
}
FAMILY = {"resnet18": "resnet", "resnet50": "resnet", "timm_resnet50": "resnet",
          "densenet121": "densenet", "googlenet": "googlenet", "vgg11_bn": "vgg", "vgg16": "vgg",
          "alexnet": "alexnet"}
# the GoogLeNet reference applies torchvision's transform_input, as with its ImageNet weights;
# the zoo model gets the entry's equivalent preprocessing (mean = std = 0.5) on raw pixels
IMAGENET_MEAN, IMAGENET_STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
GOOGLENET_PREPROCESSING = {"resize": None, "crop": [SIZE, SIZE], "interpolation": "bilinear",
                           "mean": [0.5] * 3, "std": [0.5] * 3}


def _serialize(state, source):
    if source == "timm":
        from safetensors.torch import save

        return save({k: v.contiguous() for k, v in state.items()}), ".safetensors"
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue(), ".pth"


def make_spec(name, zoo_args, url, data, source, hash_kind=None):
    """A temporary entry for a served file (torchvision: the sha256 prefix in its name)."""
    digest = hashlib.sha256(data).hexdigest()
    hash_kind = hash_kind or ("sha256-prefix" if source == "torchvision" else "sha256")
    # the arguments that differ from the registered defaults are config enough
    config = dict(input_shape=(SIZE, SIZE, 3), **zoo_args)
    return zw.WeightsSpec(
        name=f"{name}.test_{source}", model=name, model_config=config, url=url,
        sha256=digest[:8] if hash_kind == "sha256-prefix" else digest, size=None,
        dataset="random", metrics={}, evaluation_command="", params=1,
        input_shape=(SIZE, SIZE, 3), preprocessing="none", training_command="none",
        license="test", source_format=source, hash_kind=hash_kind)


class Served:
    """Every case's reference, its file on a loopback server, its spec and expected outputs."""

    def __init__(self, home):
        self.server = LoopbackServer()
        self.home = home
        rng = np.random.default_rng(0)
        self.pixels = rng.uniform(0, 255, size=(2, SIZE, SIZE, 3)).astype("float32")
        self.images = ((self.pixels / 255 - IMAGENET_MEAN) / IMAGENET_STD).astype("float32")
        self.cases = {}
        for case, (name, zoo_args, build, source) in CASES.items():
            ref = references.randomize(build().eval(), seed=len(self.cases))
            state = ref.state_dict()
            data, suffix = _serialize(state, source)
            path = f"/models/{name}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
            self.server.files[path] = data
            spec = make_spec(name, zoo_args, self.server.url + path, data, source)
            logits, stages = references.logits_and_stages(ref, FAMILY[case], self.images)
            self.cases[case] = {"spec": spec, "path": path, "data": data, "logits": logits,
                                "stages": stages}

    def inputs(self, case):
        return self.pixels if case == "googlenet" else self.images

    def create(self, case, **kwargs):
        spec = self.cases[case]["spec"]
        if case == "googlenet":
            kwargs.setdefault("preprocessing", GOOGLENET_PREPROCESSING)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # a faithful port loads without one
            return zoo.create(spec.model, weights=spec, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("zoo-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_HOME", str(home))
        mp.setenv("TORCH_HOME", str(home / "torch"))
        s = Served(home)
        yield s
        s.server.close()


def infer(model, x):
    """Inference outputs: traced on JAX (its eager ops compile one by one), eager on
    TensorFlow (tracing a 60-layer graph costs more than running it once)."""
    if keras.backend.backend() == "jax":
        return model.predict(x, verbose=0)
    return model(x, training=False)


def assert_close(got, want, what):
    got = keras.ops.convert_to_numpy(got)
    scale = np.abs(want).max()
    diff = np.abs(got - want).max()
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert diff <= RTOL * scale, f"{what}: max |diff| {diff:.3g} > {RTOL} x {scale:.3g}"


@pytest.mark.jax
@pytest.mark.parametrize("case", list(CASES))
def test_ported_logits_and_stages_equal_the_reference(served, case):
    first = served.create(case)
    assert_close(infer(first, served.inputs(case)), served.cases[case]["logits"],
                 f"{case} logits")
    # the second model comes from the cached conversion, without the network
    before = len(served.server.requests)
    stages = served.create(case, features_only=True)
    assert len(served.server.requests) == before
    outputs = infer(stages, served.inputs(case))
    assert len(outputs) == len(served.cases[case]["stages"])
    for i, (got, want) in enumerate(zip(outputs, served.cases[case]["stages"])):
        assert_close(got, want, f"{case} stage {i + 1}")


def test_first_load_downloads_once_then_offline_and_caches_by_own_hash(served):
    case = served.cases["resnet18"]
    served.create("resnet18")
    assert served.server.requests.count(case["path"]) == 1
    record = ported._read_record(case["spec"])
    converted = zw.store.weights_cache_dir() / record["file"]
    assert converted.name == f"{case['spec'].name}-{record['sha256'][:12]}.weights.h5"
    assert zw.sha256_of(converted) == record["sha256"]
    assert (ported.originals_dir() / case["spec"].source_filename).read_bytes() == case["data"]
    served.server.files.pop(case["path"])  # offline from now on
    try:
        model = served.create("resnet18")
    finally:
        served.server.files[case["path"]] = case["data"]
    assert_close(model(served.images), case["logits"], "cached resnet18")
    assert served.server.requests.count(case["path"]) == 1


def _backbone_values(model):
    return {v.path.split("/", 1)[1]: keras.ops.convert_to_numpy(v) for v in model.weights}


def test_transfer_arguments_keep_every_backbone_weight_without_warnings(served):
    full = _backbone_values(served.create("resnet50"))
    for kwargs in (dict(include_top=False, pooling="avg"), dict(features_only=True),
                   dict(num_classes=3)):
        model = served.create("resnet50", **kwargs)  # no warning (checked in create)
        mine = _backbone_values(model)
        head = {k for k in mine if k.startswith("logits/")}
        assert set(mine) - head <= set(full)
        for key in set(mine) - head:
            np.testing.assert_array_equal(mine[key], full[key], err_msg=f"{kwargs}: {key}")
        assert len(set(mine) - head) == len([k for k in full if not k.startswith("logits/")])
    new_head = served.create("resnet50", num_classes=3)
    assert tuple(new_head.get_layer("logits").kernel.shape) == (2048, 3)
    assert new_head(served.images).shape == (2, 3)


def test_every_imagenet_entry_converts_its_full_key_set():
    """All 18 names (and the timm entries): no missing, no unused tensor; shapes only."""
    entries = zoo.list_weights("*.imagenet")
    assert sorted(w.model for w in zoo.list_weights("*.imagenet")) == sorted(
        ["alexnet", "googlenet"] + [f"vgg{d}{b}" for d in (11, 13, 16, 19) for b in ("", "_bn")]
        + [f"resnet{d}" for d in (18, 34, 50, 101, 152)]
        + [f"densenet{d}" for d in (121, 169, 201)])
    for spec in entries:
        kwargs = {"aux_logits": True} if spec.model == "googlenet" else {}
        ref = references.torchvision_model(spec.model, device="meta", **kwargs)
        shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
        config = {k: v for k, v in spec.model_config.items() if k != "name"}
        model = compat.build_shapes_only(lambda: zoo.create(spec.model, **config))
        convert.check(convert.plan(model), shapes, model, spec.name)
        # every tensor but the counters has its variable (GoogLeNet: but the auxiliary heads)
        used = {a.key for a in convert.plan(model)}
        left = {k for k in shapes if k not in used and not k.endswith("num_batches_tracked")}
        assert all(k.startswith(("aux1.", "aux2.")) for k in left), (spec.name, sorted(left)[:5])
        keras.backend.clear_session(free_memory=False)  # the next model reuses the layer names
    # timm's files name every tensor as torchvision's, so the same plans take them
    for spec in [w for w in zoo.list_weights("*") if w.source_format == "timm"]:
        timm_keys = references.timm_model(spec.source.split()[2], device="meta").state_dict()
        tv_keys = references.torchvision_model(spec.model, device="meta").state_dict()
        assert {k: tuple(v.shape) for k, v in timm_keys.items()} == {
            k: tuple(v.shape) for k, v in tv_keys.items()}, spec.name


def test_googlenet_with_auxiliary_heads_uses_every_tensor():
    ref = references.torchvision_model("googlenet", device="meta", aux_logits=True)
    shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    model = compat.build_shapes_only(lambda: zoo.create("googlenet", aux_logits=True))
    used = {a.key for a in convert.plan(model)}
    assert {k for k in shapes if not k.endswith("num_batches_tracked")} == used
    keras.backend.clear_session(free_memory=False)


def test_every_imagenet_entry_is_complete():
    for spec in [w for w in zoo.list_weights("*") if w.source_format != "keras"]:
        assert spec.url.startswith("https://") and spec.sha256 and spec.license
        assert spec.hash_kind == ("sha256-prefix" if spec.source_format == "torchvision"
                                  else "sha256")
        if spec.hash_kind == "sha256-prefix":
            assert f"-{spec.sha256}." in spec.url  # the prefix torch.hub checks
        assert set(spec.published_metrics) == {"top1", "top5"}
        assert "not re-measured here" in spec.published_by
        assert set(spec.transform) == {"resize", "crop", "interpolation", "mean", "std"}
        assert spec.class_names == "imagenet1k" and spec.source and spec.dataset_license
        assert tuple(spec.input_shape) == (spec.transform["crop"],) * 2 + (3,)
    assert len(classes.class_names("imagenet1k")) == 1000


def test_legacy_densenet_names_are_renamed():
    # torchvision's published DenseNet files name `denselayer1.norm.1`; its loader renames them
    assert convert.normalize_key("features.denseblock1.denselayer1.norm.1.weight") == \
        "features.denseblock1.denselayer1.norm1.weight"
    assert convert.normalize_key("features.denseblock1.denselayer1.conv.2.weight") == \
        "features.denseblock1.denselayer1.conv2.weight"
    assert convert.normalize_key("features.transition1.norm.weight") == \
        "features.transition1.norm.weight"


# ---------------------------------------------------------------- bad input


def test_unknown_tag_suggests_close_ones():
    with pytest.raises(ValueError, match=r"Did you mean 'imagenet'.*weights='imagenett'"):
        zoo.create("resnet50", weights="imagenett")


def _renamed(spec, name, **changes):
    return zw.WeightsSpec(**{**spec.to_json(), "name": name, **changes})


def _serve_as(served, case, stem):
    """The case's file served under another torch.hub-style name `<stem>-<prefix>.pth`."""
    data = served.cases[case]["data"]
    path = f"/other/{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    served.server.files[path] = data
    return served.server.url + path, data


def test_file_of_another_architecture_names_the_first_mismatched_layer(served):
    r18 = served.cases["resnet18"]
    wrong = _renamed(make_spec("resnet50", dict(depths=(1, 2, 1, 1)),
                               served.server.url + r18["path"], r18["data"], "torchvision"),
                     "resnet50.test_wrong")
    with pytest.raises(convert.ConversionError,
                       match=r"layer 'stage1_block0_conv1'.*\(64, 64, 3, 3\).*\(64, 64, 1, 1\)"):
        zoo.create("resnet50", weights=wrong)
    assert not any(zw.store.weights_cache_dir().glob("resnet50.test_wrong*"))


def test_truncated_download_is_deleted_never_cached(served):
    url, data = _serve_as(served, "alexnet", "alexnet_cut")
    spec = _renamed(make_spec("alexnet", dict(head_units=(64, 64), num_classes=10), url, data,
                              "torchvision"), "alexnet.test_cut")
    served.server.truncate.add(url[len(served.server.url):])
    with pytest.raises(zw.WeightsIntegrityError, match="Incomplete download"):
        zoo.create("alexnet", weights=spec)
    assert not (ported.originals_dir() / spec.source_filename).exists()
    assert not list(ported.originals_dir().glob(".*.part"))
    assert not any(zw.store.weights_cache_dir().glob("alexnet.test_cut*"))


def test_torchvision_file_whose_hash_prefix_does_not_match(served):
    case = served.cases["alexnet"]
    spec = make_spec("alexnet", dict(head_units=(64, 64), num_classes=10),
                     served.server.url + "/bad/alexnet-00000000.pth", case["data"], "torchvision")
    spec = _renamed(spec, "alexnet.test_bad", sha256="00000000")
    served.server.files["/bad/alexnet-00000000.pth"] = case["data"]
    with pytest.raises(zw.WeightsIntegrityError, match="expected one starting with 00000000"):
        zoo.create("alexnet", weights=spec)
    assert not (ported.originals_dir() / "alexnet-00000000.pth").exists()
    # the same rule for a local file passed to the converter: its name states the prefix
    local = served.home / "alexnet-00000000.pth"
    local.write_bytes(case["data"])
    with pytest.raises(ValueError, match=r"alexnet-00000000.pth.*prefix '00000000'"):
        convert.check_hash_in_name(local)


def test_corrupt_local_files_are_named(tmp_path):
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not an HDF5 file" * 10)
    with pytest.raises(ValueError, match=r"Cannot read weights from .*bad\.weights\.h5"):
        zoo.create("mlp", weights=str(bad))
    pth = tmp_path / "bad.pth"
    pth.write_bytes(b"\x80\x02garbage")
    with pytest.raises(ValueError, match=r"Cannot read .*bad\.pth as a torchvision checkpoint"):
        convert.read_checkpoint(pth, "torchvision")
    st = tmp_path / "bad.safetensors"
    st.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(ValueError, match=r"Cannot read .*bad\.safetensors as a timm checkpoint"):
        convert.read_checkpoint(st, "timm")


def test_offline_not_cached_names_url_and_folder_then_a_dropped_file_works(served):
    case = served.cases["vgg16"]
    url, data = _serve_as(served, "vgg16", "vgg16_offline")
    unreachable = url.replace(served.server.url, "http://127.0.0.1:9")  # the discard port
    spec = _renamed(make_spec("vgg16", SMALL_VGG, unreachable, data, "torchvision"),
                    "vgg16.test_offline")
    with pytest.raises(zw.WeightsNotFoundError) as info:
        zoo.create("vgg16", weights=spec)
    message = str(info.value)
    assert spec.url in message and str(ported.originals_dir()) in message
    assert spec.source_filename in message
    (ported.originals_dir() / spec.source_filename).write_bytes(case["data"])
    model = zoo.create("vgg16", weights=spec)
    assert_close(model(served.images), case["logits"], "vgg16 from a dropped file")

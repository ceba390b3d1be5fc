"""Ported torchvision/timm weights through zoo.create: download, cache, offline, bad files.

A few torchvision references with random weights and random BatchNorm statistics
are saved in their source's real format, served from a loopback HTTP server
under a hash-named file and loaded through `zoo.create(name, weights=spec)`
(download, verification, conversion, cache). Each family's own parity test
(logits and every stage against its reference) is beside its code
(`zoo/models/<family>/test_<family>.py`, with tests/ported_checks.py);
`test_every_imagenet_entry_converts_its_full_key_set` checks every published
entry's full key set on torch's meta device, without allocating weights.
"""

import hashlib
import warnings

import keras
import numpy as np
import pytest

import zoo
from loopback import LoopbackServer
from ported_checks import assert_close, imagenet_images, make_spec, serialize
from zoo import compat
from zoo import weights as zw
from zoo import registry
from zoo.jobs import imagenet_entries, references
from zoo.weights import classes, convert, ported

import torch  # noqa: E402  (installed by `make install`; a skip would hide the check)
tv = references.import_torchvision()


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


def _vgg16():
    cfg = [8, 8, "M", 16, 16, "M", 24, 24, 24, "M", 32, 32, 32, "M", 32, 32, 32, "M"]
    features = tv.models.vgg.make_layers(cfg, batch_norm=False)
    return _narrow(tv.models.vgg.VGG(features, init_weights=False), cfg[-2] * 49, False)


def _alexnet():
    return _narrow(tv.models.AlexNet(), 256 * 36, True)


SMALL_VGG = dict(filters=(8, 16, 24, 32, 32), head_units=(64, 64), num_classes=10)
# case -> (zoo name, zoo arguments, reference builder, source)
CASES = {
    "resnet18": ("resnet18", {}, lambda: references.torchvision_model("resnet18"),
                 "torchvision"),
    "resnet50": ("resnet50", dict(depths=(1, 2, 1, 1)),
                 lambda: tv.models.resnet.ResNet(tv.models.resnet.Bottleneck, [1, 2, 1, 1]),
                 "torchvision"),
    "vgg16": ("vgg16", SMALL_VGG, _vgg16, "torchvision"),
    "alexnet": ("alexnet", dict(head_units=(64, 64), num_classes=10), _alexnet, "torchvision"),
}


class Served:
    """Every case's reference, its file on a loopback server, its spec and expected outputs."""

    def __init__(self, home):
        self.server = LoopbackServer()
        self.home = home
        self.pixels, self.images = imagenet_images()
        self.cases = {}
        for case, (name, zoo_args, build, source) in CASES.items():
            ref = references.randomize(build().eval(), seed=len(self.cases))
            state = ref.state_dict()
            data, suffix = serialize(state, source)
            path = f"/models/{name}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
            self.server.files[path] = data
            spec = make_spec(name, zoo_args, self.server.url + path, data, source)
            logits, stages = references.logits_and_stages(ref, name, self.images)
            self.cases[case] = {"spec": spec, "path": path, "data": data, "logits": logits,
                                "stages": stages}

    def create(self, case, **kwargs):
        spec = self.cases[case]["spec"]
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
    return {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}


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
    """Every `.imagenet` entry (one per name a family lists in its TORCHVISION_WEIGHTS) and
    every timm entry: no missing, no unused tensor; shapes only (torch's meta device)."""
    entries = zoo.list_weights("*.imagenet")
    assert sorted(w.model for w in entries) == sorted(imagenet_entries.torchvision_names())
    assert {"alexnet", "googlenet", "vgg16_bn", "resnet50", "densenet121"} <= {
        w.model for w in entries}
    for spec in [*entries, *[w for w in zoo.list_weights("*") if w.source_format == "timm"]]:
        source = spec.source_format
        declared = registry.family(spec.model).declaration("convert")
        if source == "timm":
            ref = references.timm_model(spec.source.split()[2], device="meta")
        else:  # the published files hold the auxiliary heads the zoo builds only when asked
            aux = {"aux_logits": True} if "aux_logits" in getattr(
                declared, "TORCHVISION_ARGUMENTS", {}) else {}
            ref = references.torchvision_model(spec.model, device="meta", **aux)
        shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
        config = {k: v for k, v in spec.model_config.items() if k != "name"}
        model = compat.build_shapes_only(lambda: zoo.create(spec.model, **config))
        assignments = convert.plan(model, source)
        convert.check(assignments, shapes, model, spec.name, source)
        # every tensor but the counters has its variable, but the heads the model leaves out
        used = {a.key for a in assignments}
        left = {k for k in shapes if convert.normalize_key(k, model) not in used
                and not k.endswith("num_batches_tracked")}
        heads = declared.RULES[source]
        assert all(heads.is_head(k) for k in left), (spec.name, sorted(left)[:5])
        keras.backend.clear_session(free_memory=False)  # the next model reuses the layer names


def test_every_imagenet_entry_is_complete():
    backbones = set(imagenet_entries.timm_backbone_weights())
    assert {"vit_small_patch14_dinov2.lvd142m", "vit_large_patch14_dinov2.lvd142m",
            "vit_small_patch14_reg4_dinov2.lvd142m"} <= backbones
    for spec in [w for w in zoo.list_weights("*") if w.source_format != "keras"]:
        assert spec.url.startswith("https://") and spec.sha256 and spec.license
        # torch.hub files state their sha256 prefix in their names (torchvision's, the
        # authors' files timm's configs name, DeiT's, and timm's GitHub releases); a Hugging
        # Face file is pinned by its full sha256
        # (or the authors' own file, DINOv2's, pinned by its full sha256 and size)
        assert spec.hash_kind == "sha256" or "huggingface.co" not in spec.url, spec.name
        if spec.hash_kind == "sha256-prefix":
            assert f"-{spec.sha256}." in spec.url  # the prefix torch.hub checks
        elif "huggingface.co" not in spec.url:
            assert spec.size, spec.name
        assert "not re-measured here" in spec.published_by
        assert set(spec.transform) == {"resize", "crop", "interpolation", "mean", "std"}
        assert spec.source and spec.dataset_license
        if spec.name in backbones:  # a feature backbone: its frozen features' metrics
            assert spec.size and spec.published_metrics and spec.class_names == ""
        else:
            assert set(spec.published_metrics) == {"top1", "top5"}
            assert spec.class_names == "imagenet1k"
        assert tuple(spec.input_shape) == (spec.transform["crop"],) * 2 + (3,)
    assert len(classes.class_names("imagenet1k")) == 1000


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

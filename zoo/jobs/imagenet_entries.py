"""`scripts/make_imagenet_entries.py`: writes the ImageNet weights entries from their sources.

torchvision entries (tag `imagenet`, one per ImageNet-layout name) come from
torchvision's weights enums, as installed: the `DEFAULT` weights of each
architecture (torchvision's best published recipe), their url, the sha256
prefix in the file name, the published ImageNet-1k accuracy, the recipe, the
evaluation transform and the class names. timm entries (`TIMM` below) take
url, transform and licence from timm's installed pretrained configs; their
full sha256 and accuracy are not in the package: they are copied here from
the public pages cited beside each one.

Writes `zoo/weights/<model>.<tag>.json` and `zoo/weights/classes/imagenet1k.json`.
"""

import json
import re
import sys
from pathlib import Path

from zoo.utils.cli import ArgumentParser
from zoo.utils.files import write_bytes_atomic

TORCHVISION_NAMES = (
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "densenet121", "densenet169", "densenet201",
)

_TIMM_RESULTS = ("https://github.com/huggingface/pytorch-image-models/blob/"
                 "0173a139a2c66db3a41ebfe1d8ac4fb02483642e/results/results-imagenet.csv")
#: timm checkpoints better than torchvision's for the same architecture, whose full sha256 is
#: public: {timm name: (Hugging Face revision, sha256 of model.safetensors, top1, top5)}.
#: sha256: the "Git LFS Details" of the file's page at that revision,
#: https://huggingface.co/timm/<name>/blob/<revision>/model.safetensors;
#: top1/top5: timm's results-imagenet.csv (_TIMM_RESULTS), at the test size of the config.
TIMM = {
    "resnet18.a1_in1k": ("ebd61f9c7420e5b5b53262b8ce6bbe311e1e872a",
                         "80c49dee3da4822c009c5a7fe591e9223c5a2cfcf95a4067ca4dfb5a7b89c612",
                         73.158, 91.026),
    "resnet50.a1_in1k": ("5d9e13b8fdab4d9718bcf2c8f5c3af01878367e8",
                         "773525d5821de224f8f30c33377b7a795d7863e08522698200d3217d3f2a41bb",
                         81.214, 95.102),
    "resnet101.a1h_in1k": ("21721ac354aff8c4fbc371f3c4e46fa8832d4d68",
                           "1a076c0384295e7d3704f201c5711ff245507db934230bab72ff3014a95f90fe",
                           82.778, 96.310),
}

TORCHVISION_LICENSE = (
    "BSD-3-Clause (torchvision, which publishes the file); torchvision notes that pretrained "
    "weights may carry terms of their training data: ImageNet-1k's terms of access allow "
    "non-commercial research and educational use"
)
IMAGENET_LICENSE = "ImageNet terms of access (non-commercial research and educational use)"
CLASSES_SOURCE = ("torchvision {version}: torchvision.models._meta._IMAGENET_CATEGORIES, the "
                  "`categories` of every ImageNet-1k weights enum (logit order of torchvision "
                  "and timm)")


def _zoo_model(name, **kwargs):
    from zoo import compat, registry

    return compat.build_shapes_only(lambda: registry.create(name, **kwargs))


def _transform_text(t, extra=""):
    return (f"RGB pixels in [0, 255] (uint8 or float), any size: shorter side resized to "
            f"{t['resize']} ({t['interpolation']}, antialiased), center crop {t['crop']}x"
            f"{t['crop']}, x / 255, normalized with mean {t['mean']} and std {t['std']}. A model "
            f"created with these weights does this itself (zoo.models.preprocessing."
            f"ImagePreprocessing); preprocessing=None leaves it out.{extra}")


def torchvision_entry(name, tv):
    import keras

    weights = tv.models.get_model_weights(name).DEFAULT
    meta = weights.meta
    t = weights.transforms()
    transform = {"resize": int(t.resize_size[0]), "crop": int(t.crop_size[0]),
                 "interpolation": t.interpolation.value, "mean": list(t.mean), "std": list(t.std)}
    extra = ""
    if name == "googlenet":
        # torchvision builds googlenet with transform_input=True for these weights: it maps
        # ImageNet-normalized inputs to (x - 0.5) / 0.5, which the zoo's preprocessing does directly
        transform.update(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
        extra = (" (torchvision's googlenet applies transform_input=True with these weights: "
                 "the same as mean = std = 0.5.)")
    model = _zoo_model(name)
    config = model.get_config()
    url = weights.url
    prefix = re.search(r"-([a-f0-9]+)\.", url.rsplit("/", 1)[-1]).group(1)
    metrics = meta["_metrics"]["ImageNet-1K"]
    entry = {
        "name": f"{name}.imagenet", "model": name, "model_config": config, "url": url,
        "sha256": prefix, "size": None, "dataset": "imagenet-1k", "metrics": {},
        "evaluation_command": "", "params": int(model.count_params()),
        "input_shape": [transform["crop"], transform["crop"], 3],
        "preprocessing": _transform_text(transform, extra),
        "training_command": f"torchvision's recipe: {meta['recipe']}",
        "license": TORCHVISION_LICENSE, "dataset_license": IMAGENET_LICENSE,
        "trained_with": {"source_trainable_params": meta["num_params"],
                         "source_gflops": meta.get("_ops")},
        "source_format": "torchvision", "hash_kind": "sha256-prefix",
        "source": f"torchvision {tv.__version__} {type(weights).__name__}.{weights.name}",
        "published_metrics": {"top1": metrics["acc@1"], "top5": metrics["acc@5"]},
        "published_by": "torchvision (ImageNet-1k validation set); published by torchvision, "
                        "not re-measured here",
        "transform": transform, "class_names": "imagenet1k",
    }
    keras.backend.clear_session()  # the next model reuses the layer names
    return entry


def timm_entry(full_name, timm):
    import keras

    revision, sha256, top1, top5 = TIMM[full_name]
    arch, tag = full_name.split(".", 1)
    cfg = timm.models.get_pretrained_cfg(full_name).to_dict()
    size = int((cfg.get("test_input_size") or cfg["input_size"])[-1])
    crop_pct = cfg.get("test_crop_pct") or cfg["crop_pct"]
    transform = {"resize": int(size / crop_pct), "crop": size,
                 "interpolation": cfg["interpolation"], "mean": list(cfg["mean"]),
                 "std": list(cfg["std"])}
    model = _zoo_model(arch, input_shape=(size, size, 3))
    entry = {
        "name": full_name, "model": arch, "model_config": model.get_config(),
        "url": f"https://huggingface.co/{cfg['hf_hub_id']}/resolve/{revision}/model.safetensors",
        "sha256": sha256, "size": None, "dataset": "imagenet-1k", "metrics": {},
        "evaluation_command": "", "params": int(model.count_params()),
        "input_shape": [size, size, 3], "preprocessing": _transform_text(transform),
        "training_command": f"timm's recipe {tag} (ResNet strikes back, arXiv:2110.00476), "
                            f"see https://huggingface.co/{cfg['hf_hub_id']}",
        "license": f"{cfg['license']} (timm's model card)", "dataset_license": IMAGENET_LICENSE,
        "trained_with": {"train_input_size": list(cfg["input_size"][1:])},
        "source_format": "timm", "hash_kind": "sha256",
        "source": f"timm {timm.__version__} {full_name} (Hugging Face {cfg['hf_hub_id']} "
                  f"at {revision})",
        "published_metrics": {"top1": top1, "top5": top5},
        "published_by": f"timm (ImageNet-1k validation set at {size}x{size}, {_TIMM_RESULTS}); "
                        "published by timm, not re-measured here",
        "transform": transform, "class_names": "imagenet1k",
    }
    keras.backend.clear_session()
    return entry


def build_parser():
    p = ArgumentParser(prog="make_imagenet_entries.py", description=__doc__.split("\n")[0])
    p.add_argument("--output", default=None,
                   help="folder for the entries (default: the package's zoo/weights)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    from zoo.jobs.references import import_timm, import_torchvision
    from zoo.weights import WeightsSpec

    tv, timm = import_torchvision(), import_timm()
    out = Path(args.output) if args.output else Path(__file__).resolve().parents[1] / "weights"
    entries = [torchvision_entry(n, tv) for n in TORCHVISION_NAMES]
    entries += [timm_entry(n, timm) for n in TIMM]
    for entry in entries:
        WeightsSpec.from_json(entry)  # a complete, valid entry, or an error here
        write_bytes_atomic(out / f"{entry['name']}.json",
                           (json.dumps(entry, indent=2) + "\n").encode("utf-8"))
        print(f"wrote {out / (entry['name'] + '.json')}")
    names = list(tv.models.get_model_weights("resnet50").DEFAULT.meta["categories"])
    classes = {"source": CLASSES_SOURCE.format(version=tv.__version__), "names": names}
    (out / "classes").mkdir(exist_ok=True)
    write_bytes_atomic(out / "classes" / "imagenet1k.json",
                       (json.dumps(classes, indent=1) + "\n").encode("utf-8"))
    print(f"wrote {out / 'classes' / 'imagenet1k.json'} ({len(names)} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

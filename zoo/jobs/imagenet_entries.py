"""`scripts/make_imagenet_entries.py`: writes the ImageNet weights entries from their sources.

torchvision entries (tag `imagenet`, one per name a family lists in its
`TORCHVISION_WEIGHTS`) come from torchvision's weights enums, as installed: the
`DEFAULT` weights of each architecture (torchvision's best published recipe),
their url, the sha256 prefix in the file name, the published ImageNet-1k
accuracy, the recipe, the evaluation transform and the class names. timm entries
(a family's `TIMM_WEIGHTS`) take url, transform and licence from timm's
installed pretrained configs; their full sha256 and accuracy are not in the
package: the family copies them from the public pages it cites beside each one.
A family's `TIMM_ORIGINAL_WEIGHTS` are timm configs whose file is the authors'
original torch.hub checkpoint (timm's `url`, e.g. DeiT's), which states its sha256
prefix in its name as torchvision's files do: checked the same way. Its
`TIMM_BACKBONE_WEIGHTS` are feature backbones without a classifier (DINOv2's), on the
Hugging Face hub: pinned by revision, sha256 and size, with the metrics their authors
publish for the frozen features, their dataset and its terms, and no class names; a row
without a revision is the authors' own file (timm's `url`), pinned by full sha256 and size.
The declarations are in each family's `zoo/models/<family>/<family>_convert.py`;
`entry_arguments(name)` there gives the zoo arguments of the model a published file
fits (another size than the variant's, e.g. ViT-H/14's 518x518 weights).
A row without a revision and sha256 takes the GitHub release file timm's config
names (`url`), whose name states its sha256 prefix as torchvision's do. A timm
architecture the zoo names otherwise, or builds with other arguments, is declared
in the family's `TIMM_MODELS` (the entry is then `<zoo name>.<timm tag>`).

Writes `zoo/models/<family>/weights/<model>.<tag>.json` and
`zoo/weights/classes/imagenet1k.json`.
"""

import fnmatch
import json
import re
import sys
from pathlib import Path

from zoo.utils.command_line import ArgumentParser
from zoo.utils.files import write_bytes_atomic

_TIMM_RESULTS = ("https://github.com/huggingface/pytorch-image-models/blob/"
                 "0173a139a2c66db3a41ebfe1d8ac4fb02483642e/results/results-imagenet.csv")


def _declarations():
    """[(family, its `<family>_convert` module)] of every family that converts weights."""
    from zoo import registry

    out = []
    for family in registry.families().values():
        declared = family.declaration("convert")
        if declared is not None:
            out.append((family, declared))
    return out


def torchvision_names():
    """The zoo names whose torchvision DEFAULT weights are published (`<name>.imagenet`)."""
    return [n for _, d in _declarations() for n in getattr(d, "TORCHVISION_WEIGHTS", ())]


def timm_weights():
    """{timm name: (revision, sha256, top1, top5, recipe note, options)} over the families.

    A row's optional fifth item, `options`, is a dict: `file` (the hub file, default
    "model.safetensors"), `test_size` (False: the entry is at the training size and crop,
    where the published accuracy was measured) and `published_by` (where top1/top5 are
    published when timm's results-imagenet.csv has no row).
    """
    return {name: (*row[:4], getattr(d, "TIMM_RECIPE", ""), dict(row[4] if len(row) > 4 else {}))
            for _, d in _declarations()
            for name, row in getattr(d, "TIMM_WEIGHTS", {}).items()}


def timm_original_weights():
    """{timm name: (top1, top5, who published them)} of the timm configs whose file is the
    authors' torch.hub checkpoint, over the families."""
    return {name: row for _, d in _declarations()
            for name, row in getattr(d, "TIMM_ORIGINAL_WEIGHTS", {}).items()}


def timm_backbone_weights():
    """{timm name: (revision, sha256, size, published metrics, who published them, dataset,
    its licence)} of the feature backbones (no classifier) on the Hugging Face hub."""
    return {name: row for _, d in _declarations()
            for name, row in getattr(d, "TIMM_BACKBONE_WEIGHTS", {}).items()}


def _entry_arguments(name):
    """The zoo arguments of the model `name`'s published file fits (the family's
    `entry_arguments(name)`, else none)."""
    from zoo import registry

    declared = registry.family(name).declaration("convert")
    return dict(getattr(declared, "entry_arguments", lambda n: {})(name))


def timm_models():
    """{timm architecture: (zoo name, zoo arguments)} where a family declares them
    (`TIMM_MODELS`: timm's `mobilenetv3_large_100` is the zoo's `mobilenet_v3_large` with
    torch's default BatchNorm); any other timm architecture is the zoo name it spells."""
    return {arch: row for _, d in _declarations()
            for arch, row in getattr(d, "TIMM_MODELS", {}).items()}


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


#: the order of an entry's fields in its file
ENTRY_FIELDS = (
    "name", "model", "model_config", "url", "sha256", "size", "dataset", "metrics",
    "evaluation_command", "params", "input_shape", "preprocessing", "training_command",
    "license", "dataset_license", "trained_with", "source_format", "hash_kind", "source",
    "published_metrics", "published_by", "transform", "class_names")


def _entry(zoo_model, transform, note="", **fields):
    """A ported entry: the fields every source shares (the zoo model's config and parameter
    count, the input shape and preprocessing of `transform`, no metrics measured here)
    around the source's own `fields`, in the file's order."""
    import keras

    fields.update(
        model_config=zoo_model.get_config(), params=int(zoo_model.count_params()), metrics={},
        evaluation_command="", input_shape=[transform["crop"], transform["crop"], 3],
        preprocessing=_transform_text(transform, note), transform=transform)
    fields.setdefault("dataset", "imagenet-1k")
    fields.setdefault("size", None)
    entry = {key: fields.pop(key) for key in ENTRY_FIELDS}
    assert not fields, f"a builder passed unknown entry fields {sorted(fields)}"
    keras.backend.clear_session()  # the next model reuses the layer names
    return entry


def torchvision_entry(name, tv):
    weights = tv.models.get_model_weights(name).DEFAULT
    meta = weights.meta
    t = weights.transforms()
    transform = {"resize": int(t.resize_size[0]), "crop": int(t.crop_size[0]),
                 "interpolation": t.interpolation.value, "mean": list(t.mean), "std": list(t.std)}
    from zoo import registry

    # a family may state that its weights expect other inputs than the transform says
    declared = registry.family(name).declaration("convert")
    transform.update(getattr(declared, "IMAGENET_TRANSFORM", {}))
    url = weights.url
    metrics = meta["_metrics"]["ImageNet-1K"]
    return _entry(
        _zoo_model(name, **_entry_arguments(name)), transform,
        getattr(declared, "IMAGENET_TRANSFORM_NOTE", ""),
        name=f"{name}.imagenet", model=name, url=url,
        sha256=_name_prefix(url),
        training_command=f"torchvision's recipe: {meta['recipe']}",
        license=TORCHVISION_LICENSE, dataset_license=IMAGENET_LICENSE,
        trained_with={"source_trainable_params": meta["num_params"],
                      "source_gflops": meta.get("_ops")},
        source_format="torchvision", hash_kind="sha256-prefix",
        source=f"torchvision {tv.__version__} {type(weights).__name__}.{weights.name}",
        published_metrics={"top1": metrics["acc@1"], "top5": metrics["acc@5"]},
        published_by="torchvision (ImageNet-1k validation set); published by torchvision, "
                     "not re-measured here",
        class_names="imagenet1k")


def _timm_model(full_name, timm, test_size):
    """(arch, tag, timm's pretrained cfg, image size, transform, the zoo model) of a timm
    config; `test_size`: at timm's test input size and crop where it has them."""
    arch, tag = full_name.split(".", 1)
    cfg = timm.models.get_pretrained_cfg(full_name).to_dict()
    test = test_size and cfg.get("test_input_size")
    size = int((test or cfg["input_size"])[-1])
    crop_pct = (test_size and cfg.get("test_crop_pct")) or cfg["crop_pct"]
    transform = {"resize": int(size / crop_pct), "crop": size,
                 "interpolation": cfg["interpolation"], "mean": list(cfg["mean"]),
                 "std": list(cfg["std"])}
    name, arguments = timm_models().get(arch, (arch, {}))
    model = _zoo_model(name, **{"input_shape": (size, size, 3), **_entry_arguments(name),
                                **arguments})
    return arch, tag, cfg, size, transform, model


def _timm_fields(cfg, **fields):
    """The fields every timm entry shares (format, licence, training size) and `fields`."""
    fields.setdefault("license", f"{cfg['license']} (timm's model card)")
    fields.setdefault("dataset_license", IMAGENET_LICENSE)
    fields.setdefault("class_names", "imagenet1k")
    return dict(fields, source_format="timm",
                trained_with={"train_input_size": list(cfg["input_size"][1:])})


def _name_prefix(url):
    """The sha256 prefix a torch.hub file states in its name (`<name>-<prefix>.<ext>`)."""
    return re.search(r"-([a-f0-9]+)\.", url.rsplit("/", 1)[-1]).group(1)


def timm_entry(full_name, timm):
    revision, sha256, top1, top5, recipe, options = timm_weights()[full_name]
    arch, tag, cfg, size, transform, model = _timm_model(
        full_name, timm, test_size=options.get("test_size", True))
    name = timm_models().get(arch, (arch, {}))[0]
    if revision is None:  # the GitHub release file timm's config names: its name states the
        # sha256 prefix (torch.hub's rule), its Hugging Face copy has the same tensors
        url, where, sha256, hash_kind = (cfg["url"], "GitHub release", _name_prefix(cfg["url"]),
                                         "sha256-prefix")
    else:
        url = (f"https://huggingface.co/{cfg['hf_hub_id']}/resolve/{revision}/"
               f"{options.get('file', 'model.safetensors')}")
        where, hash_kind = f"Hugging Face {cfg['hf_hub_id']} at {revision}", "sha256"
    return _entry(model, transform, **_timm_fields(
        cfg, name=f"{name}.{tag}", model=name, url=url, sha256=sha256,
        training_command=f"timm's recipe {tag} ({recipe}), "
                         f"see https://huggingface.co/{cfg['hf_hub_id']}",
        hash_kind=hash_kind, source=f"timm {timm.__version__} {full_name} ({where})",
        published_metrics={"top1": top1, "top5": top5},
        published_by=(
            f"{options['published_by']} (ImageNet-1k validation set at {size}x{size}); "
            "not re-measured here" if "published_by" in options
            else f"timm (ImageNet-1k validation set at {size}x{size}, {_TIMM_RESULTS}); "
                 "published by timm, not re-measured here")))


def timm_original_entry(full_name, timm):
    """An entry for a timm config whose file is the authors' torch.hub checkpoint (timm's
    `url`, its sha256 prefix in its name), in timm's tensor names."""
    top1, top5, published_by = timm_original_weights()[full_name]
    arch, tag, cfg, size, transform, model = _timm_model(full_name, timm, test_size=False)
    return _entry(model, transform, **_timm_fields(
        cfg, name=full_name, model=arch, url=cfg["url"], sha256=_name_prefix(cfg["url"]),
        training_command=f"the authors' recipe ({tag}), see https://huggingface.co/"
                         f"{cfg['hf_hub_id']} and the paper",
        hash_kind="sha256-prefix",
        source=f"timm {timm.__version__} {full_name} (its url: the authors' torch.hub file)",
        published_metrics={"top1": top1, "top5": top5},
        published_by=f"{published_by} (ImageNet-1k validation set at {size}x{size}); "
                     "published by the authors, not re-measured here"))


def timm_backbone_entry(full_name, timm):
    """An entry for a feature backbone (no classifier, e.g. DINOv2's) whose file is on the
    Hugging Face hub, pinned by revision, full sha256 and size; its published metrics are
    what its authors report for its frozen features."""
    revision, sha256, size, metrics, published_by, dataset, dataset_license = \
        timm_backbone_weights()[full_name]
    arch, tag, cfg, image, transform, model = _timm_model(full_name, timm, test_size=False)
    name = timm_models().get(arch, (arch, {}))[0]
    hub = cfg["hf_hub_id"]
    if revision is None:  # the authors' file timm's config names (their layout)
        url, where = cfg["url"], "its url: the authors' torch.hub file"
    else:
        url = f"https://huggingface.co/{hub}/resolve/{revision}/model.safetensors"
        where = f"Hugging Face {hub} at {revision}"
    return _entry(model, transform, **_timm_fields(
        cfg, name=f"{name}.{tag}", model=name, url=url, sha256=sha256, size=size, dataset=dataset,
        training_command=f"the authors' self-supervised recipe ({tag}), see "
                         f"https://huggingface.co/{hub} and the paper",
        license=f"{cfg['license']} (timm's model card; the authors release the weights "
                "under it)",
        dataset_license=dataset_license, hash_kind="sha256",
        source=f"timm {timm.__version__} {full_name} ({where})",
        published_metrics=dict(metrics),
        published_by=f"{published_by}; published by the authors, not re-measured here",
        class_names=""))


def build_parser():
    p = ArgumentParser(prog="make_imagenet_entries.py", description=__doc__.split("\n")[0])
    p.add_argument("--output", default=None,
                   help="folder for the entries (default: each family's weights/ folder)")
    p.add_argument("--models", default="*",
                   help="only the entries of the models matching this fnmatch pattern "
                        "(comma-separated patterns; default: every model)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    from zoo import registry
    from zoo.jobs.references import import_timm, import_torchvision
    from zoo.weights import WeightsSpec

    tv, timm = import_torchvision(), import_timm()
    classes_out = (Path(args.output) if args.output
                   else Path(__file__).resolve().parents[1] / "weights")
    patterns = [p.strip() for p in args.models.split(",") if p.strip()]

    def wanted(model):
        return any(fnmatch.fnmatchcase(model, p) for p in patterns)

    names = torchvision_names()
    entries = [torchvision_entry(n, tv) for n in names if wanted(n)]
    models = timm_models()
    entries += [timm_entry(n, timm) for n in timm_weights()
                if wanted(models.get(n.split(".", 1)[0], (n.split(".", 1)[0],))[0])]
    entries += [timm_original_entry(n, timm) for n in timm_original_weights()
                if wanted(n.split(".", 1)[0])]
    entries += [timm_backbone_entry(n, timm) for n in timm_backbone_weights()
                if wanted(models.get(n.split(".", 1)[0], (n.split(".", 1)[0],))[0])]
    for entry in entries:
        WeightsSpec.from_json(entry)  # a complete, valid entry, or an error here
        out = (Path(args.output) if args.output
               else registry.family(entry["model"]).weights_folder)
        write_bytes_atomic(out / f"{entry['name']}.json",
                           (json.dumps(entry, indent=2) + "\n").encode("utf-8"))
        print(f"wrote {out / (entry['name'] + '.json')}")
    out = classes_out
    # the ImageNet-1k class names: the same `categories` in every torchvision ImageNet enum
    names = list(tv.models.get_model_weights(names[0]).DEFAULT.meta["categories"])
    classes = {"source": CLASSES_SOURCE.format(version=tv.__version__), "names": names}
    (out / "classes").mkdir(exist_ok=True)
    write_bytes_atomic(out / "classes" / "imagenet1k.json",
                       (json.dumps(classes, indent=1) + "\n").encode("utf-8"))
    print(f"wrote {out / 'classes' / 'imagenet1k.json'} ({len(names)} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

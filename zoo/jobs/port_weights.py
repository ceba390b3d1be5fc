"""`scripts/port_weights.py SOURCE NAME FILE [--output OUT.weights.h5]`: port one checkpoint.

Converts a local torchvision `.pth` state dict or timm `.safetensors` file into
the zoo model NAME (its ImageNet configuration unless `--model-arg` says
otherwise), saves it as a keras `.weights.h5`, and, when the reference
library (torchvision or timm) is installed, runs both models on the same
random images and prints the largest logit difference, absolute and relative
to the largest logit.

```sh
python scripts/port_weights.py torchvision resnet50 resnet50-11ad3fa6.pth --output r50.weights.h5
python scripts/port_weights.py timm resnet50 model.safetensors --timm-name resnet50.a1_in1k
```
"""

import sys
from pathlib import Path

import numpy as np

from zoo.errors import UserValueError
from zoo.jobs.job_args import add_backend_arg, add_model_arg, parse_model_args
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, report
from zoo.utils.files import atomic_path
from zoo.utils.ownership import check_output_file, record_output_file, replacing_outputs


def build_parser():
    p = ArgumentParser(prog="port_weights.py", description=__doc__.split("\n")[0])
    p.add_argument("source", help="torchvision or timm")
    p.add_argument("name", help="zoo model name, e.g. resnet50")
    p.add_argument("file", help="the checkpoint: a torchvision .pth or a timm .safetensors")
    p.add_argument("--output", default=None,
                   help="write the converted weights here (a .weights.h5 path)")
    add_model_arg(p, help="zoo model argument (JSON value), e.g. input_shape=[160,160,3]")
    p.add_argument("--timm-name", default=None,
                   help="timm model name for the reference (default: NAME)")
    p.add_argument("--images", type=int, default=2, help="random images compared (default 2)")
    p.add_argument("--seed", type=int, default=0)
    add_backend_arg(p)
    return p


def port(source, name, file, output=None, model_args=None):
    """Converts `file` into zoo model `name`; returns the model (and writes `output` if given).

    Raises:
        ValueError: a bad argument, an unreadable file, a torchvision file whose
            name states a sha256 prefix its content does not have, or a
            checkpoint of another architecture (the first mismatched layer and
            both shapes are named).
    """
    from zoo import compat, registry
    from zoo.weights import convert

    if source not in convert.SOURCES:
        raise UserValueError(f"`source` must be one of {convert.SOURCES}. "
                             f"Received: source={source!r}")
    if output is not None:
        check_output(output)
    registry.list_models()  # registers the families
    path = Path(file)
    if not path.is_file():
        raise UserValueError(f"No checkpoint file at {path}. Received: file={str(file)!r}")
    if source == "torchvision":
        convert.check_hash_in_name(path)
    tensors = convert.read_checkpoint(path, source)
    declared = registry.family(name).declaration("convert")
    # the configuration the published file fits (ViT-H/14's 518x518), unless told otherwise
    model_args = {**getattr(declared, "entry_arguments", lambda n: {})(name), **(model_args or {})}
    model = compat.build_shapes_only(lambda: registry.create(name, **model_args))
    compat.initialize_deferred(model, convert.convert(model, tensors, f"{source} file {path}",
                                                      checkpoint_format=source))
    if output is not None:
        save_weights(model, output)
    return model


def check_output(output):
    """Refuses an `--output` the zoo may not write (before any work)."""
    if not str(output).endswith(".weights.h5"):
        raise UserValueError(f"`--output` must end with .weights.h5. Received: output={output!r}")
    check_output_file(output, "--output")


def save_weights(model, output):
    """Saves `model`'s weights to `output` (a file the zoo may write: see
    `zoo.utils.ownership.check_output_file`) atomically, and records it as the zoo's."""
    with replacing_outputs():  # one writer from this check to the record
        check_output_file(output, "--output")
        with atomic_path(output) as tmp:
            model.save_weights(tmp)
        record_output_file(output)


def reference_difference(source, name, file, model, images=2, seed=0, timm_name=None):
    """(largest |logit difference|, largest |reference logit|) on random images, or None.

    The reference loads the file as its own library loads published weights (its key
    renames, strictly: `references.torchvision_reference`, `references.timm_reference`).
    None when the reference library is not installed.

    Raises:
        ValueError: the file does not load strictly into the reference.
    """
    import keras

    from zoo.jobs import references
    from zoo.weights import convert

    try:
        import torch

        if source == "torchvision":
            state = {k: torch.from_numpy(v)
                     for k, v in convert.read_checkpoint(file, source).items()}
            reference = references.torchvision_reference(
                name, state, num_classes=model.get_config()["num_classes"])
        else:
            reference = references.timm_reference(timm_name or name, file)
    except ImportError:
        return None
    shape = model.get_config()["input_shape"]
    x = np.random.default_rng(seed).normal(size=(images, *shape)).astype("float32")
    want = references.logits(reference, x)
    got = keras.ops.convert_to_numpy(model(x, training=False))
    return float(np.abs(got - want).max()), float(np.abs(want).max())


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        model_args = parse_model_args(args.model_arg)
        if args.output is not None:  # where it writes, checked before any work
            check_output(args.output)
        model = port(args.source, args.name, args.file, None, model_args)
        # the reference check runs before the output is written: a file its own library
        # cannot load is refused with nothing written
        result = reference_difference(args.source, args.name, args.file, model, args.images,
                                      args.seed, args.timm_name)
        if args.output:
            save_weights(model, args.output)
    except USER_ERRORS as err:
        return report(err)
    if args.output:
        print(f"wrote {args.output}")
    if result is None:
        print(f"{args.source} is not installed: no reference comparison")
        return 0
    diff, scale = result
    print(f"largest logit difference vs {args.source}: {diff:.3g} "
          f"(relative to the largest logit {scale:.3g}: {diff / scale:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

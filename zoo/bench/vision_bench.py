"""`python scripts/bench.py vision`: training images/s of zoo models vs plain Keras, side by side.

Pairs (`--models`; `--peer keras.applications` without `--models`: every pair whose
reference is a keras.applications model):

- `resnet50`: zoo `resnet50` vs `keras.applications.ResNet50(weights=None)`;
- `efficientnet_b0`, `efficientnet_v2_s`, `mobilenet_v3_large`, `convnext_tiny`,
  `inception_v3`: the zoo name vs keras.applications' `EfficientNetB0`, `EfficientNetV2S`,
  `MobileNetV3Large`, `ConvNeXtTiny`, `InceptionV3` (`weights=None`, no preprocessing
  layers where the constructor offers that choice; inception_v3 at 75x75 at least, its
  smallest input);
- `regnet_y_800mf`: Keras 3 has no RegNet, so the reference is keras 2's
  `keras.applications.RegNetY008` layout as a plain functional Keras model
  (`plain_regnet_y`, stock layers). Its widths (pycls's 64, 128, 320, 768) differ from
  torchvision's (64, 144, 320, 784), so the pair also times the zoo model built with
  the reference's widths (`[RegNetY008 widths]`: the same network, equal parameters);
- `resnet20`: zoo `resnet20` vs the same network written as a plain functional
  Keras model (same layers, same parameter count, the stock `train_step`).

Both models of a pair get the same input size, batch, precision, optimizer,
loss, metrics, `jit_compile` and `steps_per_execution`, and are trained by the
same `fit` loop on the same synthetic batch. Timing: `fit` runs `1 + windows`
epochs of `--steps` steps per round; the first epoch (compilation, iterator
start) is discarded and each later epoch is one timed window, closed by reading
the epoch's loss (which waits for the device). Rounds alternate between the
models so that a noisy shared machine slows both alike. Reported: the median
window's images/s and the ratio zoo / reference, and the process CPU time per image
(`time.process_time`, all threads) with its ratio reference / zoo: on a shared machine the
wall-clock windows swing with other jobs' load while the CPU time a step costs moves much
less, so a wall ratio below target beside a CPU ratio at or above it points at load.

Data (`--data`): "device" keeps one synthetic batch on the accelerator and feeds
it from a Python generator (no host-to-device copy per step: the model's speed
alone); "host" feeds numpy through `tf.data` (a copy per step, as a real input
pipeline does). "auto": "host" on TensorFlow (tf.data is its native feed),
"device" on JAX and PyTorch.

`--variant LABEL:key=value;key=value` adds a zoo row built with extra
constructor arguments (e.g. `--variant fastbn:fast_batch_norm=True`), or with a model
attribute of `MODEL_ATTRIBUTES` set (`--variant nocheck:check_finite_weights=False`), so
that model-side choices can be compared in the same run (see docs/benchmarks.md).

One concept in one file (over 500 lines): the vision training-throughput bench, from its
pairs and their reference builders to the alternating timing and the report.
"""

import ast
import math
import platform
import statistics
import sys
import time

from zoo.errors import UserValueError
from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json

#: zoo name -> (keras.applications constructor, its arguments beyond weights=None, the input
#: shape and the classes): the same architecture, the peer of item 4 of issue 22
APPLICATIONS = {
    "resnet50": ("ResNet50", {}),
    "efficientnet_b0": ("EfficientNetB0", {}),  # its Rescaling/Normalization layers are fixed
    "efficientnet_v2_s": ("EfficientNetV2S", {"include_preprocessing": False}),
    "mobilenet_v3_large": ("MobileNetV3Large", {"include_preprocessing": False}),
    "convnext_tiny": ("ConvNeXtTiny", {"include_preprocessing": False}),
    "inception_v3": ("InceptionV3", {}),
}
#: keras 2's `keras.applications.RegNetY008` (Keras 3 has no RegNet): pycls's published
#: RegNetY-800MF widths, which differ from torchvision's regnet_y_800mf (64, 144, 320, 784)
#: in stages 2 and 4; same depths, group width 16, SE at 0.25 of the block's input width
REGNET_Y008 = {"depths": (1, 3, 8, 2), "widths": (64, 128, 320, 768), "group_width": 16}
PAIRS = (*APPLICATIONS, "regnet_y_800mf", "resnet20")
PEERS = ("keras.applications",)
#: smallest input side of a pair's models (keras.applications.InceptionV3 needs 75)
MIN_SIZE = {"inception_v3": 75}


def build_parser():
    p = ArgumentParser(
        prog="bench.py vision",
        description="Training images/s: zoo vision models vs keras.applications / plain Keras.",
    )
    p.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None,
                   help="keras backend (set before keras is imported)")
    p.add_argument("--models", default=None,
                   help=f"comma-separated pairs among {list(PAIRS)}")
    p.add_argument("--peer", choices=PEERS, default=None,
                   help="without --models: every pair whose reference is from this peer")
    p.add_argument("--image-size", type=int, default=64,
                   help="image side of the ImageNet-layout pairs (224 on a GPU)")
    p.add_argument("--cifar-image-size", type=int, default=32, help="image side for resnet20")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=5, help="training steps per timed window")
    p.add_argument("--windows", type=int, default=2, help="timed windows per round")
    p.add_argument("--rounds", type=int, default=3, help="rounds alternating the models")
    p.add_argument("--precision", choices=["float32", "mixed_bfloat16", "mixed_float16"],
                   default="float32")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--data", choices=["auto", "device", "host"], default="auto")
    p.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto")
    p.add_argument("--steps-per-execution", type=int, default=1)
    p.add_argument("--num-classes", type=int, default=None,
                   help="classes (default 1000 for resnet50, 10 for resnet20)")
    p.add_argument("--variant", action="append", default=[], metavar="LABEL:KEY=VALUE[;KEY=VALUE]",
                   help="extra zoo row with these constructor arguments (repeatable)")
    p.add_argument("--no-reference", action="store_true",
                   help="time only the zoo rows (e.g. to try variants in less device time)")
    p.add_argument("--cost-analysis", action="store_true",
                   help="JAX only: also print XLA's cost model of each compiled train step "
                        "(flops, bytes accessed); no extra timing")
    p.add_argument("--json-out", default=None, help="write every figure to this JSON file")
    return p


def parse_variant(text):
    """"LABEL:k=v;k=v" -> (label, {k: literal v})."""
    if ":" not in text:
        raise UserValueError(f"`--variant` must be LABEL:KEY=VALUE[;KEY=VALUE]. Received: {text!r}")
    label, items = text.split(":", 1)
    kwargs = {}
    for item in filter(None, items.split(";")):
        if "=" not in item:
            raise UserValueError(f"`--variant` items must be KEY=VALUE. Received: {item!r}")
        key, value = item.split("=", 1)
        try:
            kwargs[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            kwargs[key.strip()] = value.strip()
    return label.strip(), kwargs


def check_args(args):
    for name in ("image_size", "cifar_image_size", "batch_size", "steps", "windows", "rounds",
                 "steps_per_execution"):
        value = getattr(args, name)
        if value <= 0:
            raise UserValueError(f"`--{name.replace('_', '-')}` must be > 0. Received: {value}")
    if args.models is None:
        models = [*APPLICATIONS, "regnet_y_800mf"] if args.peer else ["resnet50", "resnet20"]
    else:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in PAIRS]
    if unknown or not models:
        raise UserValueError(
            f"`--models` must name pairs among {list(PAIRS)}. Received: {args.models!r}")
    return models, [parse_variant(v) for v in args.variant]


# ---------------------------------------------------------------------- reference models
def plain_resnet_cifar(depths, input_shape, num_classes, filters=(16, 32, 64)):
    """He et al.'s CIFAR ResNet (option A) as a plain functional Keras model.

    Written from the paper with stock layers, independently of the zoo builder,
    with the same layers and parameter count as zoo's `resnet20`.
    """
    import keras
    from keras import layers, ops

    init = keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")

    def bn(name):
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(filters[0], 3, padding="same", use_bias=False, kernel_initializer=init,
                      name="conv")(inputs)
    x = layers.ReLU()(bn("bn")(x))
    channels = filters[0]
    for s, (depth, width) in enumerate(zip(depths, filters)):
        for b in range(depth):
            stride = 2 if (b == 0 and s > 0) else 1
            y = x
            if stride > 1:
                y = layers.ZeroPadding2D(1)(y)
            y = layers.Conv2D(width, 3, strides=stride, padding="valid" if stride > 1 else "same",
                              use_bias=False, kernel_initializer=init)(y)
            y = layers.ReLU()(bn(f"s{s}b{b}bn1")(y))
            y = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_initializer=init)(y)
            y = bn(f"s{s}b{b}bn2")(y)
            shortcut = x
            if stride > 1 or channels != width:
                shortcut = shortcut[:, ::stride, ::stride, :]
                extra = width - channels
                shortcut = ops.pad(shortcut, [[0, 0], [0, 0], [0, 0],
                                              [extra // 2, extra - extra // 2]])
            x = layers.ReLU()(layers.Add()([y, shortcut]))
            channels = width
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="plain_resnet20")


def plain_regnet_y(depths, widths, group_width, input_shape, num_classes, stem_width=32):
    """RegNetY (Radosavovic et al. 2020) as a plain functional Keras model, in the layout of
    keras 2's `keras.applications.RegNetY*` (Keras 3 dropped RegNet): "same" padding,
    he_normal initialisation, BN momentum 0.9 / epsilon 1e-5.

    Stem: 3x3/2 convolution to `stem_width`, BN, ReLU. Each stage's blocks: 1x1
    convolution, BN, ReLU; 3x3 grouped convolution (stride 2 in the first block), BN,
    ReLU; squeeze-excitation to a quarter of the block's input width (ReLU, sigmoid);
    1x1 convolution, BN; plus the input (a strided 1x1 convolution + BN in the first
    block), ReLU. Global average pooling and the logits.
    """
    import keras
    from keras import layers

    def conv_bn(x, filters, kernel, stride=1, groups=1, name=""):
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", groups=groups,
                          use_bias=False, kernel_initializer="he_normal", name=name)(x)
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)

    inputs = keras.Input(input_shape)
    x = layers.ReLU()(conv_bn(inputs, stem_width, 3, 2, name="stem"))
    channels = stem_width
    for s, (depth, width) in enumerate(zip(depths, widths)):
        for b in range(depth):
            stride, name = (2 if b == 0 else 1), f"s{s}b{b}"
            shortcut = conv_bn(x, width, 1, stride, name=f"{name}_skip") if b == 0 else x
            y = layers.ReLU()(conv_bn(x, width, 1, name=f"{name}_a"))
            y = layers.ReLU()(conv_bn(y, width, 3, stride, width // group_width,
                                      name=f"{name}_b"))
            se = layers.GlobalAveragePooling2D(keepdims=True)(y)
            se = layers.Conv2D(int(channels * 0.25), 1, activation="relu",
                               kernel_initializer="he_normal")(se)
            se = layers.Conv2D(width, 1, activation="sigmoid",
                               kernel_initializer="he_normal")(se)
            y = conv_bn(layers.Multiply()([y, se]), width, 1, name=f"{name}_c")
            x = layers.ReLU()(layers.Add()([y, shortcut]))
            channels = width
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="plain_regnet_y")


#: zoo model attributes a `--variant` may set (not constructor arguments): e.g.
#: `check_finite_weights=False` times the step without the per-step non-finite-weights check
MODEL_ATTRIBUTES = ("check_finite_weights",)


def _zoo_variant(pair, shape, classes, kwargs):
    import zoo

    attributes = {k: v for k, v in kwargs.items() if k in MODEL_ATTRIBUTES}
    model = zoo.create(pair, input_shape=shape, num_classes=classes,
                       **{k: v for k, v in kwargs.items() if k not in MODEL_ATTRIBUTES})
    for key, value in attributes.items():
        setattr(model, key, value)
    return model


def make_rows(pair, args, variants):
    """[(label, builder)] for one pair: zoo first, then its variants, then the reference."""
    import keras

    import zoo

    if pair in APPLICATIONS:
        size, classes = max(args.image_size, MIN_SIZE.get(pair, 1)), args.num_classes or 1000
        constructor, extra = APPLICATIONS[pair]
        ref_label = f"keras.applications.{constructor}"

        def reference():
            return getattr(keras.applications, constructor)(
                weights=None, input_shape=(size, size, 3), classes=classes,
                classifier_activation=None, **extra)
    elif pair == "regnet_y_800mf":
        size, classes = args.image_size, args.num_classes or 1000
        ref_label = "keras 2 applications.RegNetY008 layout"

        def reference():
            return plain_regnet_y(**REGNET_Y008, input_shape=(size, size, 3),
                                  num_classes=classes)
    else:
        size, classes = args.cifar_image_size, args.num_classes or 10
        ref_label = "plain functional Keras resnet20"

        def reference():
            return plain_resnet_cifar((3, 3, 3), (size, size, 3), classes)

    shape = (size, size, 3)
    rows = [(f"zoo {pair}", lambda: zoo.create(pair, input_shape=shape, num_classes=classes))]
    if pair == "regnet_y_800mf":  # the zoo model with the peer's widths: the same network
        variants = [("RegNetY008 widths", {"filters": REGNET_Y008["widths"]}), *variants]
    for label, kwargs in variants:
        rows.append((f"zoo {pair} [{label}]",
                     lambda kw=kwargs: _zoo_variant(pair, shape, classes, kw)))
    if not args.no_reference:
        rows.append((ref_label, reference))
    return shape, classes, rows


# ---------------------------------------------------------------------- timing
def synthetic_batch(shape, classes, batch_size, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(batch_size, *shape)).astype("float32")
    y = rng.integers(0, classes, size=(batch_size,)).astype("int32")
    return x, y


def make_data(x, y, mode):
    """An endless source of the same batch: on the device, or through tf.data from host."""
    import keras

    if mode == "device":
        batch = (keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y))

        def forever():
            while True:
                yield batch

        return forever()
    import tensorflow as tf

    return tf.data.Dataset.from_tensors((x, y)).repeat()


def _timer_callback():
    import keras

    class WindowTimer(keras.callbacks.Callback):
        """Wall time of each epoch, closed when the epoch's loss is on the host."""

        def __init__(self):
            super().__init__()
            self.seconds = []

            self.cpu_seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = time.perf_counter()
            self._cpu_start = time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # waits for the last step of the epoch
            self.seconds.append(time.perf_counter() - self._epoch_start)
            self.cpu_seconds.append(time.process_time() - self._cpu_start)

    return WindowTimer()


def compile_model(model, args):
    import keras

    optimizer = (keras.optimizers.SGD(0.01, momentum=0.9) if args.optimizer == "sgd"
                 else keras.optimizers.Adam(1e-4))
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=jit,
                  steps_per_execution=args.steps_per_execution)


def run_pair(pair, args, variants, data_mode):
    import keras

    shape, classes, rows = make_rows(pair, args, variants)
    x, y = synthetic_batch(shape, classes, args.batch_size)
    keras.config.set_dtype_policy(args.precision)
    models = []
    for label, build in rows:
        keras.utils.set_random_seed(0)
        model = build()
        compile_model(model, args)
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        entry = {"label": label, "model": model, "trainable_params": int(trainable),
                 "seconds": [], "cpu_seconds": [], "first_epoch_seconds": []}
        if args.cost_analysis:
            entry["xla_cost"] = xla_cost(model, x, y)
        models.append(entry)
    data = make_data(x, y, data_mode)
    for _ in range(args.rounds):
        for entry in models:
            timer = _timer_callback()
            entry["model"].fit(data, epochs=1 + args.windows, steps_per_epoch=args.steps,
                               callbacks=[timer], shuffle=False, verbose=0)
            entry["first_epoch_seconds"].append(timer.seconds[0])
            entry["seconds"].extend(timer.seconds[1:])
            entry["cpu_seconds"].extend(timer.cpu_seconds[1:])
    keras.config.set_dtype_policy("float32")
    images = args.steps * args.batch_size
    results = []
    for entry in models:
        rates = [images / s for s in entry["seconds"]]
        results.append({
            "label": entry["label"],
            "trainable_params": entry["trainable_params"],
            "images_per_second": statistics.median(rates),
            "window_images_per_second": rates,
            "cpu_ms_per_image": 1000 * statistics.median(entry["cpu_seconds"]) / images,
            "first_epoch_seconds": entry["first_epoch_seconds"],
            **({"xla_cost": entry["xla_cost"]} if "xla_cost" in entry else {}),
        })
        del entry["model"]
    reference = results[-1] if not args.no_reference else None
    for r in results:
        if reference is not None and r is not reference:
            r["ratio_to_reference"] = r["images_per_second"] / reference["images_per_second"]
            r["cpu_ratio_to_reference"] = reference["cpu_ms_per_image"] / r["cpu_ms_per_image"]
    return {"pair": pair, "image_shape": list(shape), "num_classes": classes, "rows": results}


def xla_cost(model, x, y):
    """XLA's cost model of the model's compiled train step: {"flops", "bytes accessed"}.

    JAX only: lowers keras's stateless `train_step` (the function `fit` jits)
    and reads `cost_analysis()` of the compiled executable. A fusion-aware
    count of the memory traffic, which a BN-heavy network's speed follows.
    """
    import jax
    import keras

    if keras.backend.backend() != "jax":
        raise UserValueError("`--cost-analysis` needs the JAX backend. "
                             f"Received: backend={keras.backend.backend()!r}")
    model.optimizer.build(model.trainable_variables)
    state = tuple([v.value for v in vs] for vs in (
        model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
        model.metrics_variables))
    compiled = jax.jit(model.train_step).lower(state, (x, y)).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return {"flops": float(cost.get("flops", 0.0)),
            "bytes_accessed": float(cost.get("bytes accessed", 0.0))}


def device_name():
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            d = jax.devices()[0]
            return f"{d.platform}:{getattr(d, 'device_kind', '')}"
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return "gpu" if gpus else "cpu"
    except Exception:  # pragma: no cover - informational only
        return "unknown"


def main(argv=None):
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        pairs, variants = check_args(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import keras

    backend = keras.backend.backend()
    if args.cost_analysis and backend != "jax":
        print(f"error: `--cost-analysis` needs the JAX backend. Received: backend={backend!r}",
              file=sys.stderr)
        return 2
    data_mode = args.data if args.data != "auto" else (
        "host" if backend == "tensorflow" else "device")
    header = {
        "backend": backend, "device": device_name(), "keras": keras.__version__,
        "precision": args.precision, "batch_size": args.batch_size, "steps": args.steps,
        "windows": args.windows, "rounds": args.rounds, "data": data_mode,
        "optimizer": args.optimizer, "jit_compile": args.jit_compile,
        "steps_per_execution": args.steps_per_execution, "python": platform.python_version(),
        "command": "python scripts/bench.py vision " + " ".join(sys.argv[1:] if argv is None
                                                                else argv),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"vision training throughput: backend={backend} device={header['device']} "
          f"precision={args.precision} batch={args.batch_size} data={data_mode} "
          f"optimizer={args.optimizer} jit_compile={args.jit_compile} "
          f"steps/window={args.steps} windows={args.windows}x{args.rounds}")
    report = {**header, "pairs": []}
    for pair in pairs:
        result = run_pair(pair, args, variants, data_mode)
        report["pairs"].append(result)
        size = "x".join(str(d) for d in result["image_shape"])
        print(f"\n{pair} ({size}, {result['num_classes']} classes)")
        print(f"  {'model':44s} {'trainable':>12s} {'img/s':>8s} {'ratio':>6s} "
              f"{'cpu ms/img':>10s} {'ratio':>6s}  windows img/s")
        for r in result["rows"]:
            ratio = f"{r['ratio_to_reference']:.3f}" if "ratio_to_reference" in r else "ref"
            cpu = (f"{r['cpu_ratio_to_reference']:.3f}" if "cpu_ratio_to_reference" in r
                   else "ref")
            windows = " ".join(f"{v:.0f}" for v in r["window_images_per_second"])
            print(f"  {r['label']:44s} {r['trainable_params']:>12,d} "
                  f"{r['images_per_second']:>8.1f} {ratio:>6s} {r['cpu_ms_per_image']:>10.2f} "
                  f"{cpu:>6s}  {windows}")
        for r in result["rows"]:
            if "xla_cost" in r:
                c = r["xla_cost"]
                print(f"  XLA cost of one step, {r['label']:33s} "
                      f"{c['flops'] / 1e9:10.1f} GFLOP {c['bytes_accessed'] / 1e9:9.3f} GB")
        if not args.no_reference:
            zoo_ratio = result["rows"][0]["ratio_to_reference"]
            verdict = "meets" if zoo_ratio >= 0.97 else "BELOW"
            cpu_ratio = result["rows"][0]["cpu_ratio_to_reference"]
            print(f"  ratio zoo/reference {zoo_ratio:.3f} ({verdict} the 0.97 target); "
                  f"CPU time per image reference/zoo {cpu_ratio:.3f}")
    if args.json_out:
        write_output_json(args.json_out, report)
        print(f"\nwritten to {args.json_out}")
    return 0

"""`python scripts/bench.py quantize`: float against int8 in each runtime, side by side, one run.

For `mlp`, `resnet20` and `vae` (its encoder) with their shipped Fashion-MNIST
weights, and `resnet50` (the ImageNet layout, 224x224x3, random but fixed
weights, seed 0, its BatchNorm statistics and mean logits taken from the
calibration images so that the class depends on the image; it sees the
Fashion-MNIST images upsampled to 224x224 RGB): each model is quantized by every path of the zoo,

- keras: `zoo.quantize(model, "int8")` (Dense/EinsumDense/Embedding only),
- ONNX Runtime: `scripts/export.py`'s int8 export (static QDQ, or dynamic
  quantization for a graph without convolutions),
- LiteRT: the same export (full-integer post-training quantization),

the int8 artifacts calibrated on `--calibration` training examples and checked
on the validation split by the export itself. Reported per model and runtime:
test accuracy float and int8 (the encoder: nearest class centroid of its codes,
centroids from the float codes of the calibration examples; resnet50: top-1
agreement on `--large-examples` validation images only, and how many classes the
float model predicts there: agreement on a single class would be cheap), file size float and
int8 (keras: the `.weights.h5` files), and latency at each batch size
(`--batch-sizes`) float and int8 in the same runtime: `--warmup` untimed calls,
then `--rounds` rounds, each timing `--repeats` calls of every runtime and
precision in turn (a noisy machine slows all alike); a cell is the median per-call
time. ONNX Runtime and LiteRT get `--threads` threads; keras (`predict_on_batch`)
TensorFlow's own pool. Also: which weight ops each int8 artifact still runs in
float (ONNX Runtime: after its own graph optimizations), where ONNX Runtime's
int8 time goes at the largest batch (its profiler), the CPU's int8 instructions
(`/proc/cpuinfo` flags), and the load average before and after.
"""

import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from zoo.utils.command_line import ArgumentParser
from zoo.errors import UserValueError

MODELS = ("mlp", "resnet20", "vae", "resnet50")
RUNTIMES = ("keras", "onnx", "litert")
LABELS = {"keras": "keras", "onnx": "ONNX Runtime", "litert": "LiteRT"}
SUFFIX = {"onnx": ".onnx", "litert": ".tflite"}
#: the CPU flags that decide int8 speed on x86 (VNNI: int8 dot products; AMX: int8 tiles)
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "amx_tile", "avx512bw", "avx512_bf16")
#: ONNX ops that run a layer's weights in float, and their int8 forms (after ORT's fusions)
FLOAT_WEIGHT_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "FusedConv", "FusedMatMul",
                    "FusedGemm", "NchwcConv")
INT8_WEIGHT_OPS = ("QLinearConv", "QLinearMatMul", "MatMulInteger", "QGemm",
                   "DynamicQuantizeMatMul", "ConvInteger", "MatMulIntegerToFloat")
TARGETS = {"model": "resnet20", "accuracy_points": 0.5, "size_ratio": 0.3, "onnx_speedup": 1.5}


def build_parser():
    p = ArgumentParser(prog="bench.py quantize", description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(MODELS), help=f"among {', '.join(MODELS)}")
    p.add_argument("--calibration", default="fashion_mnist:512",
                   help="DATASET[:N] training examples that calibrate the int8 artifacts")
    p.add_argument("--batch-sizes", default="1,64")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=10, help="timed calls per round")
    p.add_argument("--large-repeats", type=int, default=1,
                   help="timed calls per round for resnet50 at batch > 1")
    p.add_argument("--large-examples", type=int, default=256,
                   help="resnet50: validation images of the agreement (calibration: 16)")
    p.add_argument("--test-limit", type=int, default=None,
                   help="score on the first N test images (a quick check, not a measurement)")
    p.add_argument("--validation-examples", type=int, default=None,
                   help="the export's check: first N validation examples (default: all)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="intra-op threads of ONNX Runtime and LiteRT")
    p.add_argument("--json-out", default=None)
    return p


def check_args(args):
    try:
        args.batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b.strip()]
    except ValueError:
        args.batch_sizes = []
    if not args.batch_sizes or min(args.batch_sizes) < 1:
        raise UserValueError(f"`--batch-sizes` takes ints >= 1, comma-separated. "
                             f"Received: --batch-sizes {args.batch_sizes}")
    args.models = [m.strip() for m in str(args.models).split(",") if m.strip()]
    unknown = [m for m in args.models if m not in MODELS]
    if unknown or not args.models:
        raise UserValueError(f"`--models` takes names among {MODELS}. Received: --models "
                             f"{','.join(args.models)}")
    for flag in ("rounds", "repeats", "large_repeats", "large_examples", "threads"):
        value = getattr(args, flag)
        if value is None or value < 1:
            raise UserValueError(f"`--{flag.replace('_', '-')}` must be an int >= 1. "
                                 f"Received: {value!r}")
    if args.warmup < 0:
        raise UserValueError(f"`--warmup` must be >= 0. Received: {args.warmup}")
    if args.test_limit is not None and args.test_limit < 1:
        raise UserValueError(f"`--test-limit` must be >= 1. Received: {args.test_limit}")


def cpu_int8_features():
    """The CPU's model name and which of `INT8_FLAGS` it has (from /proc/cpuinfo)."""
    name, flags = "?", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name == "?":
                name = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {"cpu": name, "int8_flags": {f: f in flags for f in INT8_FLAGS}}


# ---------------------------------------------------------------------- the models
def _model(name):
    """(model, part, raw_scale, weights description) of a benchmarked model."""
    import keras

    import zoo
    from zoo.jobs import export as job

    if name == "resnet50":
        keras.utils.set_random_seed(0)
        return zoo.create("resnet50"), None, 1.0 / 255.0, "random, seed 0"
    model = zoo.create(name, weights="fashion_mnist")
    spec = zoo.weights.get_weights(f"{name}.fashion_mnist")
    part = "encoder" if name == "vae" else None
    return model, part, job.raw_image_scale(spec.preprocessing), "fashion_mnist"


def _imagenet_layout(images):
    """Fashion-MNIST uint8 images (N, 28, 28, 1) as 224x224 RGB (nearest, x8)."""
    import numpy as np

    return np.repeat(np.repeat(np.repeat(images, 8, axis=1), 8, axis=2), 3, axis=3)


def _large_data(calibration, args):
    """resnet50's calibration and validation images: Fashion-MNIST at 224x224x3."""
    import zoo
    from zoo.jobs import quantize as qjob

    (x, y), _ = zoo.datasets.load_arrays(calibration.dataset)
    train, validation = zoo.datasets.split_indices(len(x), qjob.VALIDATION_SPLIT,
                                                   qjob.VALIDATION_SEED)
    # 16 calibration images: ONNX Runtime's calibration holds all of resnet50's activations
    # of every one in memory (~220 MB each)
    cal, val = train[:16], validation[:args.large_examples]
    return qjob.Data(_imagenet_layout(x[cal]), y[cal], _imagenet_layout(x[val]), y[val])


def batch_norm_statistics(model, x):
    """Gives every BatchNormalization layer of `model` the moving mean and variance of
    its inputs on `x` (one forward pass in training mode with momentum 0), as a trained
    network has. With the initial statistics (0 and 1) a deep random network's activations
    drift far from 1 (a random tiny EfficientNet's logits are ~1e-11), which says nothing
    of int8 on a trained one."""
    from keras import layers

    from zoo import compat

    norms = [layer for layer in compat.nested_layers(model)
             if isinstance(layer, layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    model(x, training=True)
    for layer, momentum in zip(norms, momenta):
        layer.momentum = momentum


def _data_statistics(model, images):
    """Gives a random-weight network the statistics a trained one has on `images`.

    BatchNorm's moving mean and variance become those of `images`
    (`batch_norm_statistics`), and the mean logits over them are
    subtracted from the logits' bias, then the logits divided by 4 (the export's
    float check is absolute). With initial statistics (0 and 1) a deep
    random network gives nearly the same logits for every image, so one class
    wins everywhere and top-1 agreement would be trivial; so, the class depends
    on the image (tens of classes over 256 images).
    """
    from keras import ops

    x = images.astype("float32") / 255.0
    batch_norm_statistics(model, x)
    logits = ops.convert_to_numpy(model.predict(x, verbose=0))
    head = model.get_layer("logits")
    head.bias.assign(ops.convert_to_numpy(head.bias) - logits.mean(axis=0))
    # and a quarter of the scale (the classes unchanged): the export's float check is
    # absolute (1e-4), and ONNX Runtime's float resnet50 missed it by 1.4e-4 at logits ~16
    for v in head.weights:
        v.assign(v / 4.0)


def _keras_int8(model, part, raw_scale):
    """A quantized copy of `model` and its inference function."""
    import zoo
    from zoo.jobs import export as job

    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.input_range = model.input_range
    zoo.quantize(copy, "int8")
    return copy, job.inference_model(copy, part, raw_scale)


def _weights_bytes(model, folder, label):
    path = Path(folder) / f"{label}.weights.h5"
    model.save_weights(path)
    return path.stat().st_size


def _onnx_profile(path, x, threads):
    """ONNX Runtime on `path`: the weight ops it runs in float and in int8 after its own
    graph optimizations, and each op type's share of the time on `x` (its profiler)."""
    import onnx
    import onnxruntime

    folder = tempfile.mkdtemp()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.optimized_model_filepath = os.path.join(folder, "optimized.onnx")
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(folder, "profile")
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for _ in range(3):
        session.run(None, {name: x})
    events = json.loads(Path(session.end_profiling()).read_text())
    ops = collections.Counter(n.op_type for n in onnx.load(
        options.optimized_model_filepath).graph.node)
    # the last run only: the first ones also allocate ORT's memory arena
    last = [e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"][-1]
    spent = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and (
                last["ts"] <= event["ts"] <= last["ts"] + last["dur"]):
            spent[event["args"]["op_name"]] += event["dur"]
    total = sum(spent.values()) or 1
    return {"float_weight_ops": {k: v for k, v in ops.items() if k in FLOAT_WEIGHT_OPS},
            "int8_weight_ops": {k: v for k, v in ops.items() if k in INT8_WEIGHT_OPS},
            "time_share": {k: round(v / total, 3) for k, v in spent.most_common(6)}}


def bench_model(name, args, folder):
    import numpy as np
    from keras import ops

    from zoo.bench.export_bench import time_calls
    from zoo.jobs import export as job
    from zoo.jobs import quantize as qjob

    model, part, raw_scale, weights = _model(name)
    large = name == "resnet50"
    data = None
    if large:
        data = _large_data(qjob.parse_calibration(args.calibration), args)
        _data_statistics(model, data.calibration)
        weights += "; BatchNorm statistics and mean logits from the calibration images"
    inference = job.inference_model(model, part, raw_scale)
    quantized, inference_int8 = _keras_int8(model, part, raw_scale)
    result = {"weights": weights, "part": part, "runtimes": {}}
    runners = {"keras": (inference.model.predict_on_batch, inference_int8.model.predict_on_batch)}
    result["runtimes"]["keras"] = {
        "float_bytes": _weights_bytes(model, folder, f"{name}.float"),
        "int8_bytes": _weights_bytes(quantized, folder, f"{name}.int8"),
        "method": "keras int8: Dense/EinsumDense/Embedding kernels int8, inputs per row",
    }
    for fmt in ("onnx", "litert"):
        request = qjob.request("int8", fmt, args.calibration,
                               validation_examples=args.validation_examples)
        if large:
            request.min_agreement = 0.0  # random weights: measured and reported, not gated
            request.data = data
        float_path = Path(folder) / f"{name}.float{SUFFIX[fmt]}"
        int8_path = Path(folder) / f"{name}.int8{SUFFIX[fmt]}"
        request.float_copy = float_path  # the float artifact the int8 one was made from
        start = time.perf_counter()
        report = job.export(model, int8_path, fmt, part=part, raw_scale=raw_scale,
                            quantize=request)
        data = request.data
        int8 = report["int8"]
        result["runtimes"][fmt] = {
            "float_bytes": int8["float_bytes"], "int8_bytes": int8["int8_bytes"],
            "method": int8["method"], "validation_agreement": int8["agreement"],
            "float_weight_ops": int8["float_weight_ops"], "export_s": time.perf_counter() - start,
        }
        runners[fmt] = (job.load_artifact(float_path, fmt, threads=args.threads),
                        job.load_artifact(int8_path, fmt, threads=args.threads))
    features = part in qjob.FEATURE_PARTS

    # accuracy on the test split (resnet50: agreement on the validation images)
    def numpy_run(fn):
        return lambda x: ops.convert_to_numpy(fn(x))

    if large:
        x_eval, y_eval = data.validation, None
    else:
        x_eval, y_eval = qjob.test_split(request.calibration, model, inference)
        x_eval, y_eval = x_eval[:args.test_limit], y_eval[:args.test_limit]
    for runtime, (run_float, run_int8) in runners.items():
        run_float, run_int8 = numpy_run(run_float), numpy_run(run_int8)
        cell = result["runtimes"][runtime]
        f, q = qjob.batched(run_float, x_eval), qjob.batched(run_int8, x_eval)
        centroids = None
        if features:  # the encoder: nearest class centroid, from this runtime's float codes
            centroids = qjob.class_centroids(qjob.batched(run_float, data.calibration),
                                             data.calibration_labels)
            cf, cq = qjob.centroid_classes(f, centroids), qjob.centroid_classes(q, centroids)
        else:
            cf, cq = qjob.top1(f), qjob.top1(q)
        cell["agreement"] = float((cf == cq).mean())
        cell["classes_predicted"] = int(len(np.unique(cf)))  # agreement on one class is cheap
        if y_eval is not None:
            cell["accuracy_float"] = float((cf == y_eval).mean())
            cell["accuracy_int8"] = float((cq == y_eval).mean())
        cell["size_ratio"] = cell["int8_bytes"] / cell["float_bytes"]
        cell["max_abs_diff"] = float(np.max(np.abs(f - q)))
    result["scored_on"] = ("validation images (224x224 Fashion-MNIST), agreement only"
                           if large else f"test split, {len(x_eval)} images")

    # latency, alternating rounds over every runtime and precision
    result["ms_per_batch"] = {}
    source = data.validation if large else x_eval
    for batch in args.batch_sizes:
        x = np.concatenate([source] * (batch // len(source) + 1))[:batch]
        repeats = args.large_repeats if large and batch > 1 else args.repeats
        calls = {(r, p): fn for r, pair in runners.items() for p, fn in zip(("float", "int8"),
                                                                            pair)}
        for fn in calls.values():
            time_calls(fn, x, args.warmup)
        per_call = {k: [] for k in calls}
        for _ in range(args.rounds):
            for key, fn in calls.items():
                per_call[key] += time_calls(fn, x, repeats)
        result["ms_per_batch"][batch] = {
            r: {p: 1000 * statistics.median(per_call[(r, p)]) for p in ("float", "int8")}
            for r in runners}
    biggest = max(args.batch_sizes)
    x = np.concatenate([source] * (biggest // len(source) + 1))[:biggest]
    for precision in ("float", "int8"):
        result["runtimes"]["onnx"][f"profile_{precision}"] = _onnx_profile(
            Path(folder) / f"{name}.{precision}.onnx", x, args.threads)
    return result


# ---------------------------------------------------------------------- report
def targets(report):
    """The issue's targets for resnet20, each with its figure and whether it is met."""
    r = report["models"].get(TARGETS["model"])
    if r is None or "accuracy_float" not in r["runtimes"]["onnx"]:
        return {}
    out = {}
    for runtime in ("onnx", "litert"):
        cell = r["runtimes"][runtime]
        drop = 100 * (cell["accuracy_float"] - cell["accuracy_int8"])
        out[f"{runtime} accuracy within {TARGETS['accuracy_points']} points"] = (
            f"{drop:+.2f} points", drop <= TARGETS["accuracy_points"])
        out[f"{runtime} size <= {TARGETS['size_ratio']}x"] = (
            f"{cell['size_ratio']:.3f}x", cell["size_ratio"] <= TARGETS["size_ratio"])
    batch = max(r["ms_per_batch"], key=int)
    cells = r["ms_per_batch"][batch]["onnx"]
    speedup = cells["float"] / cells["int8"]
    out[f"onnx batch-{batch} latency >= {TARGETS['onnx_speedup']}x faster"] = (
        f"{speedup:.2f}x", speedup >= TARGETS["onnx_speedup"])
    return out


def print_report(report):
    m = report["machine"]
    flags = ", ".join(f"{f} {'yes' if v else 'no'}" for f, v in m["int8_flags"].items())
    print(f"float vs int8 per runtime; {m['cpu']}, {m['nproc']} cores, int8 features: {flags}; "
          f"keras {m['keras']}, TF {m['backend_version']}, ONNX Runtime {report['onnxruntime']}, "
          f"ORT/LiteRT threads {report['threads']}; load average before "
          f"{report['load_before']}, after {report['load_after']}")
    print(f"{'model':<10}{'runtime':<14}{'method':<9}{'acc float':>10}{'acc int8':>10}"
          f"{'agree':>8}{'classes':>8}{'size float':>12}{'size int8':>11}{'ratio':>7}")
    for name, r in report["models"].items():
        for runtime, c in r["runtimes"].items():
            acc = (f"{c['accuracy_float']:>10.4f}{c['accuracy_int8']:>10.4f}"
                   if "accuracy_float" in c else f"{'-':>10}{'-':>10}")
            method = "keras" if runtime == "keras" else c["method"]
            print(f"{name:<10}{LABELS[runtime]:<14}{method:<9}{acc}{c['agreement']:>8.4f}"
                  f"{c['classes_predicted']:>8}{c['float_bytes']:>12,}{c['int8_bytes']:>11,}"
                  f"{c['size_ratio']:>7.3f}")
    print("latency, ms per batch (median): float / int8 = speed-up, same runtime")
    for name, r in report["models"].items():
        for batch, cells in r["ms_per_batch"].items():
            row = "   ".join(
                f"{LABELS[k]} {v['float']:.3f} / {v['int8']:.3f} = {v['float'] / v['int8']:.2f}x"
                for k, v in cells.items())
            print(f"{name:<10}{batch:>4}   {row}")
    print("weight ops left in float by each int8 artifact (ONNX Runtime: after its graph "
          "optimizations); ONNX Runtime int8 time by op:")
    for name, r in report["models"].items():
        onnx = r["runtimes"]["onnx"]
        print(f"{name:<10}ONNX Runtime float {onnx['profile_int8']['float_weight_ops'] or 'none'}"
              f", int8 {onnx['profile_int8']['int8_weight_ops']}; LiteRT float "
              f"{r['runtimes']['litert']['float_weight_ops'] or 'none'}; ORT int8 time "
              f"{onnx['profile_int8']['time_share']}")
    for target, (figure, met) in report["targets"].items():
        print(f"target {target}: {figure} {'met' if met else 'MISSED'}")


def main(argv=None):
    args = build_parser().parse_args(argv)
    check_args(args)
    import logging

    import onnxruntime

    # keras retraces predict for each new batch shape of the exports' checks: expected here
    logging.getLogger("tensorflow").setLevel(logging.ERROR)

    from zoo.bench.speedrun_bench import machine
    from zoo.jobs import quantize as qjob

    qjob.request("int8", "onnx", args.calibration)  # a bad --calibration fails first
    report = {"command": "python scripts/bench.py quantize " + " ".join(argv or sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d %H:%M"),
              "machine": {**machine(), **cpu_int8_features()},
              "onnxruntime": onnxruntime.__version__, "threads": args.threads,
              "load_before": [round(v, 2) for v in os.getloadavg()], "models": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            print(f"{name}: exporting, scoring, timing", file=sys.stderr, flush=True)
            report["models"][name] = bench_model(name, args, folder)
    report["load_after"] = [round(v, 2) for v in os.getloadavg()]
    report["targets"] = targets(report)
    print_report(report)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(
            {**report, "targets": {k: list(v) for k, v in report["targets"].items()}},
            indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

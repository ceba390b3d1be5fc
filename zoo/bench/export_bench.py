"""`python scripts/bench.py export`: inference latency of keras `predict` vs the exported artifacts.

For each model (`--models`, default `resnet20` and `mlp` with their shipped
Fashion-MNIST weights) the inference function is exported once per format
(`scripts/export.py`'s `export`: raw uint8 images in, the scaling inside), each
artifact is loaded by its own runtime (SavedModel: `tf.saved_model.load`; ONNX
Runtime; the LiteRT interpreter), and every runtime is timed on the same raw
batch of each size (`--batch-sizes`, default 1 and 64), side by side in one
process: keras's `model.predict(x, batch_size=len(x))` of the same function, the
SavedModel's `serve`, `InferenceSession.run`, LiteRT `invoke`; and, for scale,
keras's `predict_on_batch` (no data adapter, the compiled function only).

Timing: `--warmup` calls, then `--rounds` rounds; each round times `--repeats`
calls of every runtime in turn (so a noisy machine slows all alike), and a
cell's figure is the median of its per-call times over the rounds, in ms per
batch. Ratios are keras predict / artifact and predict_on_batch / artifact
(above 1: the artifact is faster).
Every artifact's outputs are checked against keras first (<= 1e-4).
ONNX Runtime and LiteRT get `--threads` intra-op threads (default: all cores);
TensorFlow uses its own pool (all cores).
"""

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json

MODELS = ("resnet20", "mlp")
SUFFIX = {"tf_saved_model": "", "onnx": ".onnx", "litert": ".tflite"}
LABELS = {"keras": "keras predict", "keras_on_batch": "predict_on_batch",
          "tf_saved_model": "SavedModel", "onnx": "ONNX Runtime", "litert": "LiteRT"}


def build_parser():
    p = ArgumentParser(prog="bench.py export", description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None,
                   help="keras backend that exports (LiteRT needs tensorflow)")
    p.add_argument("--models", default=",".join(MODELS),
                   help="comma-separated names with shipped fashion_mnist weights")
    p.add_argument("--weights", default="fashion_mnist")
    p.add_argument("--batch-sizes", default="1,64")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls per runtime and batch")
    p.add_argument("--repeats", type=int, default=20, help="timed calls per runtime per round")
    p.add_argument("--rounds", type=int, default=5, help="rounds alternating the runtimes")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="intra-op threads of ONNX Runtime and LiteRT")
    p.add_argument("--json-out", default=None)
    return p


def _positive_ints(text, flag):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v <= 0 for v in values):
        raise SystemExit(f"error: {flag} must be comma-separated ints > 0. Received: {text!r}")
    return values


def time_calls(fn, x, repeats):
    """Per-call seconds of `repeats` calls of `fn(x)`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return times


def bench_model(name, args, folder, formats):
    """{batch size: {runtime: median ms per batch}} and the export seconds per format."""
    import numpy as np

    import zoo
    from zoo.jobs import export as job

    model = zoo.create(name, weights=args.weights)
    spec = next(s for s in zoo.list_weights(f"{name}.*") if s.tag == args.weights)
    scale = job.raw_image_scale(spec.preprocessing)
    runners, export_s = {}, {}
    inference = job.inference_model(model, raw_scale=scale)
    runners["keras"] = inference.predict
    runners["keras_on_batch"] = inference.model.predict_on_batch
    for fmt in formats:
        out = Path(folder) / f"{name}{SUFFIX[fmt]}"
        start = time.perf_counter()
        job.export(model, out, fmt, raw_scale=scale, check=False)
        export_s[fmt] = time.perf_counter() - start
        runners[fmt] = job.load_artifact(out, fmt, threads=args.threads)

    results, diffs = {}, {}
    for batch in args.batch_sizes:
        x = inference.sample(batch, seed=batch)
        reference = inference.predict(x)
        for fmt in formats:  # a figure counts only for an artifact that computes the same
            diffs[f"{fmt}@{batch}"] = float(np.max(np.abs(runners[fmt](x) - reference)))
            if not diffs[f"{fmt}@{batch}"] <= job.ATOL:
                raise SystemExit(f"error: {name} {fmt} differs from keras by "
                                 f"{diffs[f'{fmt}@{batch}']:.3g} at batch {batch}")
        for fn in runners.values():
            time_calls(fn, x, args.warmup)
        per_call = {k: [] for k in runners}
        for _ in range(args.rounds):
            for key, fn in runners.items():
                per_call[key] += time_calls(fn, x, args.repeats)
        results[batch] = {k: 1000 * statistics.median(v) for k, v in per_call.items()}
    return results, export_s, diffs


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.batch_sizes = _positive_ints(args.batch_sizes, "--batch-sizes")
    for flag in ("warmup", "repeats", "rounds", "threads"):
        if getattr(args, flag) is None or getattr(args, flag) < (0 if flag == "warmup" else 1):
            raise SystemExit(f"error: --{flag} must be a positive int. "
                             f"Received: {getattr(args, flag)!r}")
    models = [m for m in args.models.split(",") if m]

    import keras
    import tensorflow as tf

    from zoo.jobs import export as job

    backend = keras.backend.backend()
    formats = job.BACKEND_FORMATS.get(backend)
    if not formats:
        raise SystemExit(f"error: export runs on tensorflow or jax. Received: backend={backend}")
    for fmt in formats:
        job.check_dependencies(fmt, backend)

    report = {"backend": backend, "keras": keras.__version__, "tensorflow": tf.__version__,
              "machine": f"{platform.processor() or platform.machine()}, "
                         f"{os.cpu_count()} cores", "threads": args.threads, "models": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name in models:
            results, export_s, diffs = bench_model(name, args, folder, formats)
            report["models"][name] = {"ms_per_batch": results, "export_s": export_s,
                                      "max_abs_diff": diffs}

    runtimes = ["keras", "keras_on_batch"] + list(formats)
    print(f"Inference latency, ms per batch (median), raw uint8 images in; backend {backend}, "
          f"keras {keras.__version__}, TF {tf.__version__}, {report['machine']}, "
          f"ORT/LiteRT threads {args.threads}")
    header = f"{'model':<10}{'batch':>6}" + "".join(f"{LABELS[r]:>17}" for r in runtimes)
    print(header)
    for name, data in report["models"].items():
        for batch, cells in data["ms_per_batch"].items():
            print(f"{name:<10}{batch:>6}" + "".join(f"{cells[r]:>17.3f}" for r in runtimes))
    print("ratios (above 1: the artifact is faster), keras predict / artifact and "
          "predict_on_batch / artifact:")
    for name, data in report["models"].items():
        for batch, cells in data["ms_per_batch"].items():
            ratios = [f"{LABELS[f]} {cells['keras'] / cells[f]:.1f}x / "
                      f"{cells['keras_on_batch'] / cells[f]:.2f}x" for f in formats]
            data.setdefault("ratios", {})[batch] = {
                f: {"predict": cells["keras"] / cells[f],
                    "predict_on_batch": cells["keras_on_batch"] / cells[f]} for f in formats}
            print(f"{name:<10}{batch:>6}   " + ", ".join(ratios))
    for name, data in report["models"].items():
        exports = ", ".join(f"{LABELS[f]} {s:.1f}s" for f, s in data["export_s"].items())
        worst = max(data["max_abs_diff"].values())
        print(f"{name}: export {exports}; max |artifact - keras| {worst:.2g}")
    if args.json_out:
        write_output_json(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

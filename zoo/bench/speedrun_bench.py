"""`scripts/bench.py speedrun`: the zoo's fastest CPU recipes to a Fashion-MNIST test accuracy.

Two tiers (`--target`): >= 0.93 test accuracy in <= 120 s of training (the
record), and >= 0.90 in <= 20 s. Each trains a registered zoo model with its
ordinary `compile`/`fit`, the zoo step and the shared `callbacks.Scheduler` +
`OneCycle`, on the 60,000 training images, reads the 10,000 test images once per
seed at the end and prints, per seed: training wall time after the first step
(the first step traces and compiles; its time is printed apart), the process CPU
time, the test accuracy, the time of the scoring (test-time augmentation); then
the mean and minimum over `--seeds`, and the machine (nproc, CPU model, load
average before and after: timings on a shared machine are distorted, CPU seconds
less so).

`--holdout N` trains on all but N seeded-held-out training images and scores
those instead (the test split is not used): how the recipes were chosen, see
docs/benchmarks.md. `--backends` times the recipe's steps on each keras backend
and precision (one subprocess each); `--profile` splits the time of the recipe's
steps into data pipeline, forward, backward, optimizer, callbacks and host
overhead (TensorFlow).

```sh
python scripts/bench.py speedrun --seeds 0,1,2      # the record, on the test split
python scripts/bench.py speedrun --target 0.90      # the second tier
python scripts/bench.py speedrun --holdout 5000 --epochs 8 --model-arg 'filters=(32,64,128)'
python scripts/bench.py speedrun --backends tensorflow,jax,torch
python scripts/bench.py speedrun --profile
```

One concept in one file (over 500 lines): the speedrun benchmark, its
recipes, its timing and its report.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from zoo.errors import UserValueError
from zoo.utils.ownership import write_output_json

HOLDOUT_SEED = 0  # the held-out images are the same for every candidate, whatever --seed

# what both tiers share
_SHARED = {
    "model": "speednet",
    "precision": "mixed_bfloat16",
    "optimizer": "adam",
    "momentum": 0.95,
    "weight_decay": 0.0,
    "label_smoothing": 0.0,
    "ema": 0.0,
    "pct_start": 0.25,
    "anneal": "cos",
    "steps_per_execution": 1,
    "schedule": "onecycle",
    "fused_batch_norm": True,
}
# chosen on --holdout 5000 (docs/benchmarks.md, "CPU speedrun")
RECIPES = {
    "0.93": {
        **_SHARED,
        "seconds": 120.0,
        "model_args": {"filters": (32, 64, 128), "head": "flatten", "head_units": (256,),
                       "augment": "flip"},
        "epochs": 8,
        "batch_size": 500,
        "max_lr": 0.016,
        "tta": "flip",
    },
    "0.90": {
        **_SHARED,
        "seconds": 20.0,
        "model_args": {"filters": (16, 32, 64), "head": "flatten", "head_units": (128,),
                       "augment": None},
        "epochs": 2,
        "batch_size": 250,
        "max_lr": 8e-3,
        "tta": "none",
    },
}
RECIPE = RECIPES["0.93"]
TTA = {
    "none": "the image alone",
    "flip": "mean softmax of the image and its horizontal mirror",
    "flip_translate": "mean softmax of the image and its mirror (weight 1/2) and of both "
                      "shifted by one pixel up-left and down-right (1/4 each)",
}
BACKENDS = ("tensorflow", "jax", "torch")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def build_parser():
    p = argparse.ArgumentParser(prog="bench.py speedrun", description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="0.93", choices=sorted(RECIPES),
                   help="the tier: its recipe and its time target (0.93: 120 s, 0.90: 20 s)")
    p.add_argument("--model", default=None, help="a registered zoo name (default: the recipe's)")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="constructor argument (repeatable); with the recipe's model it "
                        "replaces the recipe's argument of that name")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--optimizer", default=None, choices=["adam", "sgd"],
                   help="adam, or sgd (Nesterov)")
    p.add_argument("--max-lr", type=float, default=None,
                   help="peak learning rate of the one-cycle schedule")
    p.add_argument("--momentum", type=float, default=None,
                   help="the one-cycle momentum's high value (SGD momentum, Adam beta_1)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="decoupled weight decay (keras optimizers' weight_decay)")
    p.add_argument("--label-smoothing", type=float, default=None)
    p.add_argument("--ema", type=float, default=None, metavar="MOMENTUM",
                   help="exponential moving average of the weights (keras optimizers' "
                        "use_ema), copied into the model at the end; 0: none")
    p.add_argument("--pct-start", type=float, default=None,
                   help="fraction of the one-cycle schedule spent warming up")
    p.add_argument("--anneal", default=None, choices=["cos", "linear"])
    p.add_argument("--schedule", default=None, choices=["onecycle", "constant"],
                   help="onecycle (the recipe's), or --max-lr throughout (an ablation)")
    p.add_argument("--fused-batch-norm", action=argparse.BooleanOptionalAction, default=None,
                   help="the zoo BatchNormalization's fused kernel (TensorFlow); "
                        "--no-fused-batch-norm takes keras's op-by-op path (an ablation)")
    p.add_argument("--precision", default=None, choices=PRECISIONS)
    p.add_argument("--tta", default=None, choices=sorted(TTA),
                   help="test-time augmentation of the scored images")
    p.add_argument("--steps-per-execution", type=int, default=None)
    p.add_argument("--holdout", type=int, default=0, metavar="N",
                   help="score on N seeded-held-out training images, not the test split")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="first N training and N scored images only (quick checks; not the bench)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds, one run each")
    p.add_argument("--backends", default=None, metavar="LIST",
                   help="instead of a run: time the recipe's steps on each of these backends "
                        "and --precisions, one subprocess each (one epoch of --limit images)")
    p.add_argument("--precisions", default="float32,mixed_bfloat16",
                   help="with --backends: the precisions to time")
    p.add_argument("--profile", action="store_true",
                   help="instead of a run: where one epoch's time goes (TensorFlow)")
    p.add_argument("--verbose", type=int, default=0, help="fit's verbosity")
    p.add_argument("--json-out", default=None, help="also write the results to this file")
    p.add_argument("--backend", default=None, help="applied by scripts/bench.py")
    return p


def resolve(args):
    """The run's settings: the recipe of `--target`, overridden by the options given."""
    from zoo.jobs.job_args import parse_model_args

    recipe = dict(RECIPES[args.target])
    for key in ("model", "epochs", "batch_size", "optimizer", "max_lr", "momentum",
                "weight_decay", "label_smoothing", "ema", "pct_start", "anneal", "precision",
                "tta", "steps_per_execution", "schedule", "fused_batch_norm"):
        value = getattr(args, key)
        if value is not None:
            recipe[key] = value
    # the recipe's constructor arguments belong to the recipe's model
    base = RECIPES[args.target]["model_args"] if recipe["model"] == RECIPES[args.target][
        "model"] else {}
    recipe["model_args"] = {**base, **parse_model_args(args.model_arg)}
    recipe["seeds"] = parse_seeds(args.seeds)
    check_recipe(recipe, args)
    return recipe


def parse_seeds(text):
    try:
        seeds = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds):
        raise UserValueError(f"`--seeds` must be comma-separated ints >= 0. Received: {text!r}")
    return seeds


def check_recipe(r, args):
    for name in ("epochs", "batch_size", "steps_per_execution"):
        if r[name] <= 0:
            raise UserValueError(f"`--{name.replace('_', '-')}` must be > 0. Received: {r[name]}")
    if not r["max_lr"] > 0:
        raise UserValueError(f"`--max-lr` must be > 0. Received: {r['max_lr']}")
    for name in ("label_smoothing", "ema", "momentum"):
        if not 0 <= r[name] < 1:
            raise UserValueError(f"`--{name.replace('_', '-')}` must be in [0, 1). "
                                 f"Received: {r[name]}")
    if not 0 < r["pct_start"] < 1:
        raise UserValueError(f"`--pct-start` must be in (0, 1). Received: {r['pct_start']}")
    if r["weight_decay"] < 0:
        raise UserValueError(f"`--weight-decay` must be >= 0. Received: {r['weight_decay']}")
    if not 0 <= args.holdout < 60000:
        raise UserValueError(f"`--holdout` must be in [0, 60000). Received: {args.holdout}")
    if args.limit is not None and args.limit <= 0:
        raise UserValueError(f"`--limit` must be > 0. Received: {args.limit}")


def machine():
    """Cores, CPU model and versions: where the seconds were measured."""
    import keras

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "keras": keras.__version__, "backend": keras.backend.backend(),
            "backend_version": _backend_version(keras.backend.backend())}


def _backend_version(name):
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[name]
    return getattr(sys.modules.get(module) or __import__(module), "__version__", "?")


def holdout_indices(n, holdout):
    """(kept, held out) indices of n training images; the same for every --seed."""
    import numpy as np

    order = np.random.default_rng(HOLDOUT_SEED).permutation(n)
    return np.sort(order[holdout:]), order[:holdout]


def splits(holdout, limit):
    """(train arrays, scored arrays, what is scored): the test split only without --holdout."""
    import zoo

    (xtr, ytr), test = zoo.datasets.load_arrays("fashion_mnist")
    if holdout:
        kept, scored = holdout_indices(len(xtr), holdout)
        train, scored = (xtr[kept], ytr[kept]), (xtr[scored], ytr[scored])
        what = f"holdout ({holdout} of the training images)"
    else:
        train, scored, what = (xtr, ytr), test, "test"
    if limit:
        train, scored = tuple(a[:limit] for a in train), tuple(a[:limit] for a in scored)
    return train, scored, what


def _timer(keras):
    class StepTimer(keras.callbacks.Callback):
        """Wall and CPU clocks at the start of fit, after its first step, at the end."""

        # run off the training thread: keras then needs no sync after every step
        async_safe = True

        def on_train_begin(self, logs=None):
            self.marks = {"begin": _clocks()}

        def on_train_batch_end(self, batch, logs=None):
            if "first_step" not in self.marks:
                self.marks["first_step"] = _clocks()

        def on_train_end(self, logs=None):
            self.marks["end"] = _clocks()

    return StepTimer()


def _clocks():
    return time.perf_counter(), time.process_time()


def _with_labels(dataset, smoothing, num_classes):
    """One-hot labels where label smoothing needs them (the sparse loss has no smoothing)."""
    if not smoothing:
        return dataset
    import tensorflow as tf

    return dataset.map(lambda x, y: (x, tf.one_hot(y, num_classes)))


TTA_WEIGHTS = {
    "none": {"image": 1.0},
    "flip": {"image": 0.5, "mirror": 0.5},
    "flip_translate": {"image": 0.25, "mirror": 0.25, "down_right": 0.125,
                       "down_right_mirror": 0.125, "up_left": 0.125, "up_left_mirror": 0.125},
}


def tta_view(images, name):
    """One view of uint8 NHWC `images`: itself, its mirror, shifted by one pixel (zero fill)."""
    import numpy as np

    base = name.replace("mirror", "").strip("_") or "image"
    if base != "image":
        padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
        h, w = images.shape[1:3]
        offset = 0 if base == "down_right" else 2
        images = padded[:, offset:offset + h, offset:offset + w]
    if name.endswith("mirror"):
        images = images[:, :, ::-1]
    return images


def accuracies(model, x, y, levels, batch_size):
    """{TTA level: accuracy} for each of `levels`: the weighted mean softmax of its views.

    The levels share views (the image, its mirror, ...): each is predicted once.
    """
    import keras

    probs = {}
    out = {}
    for level in levels:
        total = 0.0
        for name, weight in TTA_WEIGHTS[level].items():
            if name not in probs:
                view = tta_view(x, name).astype("float32") / 255.0
                logits = model.predict(view, batch_size=batch_size, verbose=0)
                probs[name] = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
            total = total + weight * probs[name]
        out[level] = float((total.argmax(-1) == y).mean())
    return out


def build(recipe, seed):
    """The recipe's model, compiled, with its schedule callback."""
    import keras

    import callbacks
    import zoo
    from zoo.models.batch_normalization import BatchNormalization

    keras.utils.set_random_seed(seed)
    model = zoo.create(recipe["model"], input_shape=(28, 28, 1), num_classes=10,
                       **recipe["model_args"])
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            layer.fused = recipe["fused_batch_norm"]  # read when the step is traced
    ema = {"use_ema": True, "ema_momentum": recipe["ema"]} if recipe["ema"] else {}
    decay = {"weight_decay": recipe["weight_decay"]} if recipe["weight_decay"] else {}
    optimizer = (keras.optimizers.Adam(**ema, **decay) if recipe["optimizer"] == "adam"
                 else keras.optimizers.SGD(momentum=recipe["momentum"], nesterov=True,
                                           **ema, **decay))
    loss = (keras.losses.CategoricalCrossentropy(from_logits=True,
                                                 label_smoothing=recipe["label_smoothing"])
            if recipe["label_smoothing"] else None)  # None: the family's sparse cross-entropy
    model.compile(optimizer=optimizer, loss=loss, metrics=[],
                  steps_per_execution=recipe["steps_per_execution"])
    if recipe["schedule"] == "constant":
        optimizer.learning_rate = recipe["max_lr"]
        return model, keras.callbacks.Callback()  # nothing to install
    momentum = (recipe["momentum"] - 0.1, recipe["momentum"])
    schedule = callbacks.Scheduler(callbacks.OneCycle(
        recipe["max_lr"], pct_start=recipe["pct_start"], anneal=recipe["anneal"],
        momentum=momentum))
    return model, schedule


def train_pipeline(recipe, x, y, seed):
    import zoo

    return _with_labels(zoo.datasets.pipeline(x, y, recipe["batch_size"], shuffle=True,
                                              seed=seed),
                        recipe["label_smoothing"], 10)


def run_seed(recipe, seed, data, verbose=0, all_tta=False):
    """Trains the recipe with `seed` on data[0], scores data[1]; a result dict."""
    import keras

    (xtr, ytr), (xs, ys) = data
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(recipe["precision"])
    try:
        load_before = os.getloadavg()
        model, schedule = build(recipe, seed)
        train = train_pipeline(recipe, xtr, ytr, seed)
        timer = _timer(keras)
        fit_start = _clocks()
        # shuffle=False: the pipeline shuffles (keras would warn that it ignores it)
        model.fit(train, epochs=recipe["epochs"], callbacks=[schedule, timer],
                  verbose=verbose, shuffle=False)
        fit_end = _clocks()
        load_after = os.getloadavg()
        start = _clocks()
        levels = sorted(TTA) if all_tta else sorted({"none", recipe["tta"]})
        scores = accuracies(model, xs, ys, levels, 1000)
        score = _clocks()
    finally:
        keras.config.set_dtype_policy(policy)
    marks = timer.marks
    return {
        "seed": seed, "params": model.count_params(),
        "first_step_s": marks["first_step"][0] - marks["begin"][0],
        "train_s": marks["end"][0] - marks["first_step"][0],
        "train_cpu_s": marks["end"][1] - marks["first_step"][1],
        "first_step_cpu_s": marks["first_step"][1] - marks["begin"][1],
        "fit_s": fit_end[0] - fit_start[0],
        "score_s": score[0] - start[0], "score_cpu_s": score[1] - start[1],
        "accuracy": scores[recipe["tta"]], "accuracy_plain": scores["none"],
        "accuracy_by_tta": scores,
        "load_before": list(load_before), "load_after": list(load_after),
    }


def run(args):
    recipe = resolve(args)
    (xtr, ytr), (xs, ys), scored = splits(args.holdout, args.limit)
    runs = [run_seed(recipe, seed, ((xtr, ytr), (xs, ys)), args.verbose, bool(args.holdout))
            for seed in recipe["seeds"]]
    accs, times = [r["accuracy"] for r in runs], [r["train_s"] for r in runs]
    return {
        "target": float(args.target), "target_seconds": recipe["seconds"],
        "recipe": {k: v for k, v in recipe.items() if k not in ("seeds", "seconds")},
        "model": recipe["model"], "model_args": recipe["model_args"],
        "params": runs[0]["params"], "tta": TTA[recipe["tta"]],
        "trained_on": len(xtr), "scored": scored, "scored_images": len(xs), "limit": args.limit,
        "runs": runs,
        "accuracy_mean": sum(accs) / len(accs), "accuracy_min": min(accs),
        "train_s_mean": sum(times) / len(times), "train_s_max": max(times),
        "machine": machine(), "date": datetime.date.today().isoformat(),
    }


def _schedule(rec):
    if rec["schedule"] == "constant":
        return f"at a constant learning rate {rec['max_lr']:g}"
    return (f"one-cycle max_lr {rec['max_lr']:g} (warm-up {rec['pct_start']:g}, "
            f"{rec['anneal']})")


def _other_levels(run, level):
    others = {k: v for k, v in run["accuracy_by_tta"].items() if k not in (level, "none")}
    return "".join(f", TTA {k} {v:.4f}" for k, v in sorted(others.items()))


def _fmt_load(values):
    return "/".join(f"{v:.2f}" for v in values)


def report(r):
    rec, m = r["recipe"], r["machine"]
    lines = [
        f"speedrun (target {r['target']:g} in {r['target_seconds']:g} s): {r['model']} "
        f"{r['model_args']} ({r['params']:,} params), {rec['precision']}, {rec['epochs']} "
        f"epochs, batch {rec['batch_size']}, {rec['optimizer']} {_schedule(rec)}, momentum "
        f"{rec['momentum']:g}, weight decay {rec['weight_decay']:g}, label smoothing "
        f"{rec['label_smoothing']:g}, EMA {rec['ema']:g}, fused batch norm "
        f"{rec['fused_batch_norm']}, steps_per_execution "
        f"{rec['steps_per_execution']}; trained on {r['trained_on']:,} images; "
        f"scored on {r['scored']}, {r['scored_images']:,} images, TTA: {r['tta']}",
    ]
    for run in r["runs"]:
        lines.append(
            f"seed {run['seed']}: {r['scored']} accuracy {run['accuracy']:.4f} (without TTA "
            f"{run['accuracy_plain']:.4f}{_other_levels(run, r['recipe']['tta'])}); training "
            f"{run['train_s']:.1f} s wall after the "
            f"first step (first step, trace + compile: {run['first_step_s']:.1f} s), process "
            f"CPU {run['train_cpu_s']:.1f} s (+ {run['first_step_cpu_s']:.1f} s); scoring "
            f"{run['score_s']:.1f} s; load before {_fmt_load(run['load_before'])}, after "
            f"{_fmt_load(run['load_after'])}")
    lines.append(f"over {len(r['runs'])} seed(s): accuracy mean {r['accuracy_mean']:.4f}, min "
                 f"{r['accuracy_min']:.4f}; training s mean {r['train_s_mean']:.1f}, max "
                 f"{r['train_s_max']:.1f}")
    lines.append(f"machine: nproc {m['nproc']}, {m['cpu']}; load average (1/5/15 min) per "
                 f"seed above; {m['backend']} {m['backend_version']}, keras {m['keras']}; "
                 f"{r['date']}")
    if r["scored"] == "test" and not r["limit"]:
        met = {True: "met", False: "NOT met"}
        lines.append(
            f"targets: every seed's test accuracy >= {r['target']:g}: "
            f"{met[r['accuracy_min'] >= r['target']]}; every training <= "
            f"{r['target_seconds']:g} s: {met[r['train_s_max'] <= r['target_seconds']]}"
            " (wall time: only on a quiet machine, see the load)")
    return "\n".join(lines)


# ---------------------------------------------------------------------- backends table
def run_backends(args, argv):
    """Times the recipe on each backend x precision, one subprocess each; a result dict."""
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    for name, values, known in (("backends", backends, BACKENDS),
                                ("precisions", precisions, PRECISIONS)):
        bad = [v for v in values if v not in known]
        if not values or bad:
            raise UserValueError(f"`--{name}` must list some of {list(known)}. Received: "
                                 f"{','.join(values)!r}")
    recipe = resolve(args)
    limit = args.limit or 15000
    passthrough = _strip(argv, ("--backends", "--precisions", "--limit", "--json-out",
                                "--precision", "--epochs", "--seeds", "--backend"))
    rows = []
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "bench.py")
    for backend in backends:
        for precision in precisions:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "run.json")
                cmd = [sys.executable, script, "speedrun", "--backend", backend,
                       "--precision", precision, "--limit", str(limit), "--epochs", "1",
                       "--seeds", str(recipe["seeds"][0]), "--json-out", out, *passthrough]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode:
                    rows.append({"backend": backend, "precision": precision,
                                 "error": (proc.stderr or proc.stdout).strip()[-300:]})
                    continue
                with open(out) as f:
                    r = json.load(f)
            one = r["runs"][0]
            steps = -(-r["trained_on"] // recipe["batch_size"]) - 1  # after the first
            full_steps = recipe["epochs"] * -(-60000 // recipe["batch_size"])
            rows.append({
                "backend": backend, "precision": precision,
                "version": r["machine"]["backend_version"],
                "ms_step": 1000 * one["train_s"] / steps,
                "cpu_ms_step": 1000 * one["train_cpu_s"] / steps,
                "first_step_s": one["first_step_s"],
                "projected_s": one["train_s"] / steps * full_steps,
                "load": one["load_before"][0], "load_after": one["load_after"][0],
            })
    return {"recipe": {k: v for k, v in recipe.items() if k not in ("seeds",)},
            "timed_images": limit, "rows": rows, "machine": machine(),
            "date": datetime.date.today().isoformat()}


def _strip(argv, flags):
    """argv without `flags` and their values."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        name = item.split("=", 1)[0]
        if name in flags:
            skip = "=" not in item and name != "--profile"
            continue
        out.append(item)
    return out


def report_backends(r):
    rec = r["recipe"]
    lines = [f"speedrun backends: {rec['model']} {rec['model_args']}, batch {rec['batch_size']}"
             f", one epoch of {r['timed_images']:,} images each; projected = ms/step x "
             f"{rec['epochs']} epochs of 60,000",
             "| backend | precision | ms/step (wall) | CPU ms/step | first step s "
             "| projected training s | load before/after |",
             "|---|---|---:|---:|---:|---:|---|"]
    for row in r["rows"]:
        if "error" in row:
            lines.append(f"| {row['backend']} | {row['precision']} | failed: "
                         f"{row['error'].splitlines()[-1] if row['error'] else '?'} |||||")
            continue
        lines.append(f"| {row['backend']} {row['version']} | {row['precision']} | "
                     f"{row['ms_step']:.1f} | {row['cpu_ms_step']:.1f} | "
                     f"{row['first_step_s']:.1f} | {row['projected_s']:.0f} | "
                     f"{row['load']:.2f} / {row['load_after']:.2f} |")
    m = r["machine"]
    lines.append(f"machine: nproc {m['nproc']}, {m['cpu']}; keras {m['keras']}; {r['date']}")
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[2:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.backends:
        result = run_backends(args, argv)
        text = report_backends(result)
    elif args.profile:
        result = profile(resolve(args), args)
        text = report_profile(result)
    else:
        result = run(args)
        text = report(result)
    result["command"] = " ".join(["python scripts/bench.py speedrun", *argv])
    print(text, flush=True)
    if args.json_out:
        write_output_json(args.json_out, result)
    return 0


# ---------------------------------------------------------------------- profile
PROFILE_PARTS = ("data pipeline", "forward (with the loss)", "backward", "optimizer",
                 "other in the step", "callbacks", "host overhead")


def profile(recipe, args, window=20):
    """Where a step of the recipe's second epoch goes, from TensorFlow's profiler trace.

    Three epochs of `fit` on the recipe's training data: the first compiles; the
    second is timed whole (wall and CPU per step); a window of `window` steps in the
    third is traced. The trace's kernels are summed by what they belong to (the
    backward pass under `gradient_tape/`, the optimizer's update under its name, the
    forward pass and loss under the model's and the loss's names); tf.data's work
    is summed over its threads; the callbacks are timed around their batch hooks;
    host overhead is the step's wall time less the time inside the compiled step.
    Kernels of one step run on both cores at once, so the parts' sum exceeds the
    step's wall time on 2 cores.
    """
    import keras
    import tensorflow as tf

    from zoo.training.guard import NonFiniteGuard

    if keras.backend.backend() != "tensorflow":
        raise UserValueError("`--profile` reads TensorFlow's profiler trace: run it with "
                             "`--backend tensorflow`. "
                             f"Received: backend={keras.backend.backend()!r}")
    (xtr, ytr), _, _ = splits(args.holdout, args.limit)
    seed = recipe["seeds"][0]
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(recipe["precision"])
    logdir = tempfile.mkdtemp(prefix="speedrun-profile-")
    try:
        model, schedule = build(recipe, seed)
        train = train_pipeline(recipe, xtr, ytr, seed)
        start = _clocks()
        batches = sum(1 for _ in train)
        end = _clocks()
        data_alone = ((end[0] - start[0]) / batches, (end[1] - start[1]) / batches)
        spe = recipe["steps_per_execution"]
        window = max(1, min(window, batches // spe - 2))
        first = max(1, (batches // spe - window) // 2)

        class Probe(keras.callbacks.Callback):
            """Epoch clocks; starts and stops the profiler around `window` steps of epoch 3."""

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch, self.begin = epoch, _clocks()

            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    self.epoch2 = [b - a for a, b in zip(self.begin, _clocks())]

            def on_train_end(self, logs=None):
                if self.tracing:
                    tf.profiler.experimental.stop()
                    self.tracing = False

            tracing = False

            def on_train_batch_begin(self, batch, logs=None):
                if self.epoch == 2 and batch == first * spe:
                    tf.profiler.experimental.start(logdir)
                    self.tracing = True
                elif self.tracing and batch == (first + window) * spe:
                    tf.profiler.experimental.stop()
                    self.tracing = False

        probe = Probe()
        spent = {"callbacks": 0.0}
        timed = _time_batch_hooks([schedule, probe], spent)
        original = NonFiniteGuard.on_train_batch_end

        def guard_end(self, batch, logs=None):
            t = time.perf_counter()
            try:
                return original(self, batch, logs)
            finally:
                spent["callbacks"] += time.perf_counter() - t

        NonFiniteGuard.on_train_batch_end = guard_end
        try:
            model.fit(train, epochs=3, callbacks=timed, verbose=0, shuffle=False)
        finally:
            NonFiniteGuard.on_train_batch_end = original
        steps_per_epoch = batches
        parts, step_fn = _trace_parts(logdir, model, window * spe)
    finally:
        keras.config.set_dtype_policy(policy)
    wall, cpu = (v / steps_per_epoch for v in probe.epoch2)
    parts = {
        "data pipeline": parts.pop("data"),
        "forward (with the loss)": parts.pop("forward"),
        "backward": parts.pop("backward"),
        "optimizer": parts.pop("optimizer"),
        "other in the step": parts.pop("other"),
        "callbacks": spent["callbacks"] / (3 * steps_per_epoch),
        "host overhead": parts.pop("host"),
    }
    return {"recipe": {k: v for k, v in recipe.items() if k != "seeds"},
            "steps_per_epoch": steps_per_epoch, "traced_steps": window * spe,
            "step_wall_s": wall, "step_cpu_s": cpu, "step_function_s": step_fn,
            "data_alone_s": data_alone[0], "data_alone_cpu_s": data_alone[1],
            "parts_s": parts, "load": list(os.getloadavg()), "machine": machine(),
            "date": datetime.date.today().isoformat()}


def _time_batch_hooks(callbacks, spent):
    """The callbacks with their batch hooks timed into spent["callbacks"] (same objects)."""
    for callback in callbacks:
        for hook in ("on_train_batch_begin", "on_train_batch_end"):
            method = getattr(callback, hook)
            if getattr(type(callback), hook) is getattr(type(callback).__mro__[-2], hook,
                                                        None):
                continue  # keras's no-op default: timing it would only make it sync

            def timed(batch, logs=None, _method=method):
                t = time.perf_counter()
                try:
                    return _method(batch, logs)
                finally:
                    spent["callbacks"] += time.perf_counter() - t

            setattr(callback, hook, timed)
    return callbacks


def _trace_parts(logdir, model, steps):
    """({part: seconds per step}, compiled step's seconds per step) from the trace.

    "host": the gaps between the compiled step's calls on the Python thread.
    """
    import glob

    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    space = xplane_pb2.XSpace()
    with open(files[0], "rb") as f:
        space.ParseFromString(f.read())
    parts = dict.fromkeys(("data", "forward", "backward", "optimizer", "other"), 0.0)
    step_fn = host = 0.0
    optimizer = f"/{model.optimizer.name}/"
    for plane in space.planes:
        names = plane.event_metadata
        for line in plane.lines:
            events = sorted(line.events, key=lambda e: e.offset_ps)
            if line.name.startswith("tf_data"):
                parts["data"] += _outermost_ps(events) / 1e12
            elif line.name.startswith("python"):
                calls = [e for e in events if names[e.metadata_id].name.startswith(
                    ("multi_step_on_iterator", "one_step_on_iterator"))]
                if calls:
                    inside = sum(e.duration_ps for e in calls)
                    span = calls[-1].offset_ps + calls[-1].duration_ps - calls[0].offset_ps
                    # the gaps between the compiled calls: the fit loop, callbacks, dispatch
                    gaps = (span - inside) * len(calls) / max(1, len(calls) - 1)
                    step_fn, host = inside / 1e12, gaps / 1e12
            elif line.name.startswith("tf_Compute") or line.name.startswith("tf_inter"):
                for e in events:
                    name = names[e.metadata_id].name
                    if ":" not in name or "ExecutorState" in name:
                        continue  # the executor's own spans wrap the kernels
                    parts[_part(name, model.name, optimizer)] += e.duration_ps / 1e12
    parts["host"] = host
    return {k: v / steps for k, v in parts.items()}, step_fn / steps


def _outermost_ps(events):
    """Summed duration of the events not nested inside another (sorted by start)."""
    total, end = 0, -1
    for e in events:
        stop = e.offset_ps + e.duration_ps
        if e.offset_ps >= end:
            total += e.duration_ps
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def _part(name, model_name, optimizer):
    if "gradient_tape/" in name:
        return "backward"
    if optimizer in name:
        return "optimizer"
    if f"/{model_name}" in name or "compile_loss" in name:
        return "forward"
    return "other"


def report_profile(r):
    rec = r["recipe"]
    wall = r["step_wall_s"]
    lines = [f"speedrun profile: {rec['model']} {rec['model_args']}, {rec['precision']}, batch "
             f"{rec['batch_size']}, steps_per_execution {rec['steps_per_execution']}; "
             f"{r['steps_per_epoch']} steps per epoch, {r['traced_steps']} traced",
             f"step: {1000 * wall:.1f} ms wall, {1000 * r['step_cpu_s']:.1f} ms process CPU "
             f"(epoch 2 whole); inside the compiled step {1000 * r['step_function_s']:.1f} ms "
             f"(traced window: its kernels, and the host overhead between its calls); the data "
             f"pipeline alone {1000 * r['data_alone_s']:.2f} ms "
             f"wall, {1000 * r['data_alone_cpu_s']:.2f} ms CPU per batch",
             "| part | ms per step | share of the step's wall time |", "|---|---:|---:|"]
    for part in PROFILE_PARTS:
        value = r["parts_s"][part]
        lines.append(f"| {part} | {1000 * value:.2f} | {value / wall:.0%} |")
    m = r["machine"]
    lines.append(f"kernel times are summed over the threads that ran them (both cores): "
                 f"their sum can exceed the wall time; load at the end {_fmt_load(r['load'])}; "
                 f"nproc {m['nproc']}, {m['cpu']}, {m['backend']} {m['backend_version']}, "
                 f"keras {m['keras']}; {r['date']}")
    return "\n".join(lines)

"""`scripts/bench.py mlp`: the seed's eager loop vs keras fit vs the zoo MLP, one process.

Rows, all on real Fashion-MNIST, the seed's 784-256-128-64-32-10 network, Adam 1e-3:
  (a) the seed's eager `tf.GradientTape` loop over a per-element `map` pipeline;
  (b) a plain `keras.Sequential` with `fit` on the zoo pipeline;
  (c) the zoo MLP with `fit` on the zoo pipeline;
  (d) the same as (c) without the non-finite-weights stop (`check_finite_weights=False`).
Rows (b), (c) and (d) train epoch by epoch in turn (b's epoch 1, c's, d's, b's epoch 2,
...), so that load from other programs falls on all alike. Prints seconds per epoch
(median of the epochs after the first, which traces) and process CPU seconds per epoch
(all threads; less sensitive than wall time to other load), test accuracy after the run,
and the ratios c/b (target <= 1.05; wall and CPU), c/d (the stop's cost, <= 1.03) and a/c
(>= 8).
"""

import statistics
import time

from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json


def _sequential(keras, hidden=(256, 128, 64, 32)):
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(u, activation="relu") for u in hidden]
    layers += [keras.layers.Dense(10)]
    return keras.Sequential(layers)


class _EpochTimer:
    def __init__(self, keras):
        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(cb, epoch, logs=None):
                cb.start, cb.cpu_start = time.perf_counter(), time.process_time()

            def on_epoch_end(cb, epoch, logs=None):
                cb.times.append(time.perf_counter() - cb.start)
                cb.cpu.append(time.process_time() - cb.cpu_start)

        self.callback = Timer()
        self.callback.times, self.callback.cpu = [], []


def run_fits(keras, runs, epochs):
    """Trains each (model, train, test) of `runs` one epoch in turn; returns, per run,
    (wall seconds per epoch, CPU seconds per epoch, test accuracy)."""
    timers = {}
    for key, (model, _, _) in runs.items():
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        timers[key] = _EpochTimer(keras).callback
    for epoch in range(epochs):
        for key, (model, train, _) in runs.items():
            # shuffle=False: the dataset shuffles itself (keras would warn that it ignores it)
            model.fit(train, epochs=epoch + 1, initial_epoch=epoch, callbacks=[timers[key]],
                      verbose=0, shuffle=False)
    results = {}
    for key, (model, _, test) in runs.items():
        acc = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
        results[key] = (timers[key].times, timers[key].cpu, float(acc))
    return results


def run_eager(keras, tf, arrays, epochs, batch_size, seed):
    """The seed's loop: per-element map, Python loop, GradientTape, no tf.function."""
    (xtr, ytr), (xte, yte) = arrays

    def normalize(x, y):
        return tf.cast(x, tf.float32) / 255.0, y

    train = (
        tf.data.Dataset.from_tensor_slices((xtr, ytr))
        .map(normalize)
        .shuffle(10000, seed=seed)
        .batch(batch_size)
    )
    model = _sequential(keras)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(1e-3)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for x, y in train:
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        times.append(time.perf_counter() - start)
    logits = model.predict(xte.astype("float32") / 255.0, batch_size=1024, verbose=0)
    acc = float((logits.argmax(-1) == yte).mean())
    return times, acc


def build_parser():
    parser = ArgumentParser(prog="bench.py mlp", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-eager", action="store_true", help="omit row (a), the slow one")
    parser.add_argument("--json-out", default=None)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch traces and is not timed)")

    import keras
    import tensorflow as tf

    import zoo

    if keras.backend.backend() != "tensorflow":
        parser.error(
            "the mlp suite compares against the seed's TensorFlow loop: use the tensorflow backend"
        )
    arrays = zoo.datasets.load_arrays("fashion_mnist")
    rows = {}

    runs = {}
    for key, build in (("b", lambda: _sequential(keras)), ("c", lambda: zoo.create("mlp")),
                       ("d", lambda: zoo.create("mlp"))):
        keras.utils.set_random_seed(args.seed)  # the same initial weights
        train, test = zoo.datasets.load("fashion_mnist", batch_size=args.batch_size,
                                        seed=args.seed)
        runs[key] = (build(), train, test)
    runs["d"][0].check_finite_weights = False  # what the non-finite stop costs: c/d
    rows.update(run_fits(keras, runs, args.epochs))

    if not args.skip_eager:
        keras.utils.set_random_seed(args.seed)
        times, acc = run_eager(keras, tf, arrays, args.epochs, args.batch_size, args.seed)
        rows["a"] = (times, None, acc)

    names = {
        "a": "seed eager GradientTape loop, per-element map",
        "b": "keras.Sequential fit, zoo pipeline",
        "c": "zoo mlp fit, zoo pipeline",
        "d": "(c) without the non-finite stop",
    }
    per_epoch = {k: statistics.median(row[0][1:]) for k, row in rows.items()}
    cpu = {k: statistics.median(row[1][1:]) for k, row in rows.items() if row[1]}
    print(
        f"Fashion-MNIST MLP 784-256-128-64-32-10, Adam 1e-3, batch {args.batch_size}, "
        f"{args.epochs} epochs, keras {keras.__version__}, TF {tf.__version__}"
    )
    print(f"{'row':<4}{'setup':<48}{'s/epoch':>9}{'CPU s':>8}{'test acc':>10}")
    for key in ("a", "b", "c", "d"):
        if key in rows:
            cpu_text = f"{cpu[key]:>8.3f}" if key in cpu else f"{'-':>8}"
            print(f"({key}) {names[key]:<48}{per_epoch[key]:>9.3f}{cpu_text}"
                  f"{rows[key][2]:>10.4f}")
    ratios = {"c/b": per_epoch["c"] / per_epoch["b"], "c/b CPU": cpu["c"] / cpu["b"],
              "c/d": per_epoch["c"] / per_epoch["d"], "c/d CPU": cpu["c"] / cpu["d"]}
    if "a" in rows:
        ratios["a/c"] = per_epoch["a"] / per_epoch["c"]
    print(
        "ratios: "
        + ", ".join(f"{k} = {v:.3f}" for k, v in ratios.items())
        + "   (targets: c/b <= 1.05, c/d <= 1.03, a/c >= 8)"
    )
    if args.json_out:
        write_output_json(args.json_out, {
            "s_per_epoch": per_epoch,
            "cpu_s_per_epoch": cpu,
            "accuracy": {k: v[2] for k, v in rows.items()},
            "epoch_times": {k: v[0] for k, v in rows.items()},
            "ratios": ratios,
        })
    return 0

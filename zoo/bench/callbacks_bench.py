"""`scripts/bench.py callbacks`: cost of the shared callbacks per epoch, side by side.

Trains the Fashion-MNIST MLP (784-256-128-64-32-10, SGD, batch 128) with each
callback set in turn, in one process, interleaved over `--repeats` rounds, and
prints the median and the minimum seconds per epoch (epochs after the first,
so tracing is excluded; the minimum is the least disturbed by other load) and
their ratios to no callbacks.

    python scripts/bench.py callbacks [--repeats 3] [--epochs 2] [--limit N] [--only TensorBoard]
"""

import statistics
import tempfile
import time

from zoo.utils.command_line import ArgumentParser


class _EpochTimer:
    def __init__(self):
        import keras

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(s, epoch, logs=None):
                s.t0 = time.perf_counter()

            def on_epoch_end(s, epoch, logs=None):
                s.times.append(time.perf_counter() - s.t0)

        self.callback = Timer()
        self.callback.times = []


def _configs(run_dir, epoch_var):
    import keras

    import callbacks

    def sched():
        return callbacks.Scheduler(callbacks.OneCycle(0.1))

    return {
        "none": lambda: [],
        "Scheduler(OneCycle)": lambda: [sched()],
        "Checkpoint": lambda: [callbacks.Checkpoint(f"{run_dir}/ck", keep=2)],
        "TensorBoard(update_freq=1)": lambda: [
            callbacks.TensorBoard(f"{run_dir}/tb1", update_freq=1)
        ],
        "TensorBoard(update_freq=50)": lambda: [
            callbacks.TensorBoard(f"{run_dir}/tb50", update_freq=50)
        ],
        "keras TensorBoard(update_freq=1)": lambda: [
            keras.callbacks.TensorBoard(f"{run_dir}/ktb", update_freq=1)
        ],
        "standard_callbacks(update_freq=1)": lambda: callbacks.standard_callbacks(
            f"{run_dir}/std1", schedule=callbacks.OneCycle(0.1), update_freq=1, data_epoch=epoch_var
        ),
        "standard_callbacks(update_freq=50)": lambda: callbacks.standard_callbacks(
            f"{run_dir}/std50",
            schedule=callbacks.OneCycle(0.1),
            update_freq=50,
            data_epoch=epoch_var,
        ),
    }


def build_parser():
    p = ArgumentParser(prog="bench.py callbacks", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=2, help="epochs per fit (the first is not timed)")
    p.add_argument("--limit", type=int, default=None, help="first N training examples only")
    p.add_argument(
        "--only",
        default=None,
        help="comma-separated substrings: run only the matching sets (and 'none')",
    )
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)

    import keras
    import tensorflow as tf

    import zoo

    (xtr, ytr), (xte, yte) = zoo.datasets.load_arrays("fashion_mnist")
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    train = zoo.datasets.pipeline(xtr, ytr, 128, seed=0, epoch=epoch_var)
    test = zoo.datasets.pipeline(xte, yte, 128, shuffle=False)
    times = {}
    with tempfile.TemporaryDirectory() as run_dir:
        configs = _configs(run_dir, epoch_var)
        if args.only:
            keys = [k.strip() for k in args.only.split(",")]
            configs = {n: m for n, m in configs.items() if n == "none" or any(k in n for k in keys)}
        for _ in range(args.repeats):
            for name, make in configs.items():
                keras.utils.set_random_seed(0)
                model = zoo.create("mlp")
                model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
                timer = _EpochTimer().callback
                model.fit(
                    train,
                    validation_data=test,
                    epochs=args.epochs,
                    verbose=0,
                    callbacks=make() + [timer],
                )
                times.setdefault(name, []).extend(timer.times[1:])
    base = statistics.median(times["none"])
    print(
        f"backend {keras.backend.backend()}, keras {keras.__version__}, "
        f"{len(xtr)} training examples, batch 128, {args.repeats} repeats"
    )
    best = min(times["none"])
    print(
        f"{'callbacks':40s} {'median s/epoch':>15s} {'ratio':>6s} "
        f"{'min s/epoch':>12s} {'ratio':>6s}"
    )
    for name, ts in times.items():
        med, low = statistics.median(ts), min(ts)
        print(f"{name:40s} {med:15.3f} {med / base:6.2f} {low:12.3f} {low / best:6.2f}")
    return 0

"""`scripts/bench.py reliability`: what the zoo's safety checks cost, side by side.

    python scripts/bench.py reliability [--model mlp] [--rounds 3] [--hash-mb 100]

`steps` times a training epoch of the model on Fashion-MNIST (the zoo's own
tf.data pipeline) with and without each check, variants interleaved round by
round, and prints seconds and process CPU seconds per epoch with their ratios
to the run without checks: the non-finite weights test inside the step
(`check_finite_weights`, on by default) and the per-batch input assertions in
the pipeline (`data_checks="every_batch"`, opt-in), then the CPU cost of the
pipeline alone with and without them, and the one-pass check of the whole
numpy training array. `hash` times sha256 of a
`--hash-mb` file against loading as many bytes of weights into resnet50
(`load_weights`), the choice behind hashing weights on every load.
"""

import os
import statistics
import tempfile
import time

from zoo.errors import UserValueError
from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json

VARIANTS = {
    "no checks": dict(check_finite_weights=False, data_checks="first_batch"),
    "finite-weights test (default)": dict(check_finite_weights=True, data_checks="first_batch"),
    "input checks on every batch": dict(check_finite_weights=False, data_checks="every_batch"),
    "both": dict(check_finite_weights=True, data_checks="every_batch"),
}


def build_parser():
    p = ArgumentParser(prog="bench.py reliability", description=__doc__.splitlines()[0])
    p.add_argument("part", nargs="?", choices=["all", "steps", "hash"], default="all")
    p.add_argument("--model", default="mlp", help="registered name trained in `steps`")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--rounds", type=int, default=3, help="timed epochs per variant")
    p.add_argument("--limit", type=int, default=None, help="training examples (default: all)")
    p.add_argument("--hash-mb", type=int, default=100)
    p.add_argument("--json-out", default=None)
    return p


def _epoch_seconds(args, variant, train):
    import zoo

    model = zoo.create(args.model)
    for key, value in variant.items():
        setattr(model, key, value)
    model.compile()
    model.fit(train, epochs=1, verbose=0, shuffle=False)  # traces the step
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(train, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start, time.process_time() - cpu


def steps(args):
    import zoo

    train, _, _, sizes = zoo.datasets.load_split("fashion_mnist", batch_size=args.batch_size,
                                                 limit=args.limit)
    walls = {name: [] for name in VARIANTS}
    cpus = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, variant in VARIANTS.items():
            wall, cpu = _epoch_seconds(args, variant, train)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(walls["no checks"])
    base_cpu = statistics.median(cpus["no checks"])
    steps_per_epoch = -(-sizes["train"] // args.batch_size)
    print(f"{args.model}, Fashion-MNIST {sizes['train']} examples, batch {args.batch_size} "
          f"({steps_per_epoch} steps), median of {args.rounds} epochs; CPU: the process's "
          "CPU seconds (all threads), less sensitive than wall time to other load")
    print(f"{'variant':36s} {'s/epoch':>8s} {'ratio':>7s} {'CPU s':>8s} {'CPU ratio':>9s}")
    rows = {}
    for name in VARIANTS:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        rows[name] = {"seconds_per_epoch": wall, "ratio": wall / base, "cpu_seconds": cpu,
                      "cpu_ratio": cpu / base_cpu, "all": walls[name], "all_cpu": cpus[name]}
        print(f"{name:36s} {wall:8.3f} {wall / base:7.3f} {cpu:8.3f} {cpu / base_cpu:9.3f}")
    rows["pipeline only"] = _pipeline_cpu(args, train)
    (x, y), _ = zoo.datasets.load_arrays("fashion_mnist")
    x = (x / 255.0).astype("float32")
    model = zoo.create(args.model)
    from zoo.training import input_checks as checks

    start = time.perf_counter()
    checks.prepare_data(model, x, y)
    whole = time.perf_counter() - start
    rows["numpy array check"] = {"seconds": whole, "ratio_to_epoch": whole / base}
    print(f"numpy check of the whole training array: {whole:.3f} s "
          f"({whole / base:.3f} of an epoch, once per fit)")
    return rows


def _pipeline_cpu(args, train):
    """CPU seconds to draw one epoch of batches, bare and with the per-batch checks."""
    import zoo
    from zoo.training import input_checks as checks

    model = zoo.create(args.model)
    checked = checks.prepare_data(model, train)
    out = {}
    for name, dataset in (("bare", train), ("checked", checked)):
        runs = []
        for _ in range(args.rounds):
            cpu = time.process_time()
            for _ in dataset:
                pass
            runs.append(time.process_time() - cpu)
        out[name] = statistics.median(runs)
    print(f"the pipeline alone, CPU s/epoch: bare {out['bare']:.3f}, with the per-batch "
          f"checks {out['checked']:.3f} (+{out['checked'] - out['bare']:.3f})")
    return out


def hash_cost(args):
    import numpy as np

    import zoo
    from zoo.utils.files import sha256_file

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.path.join(tmp, "blob.bin")
        with open(blob, "wb") as f:
            f.write(np.random.default_rng(0).bytes(args.hash_mb * 2**20))
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            sha256_file(blob)
            runs.append(time.perf_counter() - start)
        results["sha256_seconds"] = statistics.median(runs)
        model = zoo.create("resnet50")
        path = os.path.join(tmp, "resnet50.weights.h5")
        model.save_weights(path)
        size = os.path.getsize(path)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            model.load_weights(path)
            runs.append(time.perf_counter() - start)
        load = statistics.median(runs)
        start = time.perf_counter()
        sha256_file(path)
        file_hash = time.perf_counter() - start
    results.update({"weights_file_bytes": size, "load_weights_seconds": load,
                    "sha256_of_that_file_seconds": file_hash})
    print(f"sha256 of {args.hash_mb} MiB: {results['sha256_seconds']:.3f} s "
          f"({args.hash_mb / results['sha256_seconds']:.0f} MiB/s)")
    print(f"resnet50 weights file {size / 2**20:.1f} MiB: load_weights {load:.3f} s, "
          f"sha256 {file_hash:.3f} s, ratio hash/load {file_hash / load:.3f}")
    return results


def main(argv=None):
    args = build_parser().parse_args(argv)
    for flag in ("batch_size", "rounds", "hash_mb"):
        if getattr(args, flag) <= 0:
            raise UserValueError(f"`--{flag.replace('_', '-')}` must be > 0. "
                                 f"Received: {getattr(args, flag)}")
    out = {"load_average": os.getloadavg(), "cpus": os.cpu_count()}
    print(f"load average {out['load_average'][0]:.2f} on {out['cpus']} CPUs")
    if args.part in ("all", "steps"):
        out["steps"] = steps(args)
    if args.part in ("all", "hash"):
        out["hash"] = hash_cost(args)
    out["load_average_after"] = os.getloadavg()
    print(f"load average after: {out['load_average_after'][0]:.2f}")
    if args.json_out:
        write_output_json(args.json_out, out)
    return 0

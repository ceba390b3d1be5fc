"""`scripts/bench.py distribute`: training examples/s, data-parallel over 1, 2, 4 devices.

Rows, each in its own process(es) on JAX (the device count is fixed before JAX
starts), the same model, data and global batch, set up by `zoo.jobs.distributed_plan`
as `scripts/train.py` does:
  none: one device, no distribution (`--distribute none`);
  1, 2, 4: keras's `DataParallel` over 1, 2, 4 virtual CPU devices
  (`--xla_force_host_platform_device_count`) in one process;
  2x1: 2 processes x 1 device on 127.0.0.1 (jax.distributed over loopback).
Examples/s = the training examples of an epoch / the median time of the epochs
after the first (which compiles). Virtual CPU devices share the same cores: the
figures show the cost of splitting a batch, not a speed-up. On a GPU host,
`--real-devices --rows none,1` times one GPU without and with data_parallel.

    python scripts/bench.py distribute [--model mlp] [--batch-size 256] [--epochs 4]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

from zoo.utils.command_line import ArgumentParser
from zoo.utils.ownership import write_output_json

# "none": no distribution; "D": D devices in one process; "PxD": P processes of D devices
ROWS = ("none", "1", "2", "4", "2x1")


def build_parser():
    p = ArgumentParser(prog="bench.py distribute", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="mlp", help="registered name (default mlp)")
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--batch-size", type=int, default=256, help="global batch")
    p.add_argument("--epochs", type=int, default=4, help=">= 2; the first is not timed")
    p.add_argument("--limit", type=int, default=None, help="first N examples only")
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of {ROWS}")
    p.add_argument("--real-devices", action="store_true",
                   help="use the host's devices as they are (no virtual CPU devices)")
    p.add_argument("--backend", choices=["jax"], default="jax",
                   help="the rows run on JAX (keras.distribution), whatever the parent uses")
    p.add_argument("--json-out", default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # "process,count,port"
    p.add_argument("--distribute", default="data_parallel", help=argparse.SUPPRESS)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.worker:
        return _worker(args)
    if args.epochs < 2:
        raise SystemExit("error: --epochs must be >= 2 (the first epoch compiles, untimed)")
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    for row in rows:
        if row not in ROWS:
            raise SystemExit(f"error: unknown row. Received: --rows {args.rows!r}; known {ROWS}")
    results = {row: _measure(row, args) for row in rows}
    base = results.get("none", results.get("1", {})).get("examples_per_second")
    print(f"{args.model} on {args.dataset}, global batch {args.batch_size}, {args.epochs} "
          f"epochs (first untimed), JAX, keras.distribution.DataParallel")
    print(f"{'setup':<40}{'examples/s':>12}{'vs ' + rows[0]:>13}")
    for row, result in results.items():
        rate = result["examples_per_second"]
        ratio = f"{rate / base:>13.3f}" if base else f"{'-':>13}"
        print(f"{_label(row):<40}{rate:>12.0f}{ratio}")
    if args.json_out:
        write_output_json(args.json_out, {"args": vars(args), "results": results})
    return 0


def _label(row):
    if row == "none":
        return "1 process, 1 device, no distribution"
    if "x" in row:
        processes, devices = row.split("x")
        return f"{processes} processes x {devices} device(s), loopback"
    return f"1 process, {row} device(s)"


def _measure(row, args):
    if row == "none":
        processes, devices = 1, 1
    else:
        processes, devices = (int(v) for v in row.split("x")) if "x" in row else (1, int(row))
    port = _free_port()
    env = dict(os.environ, KERAS_BACKEND="jax")  # zoo filters TF's start-up notices
    if not args.real_devices:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "")
                            + f" --xla_force_host_platform_device_count={devices}").strip()
    forwarded = ["--distribute", "none" if row == "none" else "data_parallel",
                 "--model", args.model, "--dataset", args.dataset,
                 "--batch-size", str(args.batch_size), "--epochs", str(args.epochs)]
    if args.limit:
        forwarded += ["--limit", str(args.limit)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "zoo.bench.distribute_bench", *forwarded,
             "--worker", f"{i},{processes},{port}"],
            env=env, stdout=subprocess.PIPE, text=True,
        )
        for i in range(processes)
    ]
    outputs = [w.communicate()[0] for w in workers]
    if any(w.returncode for w in workers):
        raise SystemExit(f"error: the {row} row failed (exit {[w.returncode for w in workers]})")
    line = next(ln for ln in outputs[0].splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(args):
    """One process of a row: trains with `fit` and prints `RESULT {...}` (process 0)."""
    import keras

    import zoo
    from zoo.jobs import distributed_plan as distribute
    from zoo.jobs import train
    from zoo.jobs.job_args import dataset_model_kwargs

    process, processes, port = (int(v) for v in args.worker.split(","))
    job = ["--distribute", args.distribute, "--batch-size", str(args.batch_size)]
    if processes > 1:
        job += ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(processes),
                "--process-id", str(process), "--run-dir", "unused"]
    job_args = train.build_parser().parse_args([args.model, *job])
    plan = distribute.start(distribute.plan(job_args, keras.backend.backend()), job_args)
    keras.utils.set_random_seed(0)
    info = zoo.datasets.info(args.dataset)
    model = zoo.create(args.model, **dataset_model_kwargs(args.model, info, {}))
    train_data, _, _, sizes = zoo.datasets.load_split(
        args.dataset, batch_size=args.batch_size, validation_split=0, limit=args.limit,
        **plan.data_options())
    model.adapt(train_data)
    model.compile(optimizer="adam", **plan.compile_options(model))
    times = []

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(train_data, epochs=args.epochs, verbose=0, shuffle=False, callbacks=[EpochTimes()])
    examples, last = sizes["train"], sizes["train"] % args.batch_size
    if last % plan.devices and plan.mode == "data_parallel":
        examples -= last  # a last batch the devices do not divide is dropped
    if process == 0:
        result = {"examples_per_second": examples / statistics.median(times[1:]),
                  "epoch_seconds": times, "examples_per_epoch": examples,
                  "devices": plan.devices, "processes": plan.num_processes}
        print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

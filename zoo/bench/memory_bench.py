"""`scripts/bench.py memory`: peak memory and step time of a transformer with and without remat.

Each configuration trains in its own process (so that one's memory does not hide the
other's): the model is built (`zoo.create(MODEL, remat=...)`, random weights), compiled
with AdamW, one step runs (tracing, optimizer variables), then `--steps` timed steps on
random images of `--batch-size`. Reported per configuration: the process's peak resident
memory (`ru_maxrss`), the resident memory after the first step, and the median step time.
The process's peak covers everything it holds (the framework, weights, optimizer slots,
activations); the difference between the two configurations is what remat saves.

```sh
python scripts/bench.py memory                      # vit_b_16, batch 8, TensorFlow
python scripts/bench.py memory --backend jax
```
"""

import json
import os
import subprocess
import sys

from zoo.utils.command_line import ArgumentParser
from zoo.utils.files import write_json_atomic
from zoo.errors import UserValueError

_CHILD = r"""
import json, resource, sys, time
import numpy as np, keras, zoo
name, remat, batch, steps, size = sys.argv[1], sys.argv[2] == "1", *map(int, sys.argv[3:6])
keras.utils.set_random_seed(0)
model = zoo.create(name, remat=remat, input_shape=(size, size, 3))
model.compile(optimizer=keras.optimizers.AdamW(1e-4))
rng = np.random.default_rng(0)
x = rng.random((batch, size, size, 3), dtype="float32")
y = rng.integers(0, model.output_shape[-1], batch)
built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model.train_on_batch(x, y)
first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = []
for _ in range(steps):
    start = time.perf_counter()
    model.train_on_batch(x, y)
    times.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RESULT " + json.dumps({"built_mib": built / 1024, "first_step_peak_mib": first / 1024,
                              "peak_mib": peak / 1024, "step_s": float(np.median(times)),
                              "steps": steps}))
"""


def build_parser():
    p = ArgumentParser(prog="bench.py memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="vit_b_16", help="a transformer family's name")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--steps", type=int, default=3, help="timed steps after the first")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--backend", default=None, help="applied by scripts/bench.py")
    return p


def measure(model, remat, batch_size, steps, image_size):
    """One configuration's figures, measured in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, model, "1" if remat else "0", str(batch_size),
         str(steps), str(image_size)],
        capture_output=True, text=True, env=dict(os.environ), check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise RuntimeError(f"the measuring process failed (exit {out.returncode}):\n"
                           f"{out.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main(argv=None):
    import keras

    import zoo

    args = build_parser().parse_args(argv)
    for flag, value in (("--batch-size", args.batch_size), ("--steps", args.steps),
                        ("--image-size", args.image_size)):
        if not value > 0:
            raise UserValueError(f"`{flag}` must be > 0. Received: {flag}={value}")
    if "remat" not in zoo.registry.get(args.model).cls.function_preserving_arguments:
        raise UserValueError(f"`--model` must be a model with a `remat` option. "
                             f"Received: --model={args.model}")
    print(f"{args.model}, batch {args.batch_size}, {args.image_size}x{args.image_size}, "
          f"{keras.backend.backend()} on CPU; {args.steps} timed steps after the first")
    results = {}
    for remat in (False, True):
        r = measure(args.model, remat, args.batch_size, args.steps, args.image_size)
        results["remat" if remat else "plain"] = r
        print(f"remat={remat!s:5s} peak {r['peak_mib']:8.0f} MiB  (after the first step "
              f"{r['first_step_peak_mib']:.0f} MiB, built {r['built_mib']:.0f} MiB)  "
              f"step {r['step_s']:.2f} s", flush=True)
    plain, remat = results["plain"], results["remat"]
    print(f"remat / plain: peak x{remat['peak_mib'] / plain['peak_mib']:.3f}, "
          f"step time x{remat['step_s'] / plain['step_s']:.3f}")
    if args.json:
        write_json_atomic(args.json, {"model": args.model, "batch_size": args.batch_size,
                                      "backend": keras.backend.backend(), **results})
    return 0

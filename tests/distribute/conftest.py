"""The loopback runs behind tests/distribute, started once, in parallel where they can be.

JAX must see its (virtual) devices before it starts, so every data-parallel run is
a subprocess with `KERAS_BACKEND=jax` and `XLA_FLAGS` set, whichever pytest pass
runs these tests (they are not marked `jax`: they run once, in the TensorFlow pass).

`loopback` runs, on 127.0.0.1, with Fashion-MNIST cut by `--limit`:
  - the devices script (one process, 4 virtual devices: 5a, BatchNorm, padding,
    the batch check) which also trains the one-process reference with train.py;
  - "full": two processes x 2 devices, uninterrupted (5b);
  - "killed": the same command, process 1 SIGKILLs itself in epoch 2 (5c), then
    "resumed": both rerun with --resume;
  - bad input: two processes with different commands, a process 1 whose
    coordinator does not answer, a process 0 whose peer never comes.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TRAIN = HERE / "distribute_train_script.py"
# compile-time options only (both sides of every comparison use them): a third of
# the XLA CPU compile time, which dominates these small runs on 2 cores
FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
# 540 training examples (9 global batches of 60), 60 validation, 600 test: every
# evaluation split divides by the 4 devices, so the runs compare exactly
COMMON = [
    "mlp", "--backend", "jax", "--dataset", "fashion_mnist", "--limit", "600",
    "--epochs", "2", "--batch-size", "60", "--optimizer", "sgd", "--lr", "0.05",
    "--model-arg", "hidden_units=(64,32)", "--verbose", "0", "--seed", "3",
]
KILL = "1:1:3"  # process 1, epoch index 1 (the second), after its step 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jax_env(devices, **extra):
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="jax",
        XLA_FLAGS=f"--xla_force_host_platform_device_count={devices} {FAST_COMPILE}",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        PYTHONUNBUFFERED="1",
    )
    env.pop("ZOO_TEST_KILL", None)
    env.update(extra)
    return env


class Run:
    """A subprocess with its output in a file and the time it ended."""

    def __init__(self, name, argv, env, folder):
        self.name = name
        self.log = Path(folder) / f"{name}.log"
        self.started = time.time()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, *map(str, argv)], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.ended = None
        self.cpu_seconds = None
        self.waiter = threading.Thread(target=self._wait, daemon=True)
        self.waiter.start()

    def _wait(self):
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.ended = time.time()
        self.cpu_seconds = usage.ru_utime + usage.ru_stime

    def finish(self, timeout=600):
        self.waiter.join(timeout)
        if self.ended is None:
            self.process.kill()
            self.waiter.join()
        return self

    @property
    def returncode(self):
        return self.process.returncode

    @property
    def output(self):
        return self.log.read_text(errors="replace")


def pair(name, folder, run_dir, extra=(), kill=None, devices=2, extra_for=((), ())):
    port = free_port()
    runs = []
    for process in range(2):
        argv = [TRAIN, *COMMON, *extra, *extra_for[process], "--distribute", "data_parallel",
                "--run-dir", run_dir, "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
                "--process-id", str(process)]
        env = jax_env(devices, **({"ZOO_TEST_KILL": kill} if kill else {}))
        runs.append(Run(f"{name}-{process}", argv, env, folder))
    return runs


@pytest.fixture(scope="session")
def loopback(tmp_path_factory):
    top = tmp_path_factory.mktemp("loopback")
    logs = top / "logs"
    logs.mkdir()
    result = {"dirs": {k: top / k for k in ("reference", "full", "killed")}, "kill": KILL}
    # stage 1: the devices script (in two processes, so that the longest run is
    # shorter), the uninterrupted pair and the pair that loses a process
    script = HERE / "distribute_devices_script.py"
    devices = [
        Run("devices-a", [script, "--only", "mlp,resnet20,batch_check", "--reference",
                          result["dirs"]["reference"], *COMMON], jax_env(4), logs),
        Run("devices-b", [script, "--only", "mlp_float16_clip_momentum,vae,wgan_gp,"
                          "lstm,batch_norm,padded_evaluation"],
            jax_env(4), logs),
    ]
    full = pair("full", logs, result["dirs"]["full"])
    killed = pair("killed", logs, result["dirs"]["killed"], kill=KILL)
    for run in killed + full:
        run.finish()
    # stage 2: both processes resume; bad input beside them
    resumed = pair("resumed", logs, result["dirs"]["killed"], extra=["--resume"])
    mismatched = pair("mismatched", logs, top / "mismatched", extra_for=((), ("--lr", "0.06")))
    closed = free_port()
    lone = [
        Run("unreachable", [TRAIN, *COMMON, "--distribute", "data_parallel", "--run-dir",
                            top / "unreachable", "--coordinator", f"127.0.0.1:{closed}",
                            "--num-processes", "2", "--process-id", "1", "--init-timeout", "3"],
            jax_env(1), logs),
        Run("alone", [TRAIN, *COMMON, "--distribute", "data_parallel", "--run-dir", top / "alone",
                      "--coordinator", f"127.0.0.1:{free_port()}", "--num-processes", "2",
                      "--process-id", "0", "--init-timeout", "3"], jax_env(1), logs),
    ]
    for run in [*devices, *resumed, *mismatched, *lone]:
        run.finish()
    result.update(reference=devices[0], full=full, killed=killed, resumed=resumed,
                  mismatched=mismatched, unreachable=lone[0], alone=lone[1])
    runs = [*devices, *full, *killed, *resumed, *mismatched, *lone]
    (logs / "timings.json").write_text(json.dumps(
        {r.name: {"cpu": round(r.cpu_seconds, 1), "wall": round(r.ended - r.started, 1)}
         for r in runs}, indent=1))
    result["devices"] = {}
    for run in devices:
        line = next((ln for ln in run.output.splitlines() if ln.startswith("RESULTS ")), None)
        assert line, run.output[-5000:]
        result["devices"].update(json.loads(line[len("RESULTS "):])["results"])
    return result

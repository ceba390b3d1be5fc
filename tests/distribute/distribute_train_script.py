"""`scripts/train.py`'s job with an optional self-kill, for the loopback tests.

    ZOO_TEST_KILL=PROCESS:EPOCH:STEP python distribute_train_script.py <train.py arguments>

The process whose `--process-id` is PROCESS sends itself SIGKILL after step STEP
(0-based) of epoch EPOCH (0-based): a host lost mid-epoch, at a known point.
Without ZOO_TEST_KILL it is `scripts/train.py`. Either way it saves the final
weights of process 0 to RUN_DIR/final-<process id>.npz.
"""

import os
import signal
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from _backend import apply_backend_flag  # noqa: E402


def main():
    argv = sys.argv[1:]
    apply_backend_flag(argv)
    import keras

    from zoo.jobs import train

    args = train.build_parser().parse_args(argv)
    kill = os.environ.get("ZOO_TEST_KILL")
    me = args.process_id or 0

    class KillAt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            process, epoch, step = (int(v) for v in kill.split(":"))
            if me == process and self.epoch == epoch and batch == step:
                print(f"process {me}: SIGKILL at epoch {epoch} step {step}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

    return train.main(argv, extra_callbacks=[KillAt()] if kill else [])


if __name__ == "__main__":
    sys.exit(main())

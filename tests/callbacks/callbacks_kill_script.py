"""scripts/train.py's job, made to stop inside epoch 3 once, for the kill-and-resume test.

    python callbacks_kill_script.py MARKER_DIR <train.py arguments>

The first time it runs (no MARKER_DIR/held), it writes MARKER_DIR/held after
the second step of epoch 3 and waits there to be killed. Run again with the
same command, it trains on (from its checkpoint, with `--resume`) and saves
the final weights to RUN_DIR/final.npz. Waiting changes no number.
"""

import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from _backend import apply_backend_flag  # noqa: E402


def main():
    marker_dir, argv = sys.argv[1], sys.argv[2:]
    apply_backend_flag(argv)
    import keras
    import numpy as np

    from zoo.jobs import train

    held = os.path.join(marker_dir, "held")

    class HoldInEpoch3(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 2 and batch == 1 and not os.path.exists(held):
                open(held, "w").close()
                time.sleep(120)  # the test kills us here
                sys.exit("not killed")

    args = train.build_parser().parse_args(argv)
    model, _, run_dir = train.run(args, argv, extra_callbacks=[HoldInEpoch3()])
    np.savez(os.path.join(run_dir, "final.npz"), *model.get_weights())


if __name__ == "__main__":
    main()

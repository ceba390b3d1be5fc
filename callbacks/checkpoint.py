"""`Checkpoint`: best model by a metric, latest training state every epoch, exact resume."""

import glob
import json
import math
import os
import re
import time
import warnings

import keras

from callbacks._common import DeepCopyable, iterations, to_float
from zoo import compat
from zoo.errors import UserValueError
from zoo.training import distribution
from zoo.utils.files import TEMPORARY_PREFIX, atomic_path, sha256_file, write_json_atomic
from zoo.utils.ownership import is_temporary, plain_name

_STATE = re.compile(r"^state-(\d+)\.json$")


class Checkpoint(DeepCopyable, keras.callbacks.Callback):
    """Saves the best model and the latest training state; resumes from it.

    Every epoch end writes `state-EEEEE.weights.h5` (model weights, optimizer
    state including `iterations`, metric state: keras `save_weights`) and then
    `state-EEEEE.json` (epoch, iterations, best value, history, SHA-256 of the
    weights file), keeping the last `keep`. When `monitor` improves,
    `best.keras` (the whole model) and `best.json` are written. Every file is
    written under a temporary name, synced, then renamed into place, and a
    state counts only once its JSON exists and the weights match its hash,
    so a run killed at any moment leaves no half-written file taken as valid.

    With `resume=True`, `on_train_begin` loads the newest valid state (falling
    back to older ones if it is damaged) and makes fit start at the next epoch,
    as keras `BackupAndRestore` does. In a multi-process run only process 0
    writes (the weights are replicated, so its files hold the full state);
    every process restores, from the same shared `directory`, and they must
    agree on the state they restored. Schedules resume with it: their position
    is the restored `optimizer.iterations`. Place `Scheduler` before this
    callback. For the same data order after a restart, shuffle with an epoch
    variable (`zoo.datasets.load(..., epoch=v)` and `DataEpoch(v)`).

    Args:
        directory: folder of the checkpoints (created).
        monitor: log key deciding the best model, e.g. "val_loss", "val_accuracy".
        mode: "min", "max" or "auto" (min for losses/errors, max for accuracy, AUC, ...).
        keep: how many latest states to keep, an int > 0.
        save_best: write `best.keras` when `monitor` improves.
        resume: restore the newest valid state at the start of fit. When False,
            the checkpoints an earlier run left in `directory` are removed.
        verbose: 1 prints saves and restores.

    Example:

    ```python
    ckpt = Checkpoint("runs/r18/checkpoints", monitor="val_accuracy", resume=True)
    model.fit(train, validation_data=test, epochs=10, callbacks=[ckpt])
    ```
    """

    def __init__(
        self,
        directory,
        monitor="val_loss",
        mode="auto",
        keep=3,
        save_best=True,
        resume=False,
        verbose=0,
    ):
        super().__init__()
        if not directory:
            raise UserValueError(
                f"`directory` must be a non-empty path. Received: directory={directory!r}"
            )
        if mode not in ("auto", "min", "max"):
            raise UserValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise UserValueError(f"`keep` must be an int >= 1. Received: keep={keep!r}")
        self.directory = str(directory)
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.keep = keep
        self.save_best = save_best
        self.resume = resume
        self.verbose = verbose
        self.best = None
        self.best_epoch = None
        self.history = []
        self.restored_epoch = None
        self.writer = True  # this process writes the files (process 0 of a run)
        self._warned_missing = False

    # ------------------------------------------------------------------ paths
    def state_paths(self, epoch):
        """(weights file, JSON file) of the state after `epoch` epochs."""
        base = os.path.join(self.directory, f"state-{epoch:05d}")
        return base + ".weights.h5", base + ".json"

    @property
    def best_path(self):
        return os.path.join(self.directory, "best.keras")

    def valid_states(self):
        """[(epoch, metadata)] of the states that pass every check, newest first."""
        found = []
        for path in glob.glob(os.path.join(self.directory, "state-*.json")):
            match = _STATE.match(os.path.basename(path))
            if not match:
                continue
            meta = self._read_valid(path)
            if meta is not None:
                found.append((int(match.group(1)), meta))
        return sorted(found, key=lambda item: -item[0])

    def _read_valid(self, json_path):
        try:
            with open(json_path) as f:
                meta = json.load(f)
            # a record names a file of this folder, nothing else
            weights = os.path.join(self.directory, plain_name(meta["weights"], "weights"))
            if os.path.getsize(weights) != meta["size"] or sha256_file(weights) != meta["sha256"]:
                raise ValueError("weights file does not match its recorded size and SHA-256")
            return meta
        except (OSError, ValueError, KeyError, TypeError) as err:
            warnings.warn(f"Checkpoint: ignoring {json_path}: {err}", stacklevel=3)
            return None

    # ------------------------------------------------------------------ training
    def on_train_begin(self, logs=None):
        self.writer = distribution.is_chief()
        os.makedirs(self.directory, exist_ok=True)
        if self.writer:
            _remove_temporaries(self.directory)
        self.history = []
        self.restored_epoch = None
        if not self.resume:
            if self.writer:
                self._remove_states()
            self.best = self.best_epoch = None
            return
        chosen = next(iter(self.valid_states()), None)
        if distribution.process_count() > 1:
            # every process must continue from the same state: a run directory that is
            # not shared, or a state that changed while the processes read it, ends here
            distribution.check_same_on_every_process(
                "the checkpoint they resume from",
                chosen[1]["sha256"] if chosen else "0" * 16,
                hint=f"Give every process the same --run-dir on a shared file system "
                f"(this one sees {self.directory}: "
                f"{'state after epoch %d' % chosen[0] if chosen else 'no state'}).",
            )
        if chosen is not None:
            self._restore(*chosen)

    def _restore(self, epoch, meta):
        model = self.model
        optimizer = model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        weights = os.path.join(self.directory, meta["weights"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(weights)
        got = iterations(model)
        if got != meta["iterations"]:
            detail = "; ".join(str(w.message) for w in caught)
            raise RuntimeError(
                f"Checkpoint {weights} restored the weights but not the optimizer state "
                f"(iterations {got}, saved {meta['iterations']}). The optimizer differs from "
                "the one saved: compile it the same way and place `Scheduler` before "
                "`Checkpoint`, since installing a schedule changes the optimizer's variables. "
                f"{detail}"
            )
        for w in caught:  # restored fine: pass keras's warnings on
            warnings.warn(w.message, w.category, stacklevel=2)
        compat.set_initial_epoch(model, epoch)  # fit continues after the restored epoch
        self.best = meta.get("best")
        self.best_epoch = meta.get("best_epoch")
        self.history = list(meta.get("history", []))
        self.restored_epoch = epoch
        if self.verbose:
            print(f"Checkpoint: resumed after epoch {epoch} (iterations {got}) from {weights}")

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        done = epoch + 1
        self.history.append({k: _finite_or_str(to_float(v)) for k, v in logs.items()})
        if self.save_best:
            self._maybe_save_best(done, logs)
        if self.writer:
            self._write_state(done)
            self._prune()

    def on_train_end(self, logs=None):
        if self.restored_epoch is not None:
            compat.set_initial_epoch(self.model, None)  # a later fit() starts where asked

    def _maybe_save_best(self, epoch, logs):
        if self.monitor not in logs:
            if not self._warned_missing:
                warnings.warn(
                    f"Checkpoint: `monitor`={self.monitor!r} is not in the logs "
                    f"({sorted(logs)}); no best model is saved.",
                    stacklevel=2,
                )
                self._warned_missing = True
            return
        value = to_float(logs[self.monitor])
        if math.isnan(value):
            return
        better = (
            self.best is None
            or (self.mode == "min" and value < self.best)
            or (self.mode == "max" and value > self.best)
        )
        if not better:
            return
        self.best, self.best_epoch = value, epoch
        if not self.writer:
            return
        with atomic_path(self.best_path) as tmp, distribution.local_only():
            self.model.save(tmp)
        write_json_atomic(
            os.path.join(self.directory, "best.json"),
            {"epoch": epoch, "monitor": self.monitor, "value": value, "mode": self.mode},
        )
        if self.verbose:
            print(f"Checkpoint: {self.monitor} improved to {value:.6g}; saved {self.best_path}")

    def _write_state(self, epoch):
        weights, meta_path = self.state_paths(epoch)
        with atomic_path(weights) as tmp, distribution.local_only():
            self.model.save_weights(tmp)
            digest, size = sha256_file(tmp), os.path.getsize(tmp)
        meta = {
            "format": 1,
            "epoch": epoch,
            "iterations": iterations(self.model),
            "weights": os.path.basename(weights),
            "sha256": digest,
            "size": size,
            "monitor": self.monitor,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "backend": keras.backend.backend(),
            "keras_version": keras.__version__,
            "time": time.time(),
        }
        # the JSON is the commit record: written last, it makes the state valid
        write_json_atomic(meta_path, meta)
        if self.verbose:
            print(f"Checkpoint: saved state after epoch {epoch} to {weights}")

    def _prune(self):
        epochs = sorted(
            int(m.group(1))
            for m in (
                _STATE.match(os.path.basename(p))
                for p in glob.glob(os.path.join(self.directory, "state-*.json"))
            )
            if m
        )
        for epoch in epochs[: -self.keep]:
            weights, meta_path = self.state_paths(epoch)
            for path in (meta_path, weights):  # JSON first: the state stops being valid at once
                if os.path.exists(path):
                    os.remove(path)

    def _remove_states(self):
        paths = glob.glob(os.path.join(self.directory, "state-*"))
        paths += [self.best_path, os.path.join(self.directory, "best.json")]
        for path in paths:
            if os.path.exists(path):
                os.remove(path)


def _resolve_mode(monitor, mode):
    if mode != "auto":
        return mode
    name = str(monitor).lower()
    if name.endswith(("loss", "error")) or "error" in name:
        return "min"
    if any(key in name for key in ("acc", "auc", "precision", "recall", "f1", "iou")):
        return "max"
    raise UserValueError(
        f"Cannot tell whether `monitor`={monitor!r} should be minimised or maximised; "
        f"pass mode='min' or mode='max'. Received: mode={mode!r}"
    )


def _finite_or_str(value):
    return value if math.isfinite(value) else str(value)


def _remove_temporaries(directory):
    """Deletes files left by a writer that was killed before its rename."""
    for path in glob.glob(os.path.join(directory, TEMPORARY_PREFIX + "*")):
        if not is_temporary(os.path.basename(path)):
            continue
        try:
            os.remove(path)
        except OSError:
            pass

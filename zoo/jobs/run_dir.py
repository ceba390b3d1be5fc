"""The run directory of `scripts/train.py`: never silently destroyed, one run at a time,
and a resume refused when it would continue under other settings.

```python
run = RunDirectory("runs/mlp", resume=args.resume, overwrite=args.overwrite)
run.check()                 # before anything is built: refusals change nothing on disk
...                         # model, optimizer, data
run.open(config)            # drift check, lock, writability probes, then config.json
try:
    model.fit(...)
finally:
    run.close()
```

- The directory's manifest (`zoo.utils.ownership`) lists what the zoo writes there;
  a directory holding anything else is refused, `--overwrite` included, naming it.
- A directory that holds a run (checkpoint states, `model.keras`, `best.keras`)
  refuses a fresh start unless `--resume` (continue it) or `--overwrite` (delete
  what the manifest lists of the run first) is given.
- A lock (`.zoo-run.lock`, `fcntl.flock`, holding the owner's pid) makes a second
  run in the same directory refuse while the first is alive; the kernel drops the
  lock of a process that dies, however it dies, so a stale lock file is simply
  taken over.
- `config.json` records the resolved configuration and `definition_sha256`, the
  hash of what defines the result (`definition`). `--resume` with a different
  value is refused, naming each difference, except the changes documented as
  safe (`SAFE_CHANGES`), which are recorded under `resumed`.
- Nothing is written before every check has passed.
"""

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from zoo.utils.files import jsonable, write_json_atomic
from zoo.utils.ownership import (  # noqa: F401  (LOCK_NAME, DirectoryLock: part of this API)
    LOCK_NAME,
    DirectoryLock,
    OwnedDirectory,
    OwnershipError,
    remove_temporaries,
)
from zoo.utils.records import differences

#: what the LR finder writes (all it may replace)
FIND_LR_ENTRIES = ("lr_finder.json", "lr_finder.png")
#: what a training run writes, recorded in the manifest first and removed by --overwrite
RUN_ENTRIES = ("config.json", "history.json", "metrics.json", "model.keras", *FIND_LR_ENTRIES,
               "checkpoints/", "tensorboard/", "samples-epoch*.png",
               "reconstructions-epoch*.png", "denoising-epoch*.png")
#: train.py arguments that, with the resolved model, optimizer, schedule and data,
#: define a run's result
RESULT_ARGS = ("batch_size", "seed", "epochs", "mixed_precision", "monitor")
#: what a resumed run may change, and why it is safe
SAFE_CHANGES = {
    "epochs": "a larger --epochs extends the run when no schedule spans --epochs "
              "(--schedule none, step or multistep)",
}
#: schedules whose length is taken from --epochs
_EPOCH_LONG_SCHEDULES = ("onecycle", "cosine")
_FLAGS = {"batch_size": "--batch-size", "seed": "--seed", "epochs": "--epochs",
          "mixed_precision": "--mixed-precision", "monitor": "--monitor", "dataset": "--dataset",
          "model": "MODEL", "backend": "--backend", "optimizer": "--optimizer/--lr/--momentum",
          "schedule": "--schedule and its options", "model_config": "--model-arg",
          "data": "--limit/--validation-split/--validation-seed",
          "data.fingerprint": "the content of the training data"}

#: the run directory cannot take this run (and nothing was changed)
RunDirectoryError = OwnershipError


def definition(config):
    """What defines a run's result, read from its `config.json` contents."""
    args = config.get("args", {})
    data = dict(config.get("data") or {})
    data.pop("selection", None)
    return jsonable({
        "model": config.get("model"),
        "model_config": config.get("model_config"),
        "dataset": config.get("dataset"),
        "data": data,
        "optimizer": _unnamed(config.get("optimizer")),
        "schedule": _unnamed(config.get("schedule")),
        "backend": config.get("backend"),
        **{key: args.get(key) for key in RESULT_ARGS},
    })


def _unnamed(value):
    """A serialized keras object without its `name`s: keras numbers them per process
    ("adam", "adam_1"), and a label does not change a result."""
    if isinstance(value, dict):
        return {k: _unnamed(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list):
        return [_unnamed(v) for v in value]
    return value


def definition_sha256(config):
    text = json.dumps(definition(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _label(key):
    top = key.split(".", 1)[0]
    flag = _FLAGS.get(key, _FLAGS.get(top))
    return f"{key} ({flag})" if flag and flag != key else key


class RunDirectory:
    """One run directory: the refusals, the lock and the records of `scripts/train.py`.

    Args:
        path: the directory (created by `open`).
        resume: continue the run it holds (`--resume`).
        overwrite: delete the run it holds and start afresh (`--overwrite`).
        keep_states: whether this job trains (False for `--find-lr`, which writes and
            deletes only its own `lr_finder.*` files and so may share a run's directory).
    """

    def __init__(self, path, resume=False, overwrite=False, keep_states=True):
        if resume and overwrite:
            raise RunDirectoryError(
                "`--resume` continues the run in --run-dir and `--overwrite` deletes it; "
                "pass one of them. Received: --resume --overwrite"
            )
        self.path = Path(path)
        self.resume = resume
        self.overwrite = overwrite
        self.trains = keep_states
        self.changes = {}
        self.resumed_from = None  # the epoch of the usable state a resume continues
        self.owned = OwnedDirectory(self.path, RUN_ENTRIES if keep_states else FIND_LR_ENTRIES,
                                    what="run", flag="--run-dir")
        self.lock = self.owned.lock

    # ------------------------------------------------------------------ reading
    def states(self):
        """Epochs of the checkpoint states in the directory (not yet verified)."""
        folder = self.path / "checkpoints"
        epochs = []
        for path in folder.glob("state-*.json") if folder.is_dir() else ():
            digits = path.name[len("state-"):-len(".json")]
            if digits.isdigit():
                epochs.append(int(digits))
        return sorted(epochs)

    def usable_state(self):
        """The epoch of the newest checkpoint state that passes its checks, else None."""
        import warnings

        from callbacks.checkpoint import Checkpoint

        if not self.states():
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notice below says it in one line
            valid = Checkpoint(self.path / "checkpoints").valid_states()
        return valid[0][0] if valid else None

    def held_run(self):
        """What shows the directory holds a run (empty when it holds none)."""
        found = []
        states = self.states()
        if states:
            found.append(f"checkpoint states up to epoch {states[-1]}")
        for name in ("model.keras", "checkpoints/best.keras"):
            if (self.path / name).is_file():
                found.append(name)
        return found

    def recorded_config(self):
        path = self.path / "config.json"
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise RunDirectoryError(
                f"{path} cannot be read ({err}), so a resume cannot be checked against it. "
                f"Start afresh with --overwrite or another --run-dir. "
                f"Received: --run-dir {self.path}"
            ) from None

    # ------------------------------------------------------------------ checks
    def check(self):
        """The checks that need nothing built; raises RunDirectoryError, writes nothing."""
        self.owned.check()  # a file in the way, files the zoo did not write
        if not self.path.is_dir():
            return
        if not self.lock.held:
            self.lock.check()
        held = self.held_run()
        if not self.trains or not held:
            return
        if not (self.resume or self.overwrite):
            raise RunDirectoryError(
                f"{self.path} holds a run ({', '.join(held)}). Pass --resume to continue it, "
                "or --overwrite to delete it and start afresh (or choose another --run-dir). "
                f"Received: --run-dir {self.path} without --resume or --overwrite"
            )
        if self.resume and not self.states() and (self.path / "model.keras").is_file():
            raise RunDirectoryError(
                f"{self.path} holds a finished run (model.keras) but no checkpoint state to "
                "resume from. Pass --overwrite to train afresh there, or another --run-dir. "
                f"Received: --resume --run-dir {self.path}"
            )

    def check_drift(self, config):
        """Refuses a resume whose result-defining settings differ from the recorded ones;
        returns the safe changes it accepts ({key: [recorded, now]})."""
        self.resumed_from = None
        if not (self.trains and self.resume):
            return {}
        done = self.usable_state()
        if done is None:
            return {}
        recorded = self.recorded_config()
        if recorded is None:
            raise RunDirectoryError(
                f"{self.path} has checkpoint states but no config.json, so what they were "
                "trained with is unknown. Start afresh with --overwrite or another --run-dir. "
                f"Received: --resume --run-dir {self.path}"
            )
        refused, accepted = [], {}
        for key, old, new in differences(definition(recorded), definition(config)):
            if key == "epochs" and self._epochs_change_is_safe(config, old, new, done):
                accepted[key] = [old, new]
                continue
            refused.append(f"{_label(key)}: {old!r} recorded, {new!r} now")
        if refused:
            raise RunDirectoryError(
                f"--resume would continue {self.path} (trained {done} epochs) with other "
                f"settings than it was trained with, mixing two configurations in one result: "
                f"{'; '.join(refused)}. Rerun with the recorded values (its config.json), or "
                "start afresh with --overwrite or another --run-dir. Safe to change on resume: "
                f"{'; '.join(SAFE_CHANGES.values())}; --verbose, --tensorboard, "
                "--tb-update-freq and --keep-checkpoints."
            )
        self.resumed_from = done
        return accepted

    def _epochs_change_is_safe(self, config, old, new, done):
        schedule = config.get("args", {}).get("schedule", "none")
        return (isinstance(old, int) and isinstance(new, int) and new > old
                and new > done and schedule not in _EPOCH_LONG_SCHEDULES)

    # ------------------------------------------------------------------ writing
    def open(self, config):
        """After every check: creates the directory, takes the lock, probes that the run
        can write where it will, deletes what the manifest lists of the old run with
        --overwrite, records this job's files in the manifest, writes `config.json`
        (training jobs) and returns it, completed. A refusal leaves the disk as it was."""
        self.check()
        self.changes = self.check_drift(config)
        created = self.owned.acquire()
        try:
            self.check()  # again, now that no other run can start here
            self._probe_writable()
        except BaseException:
            self.owned.give_up(created)
            raise
        try:
            # files a killed writer left before its rename: no one else writes here now
            remove_temporaries(self.path)
            remove_temporaries(self.path / "checkpoints")
            if self.overwrite:
                self.owned.remove_owned()
            self.owned.record()
            if self.trains:
                if self.resume and self.resumed_from is None:
                    print(f"--resume: {self.path} holds no usable checkpoint state; the run "
                          "starts afresh and is not recorded as a resume.", file=sys.stderr)
                config = self._record(config)
                write_json_atomic(self.path / "config.json", config)
        except BaseException:
            self.close()
            raise
        return config

    def _record(self, config):
        config = dict(config)
        config["definition"] = definition(config)
        config["definition_sha256"] = definition_sha256(config)
        recorded = self.recorded_config() if self.resumed_from is not None else None
        if recorded is not None:
            config["created"] = recorded.get("created")
            config["resumed"] = list(recorded.get("resumed", [])) + [{
                "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "command": config.get("command"),
                "after_epoch": self.resumed_from,
                "changed": self.changes,
            }]
        else:
            config["created"] = time.strftime("%Y-%m-%d %H:%M:%S")
        return config

    def close(self):
        """Releases the lock."""
        self.lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _probe_writable(self):
        """Creates and deletes a file where the run will write, so an unwritable place
        fails now rather than after an epoch (and before anything is deleted)."""
        folders = [self.path] + ([self.path / "checkpoints"] if self.trains else [])
        for folder in folders:
            target = folder if folder.is_dir() else folder.parent
            try:
                with tempfile.TemporaryFile(dir=target, prefix=".zoo-probe-"):
                    pass
            except OSError as err:
                raise RunDirectoryError(
                    f"The run cannot write in {target} ({err.strerror or err}). "
                    f"Received: --run-dir {self.path}"
                ) from None

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

- A directory that holds a run (checkpoint states, `model.keras`, `best.keras`)
  refuses a fresh start unless `--resume` (continue it) or `--overwrite` (delete
  the run's files first) is given.
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

import fcntl
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from zoo.errors import UserValueError
from zoo.utils.files import TEMPORARY_PREFIX, jsonable, write_json_atomic
from zoo.utils.records import differences

LOCK_NAME = ".zoo-run.lock"
#: what a run writes, removed by --overwrite (folders: all of them)
RUN_FILES = ("config.json", "history.json", "metrics.json", "model.keras", "lr_finder.json",
             "lr_finder.png")
RUN_FOLDERS = ("checkpoints", "tensorboard")
RUN_PATTERNS = ("samples-epoch*.png", "reconstructions-epoch*.png", "denoising-epoch*.png")
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
          "data": "--limit/--validation-split/--validation-seed"}


class RunDirectoryError(UserValueError):
    """The run directory cannot take this run (and nothing was changed)."""


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
    flag = _FLAGS.get(top)
    return f"{key} ({flag})" if flag and flag != key else key


class RunDirectory:
    """One run directory: the refusals, the lock and the records of `scripts/train.py`.

    Args:
        path: the directory (created by `open`).
        resume: continue the run it holds (`--resume`).
        overwrite: delete the run it holds and start afresh (`--overwrite`).
        keep_states: whether this job trains (False for `--find-lr`, which reads and
            deletes nothing of a run and so may share its directory).
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
        self.lock = DirectoryLock(self.path, what="run")

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
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(
                f"`--run-dir` must be a directory; {self.path} is a file. "
                f"Received: --run-dir {self.path}"
            )
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
        if not (self.trains and self.resume and self.states()):
            return {}
        recorded = self.recorded_config()
        if recorded is None:
            raise RunDirectoryError(
                f"{self.path} has checkpoint states but no config.json, so what they were "
                "trained with is unknown. Start afresh with --overwrite or another --run-dir. "
                f"Received: --resume --run-dir {self.path}"
            )
        done = self.states()[-1]
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
        return accepted

    def _epochs_change_is_safe(self, config, old, new, done):
        schedule = config.get("args", {}).get("schedule", "none")
        return (isinstance(old, int) and isinstance(new, int) and new > old
                and new > done and schedule not in _EPOCH_LONG_SCHEDULES)

    # ------------------------------------------------------------------ writing
    def open(self, config):
        """After every check: creates the directory, takes the lock, probes that the run
        can write where it will, deletes the old run with --overwrite, writes
        `config.json` (training jobs) and returns it, completed."""
        self.check()
        self.changes = self.check_drift(config)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunDirectoryError(
                f"`--run-dir` {self.path} cannot be created ({err.strerror or err}). "
                f"Received: --run-dir {self.path}"
            ) from None
        self.lock.acquire()
        try:
            self.check()  # again, now that no other run can start here
            # files a killed writer left before its rename: no one else writes here now
            remove_temporaries(self.path)
            remove_temporaries(self.path / "checkpoints")
            if self.overwrite:
                self._delete_run()
            self._probe_writable()
            if self.trains:
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
        recorded = self.recorded_config() if self.resume and self.states() else None
        if recorded is not None:
            config["created"] = recorded.get("created")
            config["resumed"] = list(recorded.get("resumed", [])) + [{
                "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "command": config.get("command"),
                "after_epoch": self.states()[-1],
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

    def _delete_run(self):
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        for pattern in RUN_PATTERNS:
            for path in self.path.glob(pattern):
                path.unlink(missing_ok=True)
        for name in RUN_FOLDERS:
            if (self.path / name).is_dir():
                shutil.rmtree(self.path / name)

    def _probe_writable(self):
        """Writes and deletes a file where the run will write, so an unwritable place
        fails now rather than after an epoch."""
        folders = [self.path] + ([self.path / "checkpoints"] if self.trains else [])
        for folder in folders:
            try:
                folder.mkdir(exist_ok=True)
                with tempfile.TemporaryFile(dir=folder, prefix=".zoo-probe-"):
                    pass
            except OSError as err:
                raise RunDirectoryError(
                    f"The run cannot write in {folder} ({err.strerror or err}). "
                    f"Received: --run-dir {self.path}"
                ) from None


def remove_temporaries(folder, recursive=False):
    """Deletes the temporary files writers killed before their rename left in `folder`.
    Only for the holder of the folder's lock: anyone else may be writing them."""
    pattern = TEMPORARY_PREFIX + "*"
    for leftover in Path(folder).rglob(pattern) if recursive else Path(folder).glob(pattern):
        leftover.unlink(missing_ok=True)


class DirectoryLock:
    """One process at a time in a directory: `fcntl.flock` on `<path>/.zoo-run.lock`.

    The file records the holder's pid for the refusal's message. The kernel
    releases the lock of a process that ends, however it ends, so a lock file
    left by a killed run is stale by construction and is simply taken over. The
    file is never deleted (deleting it would let two processes lock two files).
    """

    def __init__(self, path, what="run"):
        self.path = Path(path)
        self.what = what
        self._fd = None

    @property
    def held(self):
        return self._fd is not None

    def holder(self):
        """The lock file's record when another process holds the lock, else None.
        Creates nothing."""
        try:
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def check(self):
        holder = self.holder()
        if holder is not None:
            raise RunDirectoryError(self._refusal(holder))

    def acquire(self):
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunDirectoryError(self._refusal(holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._fd = fd

    def release(self):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def _refusal(self, holder):
        return (f"{self.path} is in use by another {self.what} ({holder}); two at once in "
                "one directory would overwrite each other's files. Wait for it to end or "
                f"choose another directory. Received: {self.path}")


def _read_holder(fd):
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 200).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "pid unknown"

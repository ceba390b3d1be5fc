"""What the zoo may delete or replace: only what it wrote and recorded as its own.

Every directory a zoo job writes (a training run, a search, an exported SavedModel, a
benchmark run) carries a manifest, `.zoo-manifest.json`, listing what the zoo writes
there: files (`config.json`), folders whose whole content the zoo writes (`checkpoints/`)
and file families (`samples-epoch*.png`). It is written before those files are, so
everything the zoo leaves is listed. One guard, `OwnedDirectory`, serves every job:

```python
run = OwnedDirectory("runs/mlp", entries=("config.json", "checkpoints/"), flag="--run-dir")
run.check()               # refuses a folder holding anything else, naming it; writes nothing
with run.lock:            # one writer at a time, taken before anything is deleted
    run.remove_owned()    # --overwrite: only what the manifest lists, of this job's entries
    run.record()          # then the job writes
```

A file output (an ONNX or LiteRT artifact, a JSON report, a ported weights file)
replaces an existing file only when the zoo wrote that file and it is unchanged since:
`$ZOO_HOME/outputs.json` records the sha256 of each one written (`check_output_file`,
`record_output_file`). A file output never replaces a directory.

Every path read from a record (a manifest, a cache record, an entry) is resolved and
must stay inside its folder (`confined`), or the record is refused.
"""

import contextlib
import fcntl
import fnmatch
import json
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path, PurePosixPath

from zoo.utils.files import TEMPORARY_PREFIX, sha256_file, write_json_atomic
from zoo.errors import UserTypeError, UserValueError

MANIFEST_NAME = ".zoo-manifest.json"
LOCK_NAME = ".zoo-run.lock"
#: the names `zoo.utils.files.temporary_name` gives (pid, 8 hex digits, the final name)
_TEMPORARY = re.compile(re.escape(TEMPORARY_PREFIX) + r"\d+-[0-9a-f]{8}-")
_GLOB = re.compile(r"[*?\[]")
#: how many foreign paths a refusal names
_NAMED = 8


class OwnershipError(UserValueError):
    """A directory or file holds what the zoo did not write (nothing was changed)."""


# ---------------------------------------------------------------------- paths of records
def confined(path, folder, what="path"):
    """`path` resolved (links followed); ValueError unless it lies inside `folder`."""
    resolved, base = Path(path).resolve(), Path(folder).resolve()
    if resolved != base and base not in resolved.parents:
        raise UserValueError(f"{what} {path} resolves to {resolved}, outside {base}: the record "
                             f"naming it is refused. Received: {what}={str(path)!r}")
    return resolved


def plain_name(name, what="name"):
    """`name` if it is one file name (no separator, not `.`/`..`, not empty), else ValueError."""
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name
            or "\\" in name or "\0" in name):
        raise UserValueError(f"{what} must be a plain file name inside its folder. "
                             f"Received: {what}={name!r}")
    return name


def is_temporary(name):
    """True for the name of a temporary file the zoo's atomic writes use."""
    return _TEMPORARY.match(name) is not None


def remove_temporaries(folder, recursive=False):
    """Deletes the temporary files writers killed before their rename left in `folder`.
    Only for the holder of the folder's lock: anyone else may be writing them."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    found = folder.rglob(TEMPORARY_PREFIX + "*") if recursive else folder.glob(
        TEMPORARY_PREFIX + "*")
    for leftover in found:
        if is_temporary(leftover.name) and not leftover.is_dir():
            leftover.unlink(missing_ok=True)


# ---------------------------------------------------------------------- manifests
def _check_entry(entry, manifest):
    text = entry[:-1] if isinstance(entry, str) and entry.endswith("/") else entry
    parts = PurePosixPath(text).parts if isinstance(text, str) else ()
    if (not isinstance(text, str) or not text or text.startswith("/") or "\\" in text
            or any(p in ("..", ".") for p in parts) or str(PurePosixPath(text)) != text):
        raise OwnershipError(
            f"{manifest} lists {entry!r}, which is not a path inside its folder; the manifest "
            "is refused and nothing it lists is deleted. Received: " + repr(entry))
    return entry


def read_manifest(folder):
    """The entries `folder`'s manifest lists ([] when it has none); refuses a bad manifest."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
        entries = data["entries"]
        if not isinstance(entries, list):
            raise UserTypeError("entries is not a list")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise OwnershipError(
            f"{path} cannot be read ({err}), so what the zoo wrote in {folder} is unknown; "
            f"nothing there is deleted. Move the folder away or choose another. "
            f"Received: {folder}") from None
    return [_check_entry(e, path) for e in entries]


def owns(entries, relative):
    """True when `relative` (a POSIX path inside the folder) is one of `entries`:
    a file, a folder (`name/`, everything under it) or a pattern (`samples-*.png`)."""
    parts = relative.split("/")
    for entry in entries:
        if entry.endswith("/"):
            pattern = entry[:-1]
            if any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern)
                   for i in range(1, len(parts) + 1)):
                return True
        elif fnmatch.fnmatchcase(relative, entry):
            return True
    return False


def foreign_files(folder, entries):
    """Sorted relative paths under `folder` that none of `entries` lists (a folder
    holding nothing listed is named once, with a trailing `/`). Links are not followed."""
    folder = Path(folder)
    found = []

    def walk(directory, prefix):
        with os.scandir(directory) as listing:
            items = sorted(listing, key=lambda e: e.name)
        for item in items:
            relative = prefix + item.name
            if not prefix and item.name in (MANIFEST_NAME, LOCK_NAME):
                continue
            if is_temporary(item.name) or owns(entries, relative):
                continue
            if item.is_dir(follow_symlinks=False):
                before = len(found)
                walk(item.path, relative + "/")
                if len(found) == before and not _holds_owned(entries, relative):
                    found.append(relative + "/")  # an empty folder of someone else's
            else:
                found.append(relative)

    if folder.is_dir():
        walk(folder, "")
    return found


def _holds_owned(entries, relative):
    return any(e.startswith(relative + "/") for e in entries)


def describe_paths(paths, limit=_NAMED):
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


class OwnedDirectory:
    """A directory a zoo job writes: it deletes or replaces only what its manifest lists.

    Args:
        path: the directory (it need not exist).
        entries: what this job writes there: file names, folders (`"name/"`), patterns.
        what: what the directory holds, for messages ("run", "search").
        flag: the argument that named it, for messages (`--run-dir`).
    """

    def __init__(self, path, entries, what="run", flag="--run-dir"):
        self.path = Path(path)
        self.entries = tuple(_check_entry(e, "the job") for e in entries)
        self.what = what
        self.flag = flag
        self.lock = DirectoryLock(self.path, what=what)

    def manifest(self):
        return read_manifest(self.path)

    def foreign(self):
        """What the directory holds that no manifest entry lists."""
        return foreign_files(self.path, self.manifest())

    def check(self):
        """Refuses a path that is a file, a manifest that cannot be trusted, and a folder
        holding anything the zoo did not record (named). Writes nothing."""
        if self.path.is_symlink() and not self.path.is_dir():
            raise OwnershipError(f"`{self.flag}` {self.path} is a link to no directory. "
                                 f"Received: {self.flag} {self.path}")
        if self.path.exists() and not self.path.is_dir():
            raise OwnershipError(f"`{self.flag}` must be a directory; {self.path} is a file. "
                                 f"Received: {self.flag} {self.path}")
        if not self.path.is_dir():
            return
        foreign = self.foreign()
        if foreign:
            raise OwnershipError(
                f"{self.path} holds files the zoo did not write: {describe_paths(foreign)}. "
                f"The zoo deletes or replaces only what it recorded in {MANIFEST_NAME}, so it "
                f"will not write this {self.what} there, --overwrite included: move those "
                f"files away or choose another {self.flag}. Received: {self.flag} {self.path}")

    def acquire(self):
        """Creates the directory if needed and takes its lock (one writer at a time, taken
        before anything is deleted); returns whether it created the directory."""
        created = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OwnershipError(f"`{self.flag}` {self.path} cannot be created "
                                 f"({err.strerror or err}). Received: {self.flag} {self.path}"
                                 ) from None
        try:
            self.lock.acquire()
        except BaseException:
            if created:
                _remove_empty(self.path)
            raise
        return created

    def give_up(self, created):
        """After a refusal under the lock: releases it and removes what `acquire` created,
        so the disk is as it was found."""
        self.lock.release(remove=created)
        if created:
            _remove_empty(self.path)

    def open(self, overwrite=False):
        """`check`, `acquire`, `check` again under the lock, then (with `overwrite`) delete
        what the manifest lists of this job, and record this job's entries. Release with
        `lock.release()`."""
        self.check()
        created = self.acquire()
        try:
            self.check()
        except BaseException:
            self.give_up(created)
            raise
        remove_temporaries(self.path)
        if overwrite:
            self.remove_owned()
        self.record()
        return created

    def remove_owned(self, entries=None):
        """Deletes what the manifest lists among `entries` (default: this job's); the
        manifest and the lock stay. Call while holding the lock."""
        recorded = self.manifest()
        mine = self.entries if entries is None else tuple(entries)
        for entry in recorded:
            if entry not in mine:
                continue
            if _GLOB.search(entry):
                targets = list(self.path.glob(entry.rstrip("/")))
            else:
                targets = [self.path / entry.rstrip("/")]
            for target in targets:
                _remove(target, self.path)

    def record(self, entries=None):
        """Adds `entries` (default: this job's) to the manifest, before they are written."""
        recorded = self.manifest()
        added = [e for e in (self.entries if entries is None else entries) if e not in recorded]
        if added or not (self.path / MANIFEST_NAME).is_file():
            write_json_atomic(self.path / MANIFEST_NAME, {
                "format": 1,
                "note": "what keras-zoo wrote here; it deletes or replaces nothing else",
                "entries": recorded + added,
            })


def _remove_empty(folder):
    try:
        Path(folder).rmdir()
    except OSError:
        pass


def _remove(target, folder):
    """Deletes `target` (a file, a link, or a folder and all under it) inside `folder`."""
    if not (target.exists() or target.is_symlink()):
        return
    confined(target.parent, folder, "a manifest entry")
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)


# ---------------------------------------------------------------------- the lock
class DirectoryLock:
    """One process at a time in a directory: `fcntl.flock` on `<path>/.zoo-run.lock`.

    The file records the holder's pid for the refusal's message. The kernel
    releases the lock of a process that ends, however it ends, so a lock file
    left by a killed run is stale by construction and is simply taken over. The
    file is never deleted while in use (deleting it would let two processes lock
    two files).
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
        except (FileNotFoundError, NotADirectoryError):
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
            raise OwnershipError(self._refusal(holder))

    def acquire(self):
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise OwnershipError(self._refusal(holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._fd = fd

    def release(self, remove=False):
        """Releases the lock; `remove` also deletes the lock file (only for a directory this
        process created and is leaving as it found it: nobody else can have used it)."""
        if self._fd is not None:
            if remove:
                (self.path / LOCK_NAME).unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

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


# ---------------------------------------------------------------------- file outputs
def zoo_home():
    """The zoo's folder: `$ZOO_HOME`, else `$KERAS_HOME/zoo`, else `~/.keras/zoo`."""
    if os.environ.get("ZOO_HOME"):
        return Path(os.environ["ZOO_HOME"]).expanduser()
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser() / "zoo"
    return Path("~/.keras/zoo").expanduser()


def _outputs_record():
    return zoo_home() / "outputs.json"


@contextlib.contextmanager
def _home_lock(name):
    """A blocking `fcntl.flock` on `$ZOO_HOME/<name>`, held for the `with` block."""
    home = zoo_home()
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _outputs_locked():
    return _home_lock(".outputs.lock")


def replacing_outputs():
    """Held from the check of a file output (or SavedModel folder) to its replacement and
    record: two zoo processes writing one output take turns (a blocking lock per
    `$ZOO_HOME`), so neither replaces what the other has just checked."""
    return _home_lock(".outputs-replace.lock")


def _read_outputs():
    try:
        data = json.loads(_outputs_record().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def written_by_zoo(path):
    """True when `path` is a file the zoo wrote (recorded in `$ZOO_HOME/outputs.json`)
    and its content has not changed since."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return False
    recorded = _read_outputs().get(str(path.resolve()))
    return recorded is not None and recorded == sha256_file(path)


def check_output_file(path, flag="--output", replace=True):
    """Refuses an output path the zoo may not write: a directory (a file output never
    replaces one), a link, an existing file the zoo did not write (or `replace=False`),
    a missing or unwritable folder. Writes nothing."""
    path = Path(path)
    if path.is_dir() or path.is_symlink():
        kind = "a link" if path.is_symlink() else "a directory"
        raise OwnershipError(f"`{flag}` {path} is {kind}; a file output never replaces one. "
                             f"Received: {flag} {path}")
    if path.exists():
        if not replace:
            raise OwnershipError(f"{path} exists: pass --overwrite to replace it. "
                                 f"Received: {flag} {path}")
        if not written_by_zoo(path):
            raise OwnershipError(
                f"{path} exists and is not a file the zoo wrote (or it changed since): the zoo "
                "replaces only its own outputs, recorded in $ZOO_HOME/outputs.json. Delete it "
                f"yourself or choose another {flag}. Received: {flag} {path}")
    check_writable_folder(path.parent, flag, path)
    return path


def check_writable_folder(folder, flag, given):
    """Refuses a folder that does not exist or where this process cannot create a file."""
    folder = Path(folder) if str(folder) else Path(".")
    if not folder.is_dir():
        raise OwnershipError(f"The folder of {flag} does not exist. Received: {flag} {given}")
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".zoo-probe-"):
            pass
    except OSError as err:
        raise OwnershipError(f"Cannot write in {folder} ({err.strerror or err}). "
                             f"Received: {flag} {given}") from None


def record_output_file(*paths):
    """Records `paths` (just written by the zoo) with their sha256, so that a later run may
    replace them; forgets recorded files that no longer exist."""
    with _outputs_locked():
        record = _read_outputs()
        record = {p: h for p, h in record.items() if Path(p).is_file()}
        for path in paths:
            path = Path(path)
            record[str(path.resolve())] = sha256_file(path)
        write_json_atomic(_outputs_record(), record)


def write_output_json(path, obj, flag="--json-out"):
    """Writes a JSON report to `path` (checked by `check_output_file`), then records it."""
    with replacing_outputs():
        check_output_file(path, flag)
        write_json_atomic(path, obj)
        record_output_file(path)

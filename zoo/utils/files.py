"""Files the zoo writes: atomically (temporary file in the same folder, fsync, rename).

A reader (or a process killed mid-write) sees the old file or the new one,
never half of one.

```python
write_json_atomic(run_dir / "metrics.json", metrics)
with atomic_path(run_dir / "model.keras") as tmp:
    model.save(tmp)
```

Every write passes through `atomic_path`, which calls the functions in
`WRITE_HOOKS` at its two commit points: fault-injection tests use them to kill
the process or fail with a full disk at the N-th write, with no sleep.
"""

import contextlib
import hashlib
import json
import os
import secrets

import numpy as np

_CHUNK = 1 << 16
#: temporary files start with this (a writer killed before its rename leaves one)
TEMPORARY_PREFIX = ".tmp-"
#: `hook(path, stage)` for each write: stage "written" (the temporary file is complete,
#: `path` unchanged) then "replaced" (renamed over `path`). A hook that raises aborts
#: the write at that point; at "written", `path` keeps its old content.
WRITE_HOOKS = []


def sha256_file(path):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(directory):
    """Makes a rename in `directory` durable (where the platform allows it)."""
    try:
        fd = os.open(str(directory) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_name(path):
    """A hidden temporary name beside `path`, unique to this call (threads included)."""
    path = str(path)
    folder, base = os.path.split(path)
    token = secrets.token_hex(4)
    return os.path.join(folder or ".", f"{TEMPORARY_PREFIX}{os.getpid()}-{token}-{base}")


def _run_hooks(path, stage):
    for hook in list(WRITE_HOOKS):
        hook(path, stage)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; on success it is synced and renamed over `path`.

    The temporary name keeps `path`'s suffix (keras picks the format from it).
    On an error the temporary file is removed and `path` is left as it was.
    """
    path = str(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        fsync_file(tmp)
        _run_hooks(path, "written")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    fsync_dir(os.path.dirname(path))
    _run_hooks(path, "replaced")


def write_bytes_atomic(path, data):
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_json_atomic(path, obj):
    """Writes `obj` as indented JSON to `path` atomically (numpy values as Python ones)."""
    text = json.dumps(obj, indent=2, default=_json_default)
    write_bytes_atomic(path, text.encode("utf-8"))


def jsonable(obj):
    """`obj` as `write_json_atomic` stores it (tuples as lists, numpy values as Python ones),
    so a value compares equal to the one read back from the file."""
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)

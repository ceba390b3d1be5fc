"""Fetching, caching and verifying weights files.

The cache folder is `$ZOO_HOME`, else `$KERAS_HOME/zoo`, else `~/.keras/zoo`;
weights live in its `weights/` subfolder as `<name>-<sha256[:12]>.weights.h5`.

Integrity rules:

- A download (`http(s)://`, `file://`, or a copy of a `package://` file) is
  streamed into a temporary `.part` file in the cache folder while its sha256
  and size are computed; only a file with the recorded size and hash is renamed
  (`os.replace`, atomic) to its final name. Anything else, including an
  interrupted transfer, removes the temporary file, so no partial file ever has
  a final name.
- A cached file is hashed on first use. After a successful check a marker
  `<file>.verified` records the hash with the file's size, mtime and inode;
  later loads trust the file while all four still match, so they cost one
  `stat`. Replacing or editing the file changes the stat, and it is hashed again.
- A mismatch is an error, and the file (and its marker) is deleted.

keras.utils.get_file is not used: it downloads straight to the final name,
keeps a file that failed the hash check, and re-hashes on every cache hit.
"""

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from zoo.utils.files import sha256_file, write_bytes_atomic

_CHUNK = 1 << 16
_STALE_PART_SECONDS = 24 * 3600


class WeightsIntegrityError(ValueError):
    """A weights file does not have the recorded size or sha256."""


class WeightsNotFoundError(FileNotFoundError):
    """No verified copy of a weights file could be found or fetched."""


def cache_dir():
    """The zoo's cache folder: `$ZOO_HOME`, else `$KERAS_HOME/zoo`, else `~/.keras/zoo`."""
    if os.environ.get("ZOO_HOME"):
        return Path(os.environ["ZOO_HOME"]).expanduser()
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser() / "zoo"
    return Path("~/.keras/zoo").expanduser()


def weights_cache_dir():
    return cache_dir() / "weights"


def package_root():
    return Path(__file__).resolve().parent


sha256_of = sha256_file  # hex sha256 of a file (part of zoo.weights' API)


def _marker(path):
    return Path(str(path) + ".verified")


def _stat_record(path, sha256):
    st = os.stat(path)
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except FileNotFoundError:
            pass


def verify_cached(path, sha256, size=None):
    """Checks the cached file `path` against `sha256` (fast when a valid marker says so).

    Raises:
        WeightsIntegrityError: the file differs; it has been deleted.
    """
    path = Path(path)
    marker = _marker(path)
    try:
        if json.loads(marker.read_text()) == _stat_record(path, sha256):
            return path
    except (OSError, ValueError):
        pass
    actual_size = os.stat(path).st_size
    actual = sha256_of(path)
    if actual != sha256 or (size is not None and actual_size != size):
        _remove(path, marker)
        raise WeightsIntegrityError(
            f"The cached weights file {path} is corrupt or not the published one: "
            f"sha256 {actual} ({actual_size} bytes), expected {sha256}"
            f"{'' if size is None else f' ({size} bytes)'}. The file was deleted; "
            "the next load fetches it again."
        )
    _write_marker(path, sha256)
    return path


def _write_marker(path, sha256):
    try:
        write_bytes_atomic(_marker(path), json.dumps(_stat_record(path, sha256)).encode())
    except OSError:
        pass  # a read-only cache still works; the file is just hashed on each use


def _resolve_package_url(url, root=None):
    rel = url[len("package://"):]
    base = Path(root) if root is not None else package_root()
    return (base / rel).resolve()


def _open(url, root=None, timeout=60):
    """(binary stream, total bytes or None) for a package://, file:// or http(s):// url."""
    if url.startswith("package://"):
        path = _resolve_package_url(url, root)
        return open(path, "rb"), os.stat(path).st_size
    response = urllib.request.urlopen(url, timeout=timeout)
    length = response.headers.get("Content-Length") if response.headers else None
    return response, int(length) if length and length.isdigit() else None


def _clean_stale_parts(folder):
    # Parts left by a killed process are never read; drop old ones.
    now = time.time()
    for part in folder.glob(".*.part"):
        try:
            if now - part.stat().st_mtime > _STALE_PART_SECONDS:
                part.unlink()
        except OSError:
            pass


def download(url, dest, sha256, size=None, root=None, progress=True):
    """Fetches `url` into `dest` through a temporary file, verifying size and sha256.

    Returns:
        `dest`, renamed into place only after both checks passed.

    Raises:
        WeightsIntegrityError: wrong size or hash (nothing is kept).
        OSError, urllib.error.URLError: the transfer failed (nothing is kept).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale_parts(dest.parent)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            stream, total = _open(url, root)
            with stream:
                bar = None
                if progress and not url.startswith("package://"):
                    import keras

                    print(f"Downloading {url} to {dest}", file=sys.stderr)
                    bar = keras.utils.Progbar(total or size, unit_name="byte")
                digest = hashlib.sha256()
                received = 0
                for chunk in iter(lambda: stream.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        # progress on stderr: stdout may be a result (evaluate.py --json)
                        with contextlib.redirect_stdout(sys.stderr):
                            bar.update(received)
            out.flush()
            os.fsync(out.fileno())
        expected_size = size if size is not None else total
        if expected_size is not None and received != expected_size:
            raise WeightsIntegrityError(
                f"Incomplete download from {url}: {received} of {expected_size} bytes. "
                "Nothing was kept."
            )
        if digest.hexdigest() != sha256:
            raise WeightsIntegrityError(
                f"The file at {url} has sha256 {digest.hexdigest()}, expected {sha256}. "
                "Nothing was kept."
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is readable like keras's
        _remove(_marker(dest))
        os.replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise
    _write_marker(dest, sha256)
    return dest


def fetch(spec, progress=True):
    """A local, verified path to the file of `spec` (a WeightsSpec), fetching it if needed.

    Looks in the cache first; otherwise copies (`package://`) or downloads the
    url into the cache. Works offline when the file is cached or shipped.

    Raises:
        WeightsIntegrityError: the file does not match the recorded hash.
        WeightsNotFoundError: it is not cached and the url cannot be read; the
            message lists every place looked at and how to fill the cache.
    """
    folder = weights_cache_dir()
    dest = folder / spec.filename
    if dest.is_file():
        return verify_cached(dest, spec.sha256, spec.size)
    try:
        return download(spec.url, dest, spec.sha256, spec.size, root=spec.root, progress=progress)
    except WeightsIntegrityError:
        raise
    except (OSError, urllib.error.URLError, ValueError) as err:
        shipped = spec.url.startswith("package://") and _resolve_package_url(spec.url, spec.root)
        if shipped and shipped.is_file():
            # An unwritable cache: use the shipped file in place, hashed on each load.
            return _verify_in_place(shipped, spec)
        raise WeightsNotFoundError(_not_found_message(spec, dest, err)) from err


def _verify_in_place(path, spec):
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise WeightsIntegrityError(
            f"The shipped weights file {path} has sha256 {actual}, expected {spec.sha256}."
        )
    return path


def _not_found_message(spec, dest, err):
    where = spec.url
    if spec.url.startswith("package://"):
        where = f"{spec.url} (= {_resolve_package_url(spec.url, spec.root)})"
    return (
        f"Weights {spec.name!r} are not available. Looked in:\n"
        f"  1. the cache: {dest} (not there; cache folder from "
        "$ZOO_HOME, else $KERAS_HOME/zoo, else ~/.keras/zoo)\n"
        f"  2. the url: {where} ({type(err).__name__}: {err})\n"
        "To fill it: on a machine with network, download the url and copy the file to "
        f"{dest} (sha256 {spec.sha256}, {spec.size} bytes); it is verified on first use. "
        "Or pass a local file: zoo.create(..., weights='/path/to/file.weights.h5')."
    )


def copy_into_cache(path, spec):
    """Puts a local copy of `spec`'s file into the cache (verified), e.g. for offline use."""
    return download(Path(path).resolve().as_uri(), weights_cache_dir() / spec.filename,
                    spec.sha256, spec.size, progress=False)


__all__ = [
    "WeightsIntegrityError",
    "WeightsNotFoundError",
    "cache_dir",
    "copy_into_cache",
    "download",
    "fetch",
    "sha256_of",
    "verify_cached",
]

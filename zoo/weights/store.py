"""Fetching, caching and verifying weights files.

The cache folder is `$ZOO_HOME`, else `$KERAS_HOME/zoo`, else `~/.keras/zoo`;
weights live in its `weights/` subfolder as `<name>-<sha256[:12]>.weights.h5`.

Integrity rules:

- A download (`http(s)://`, `file://`, or a copy of a `package://` file) is
  streamed into a temporary file beside its final name (`zoo.utils.files.atomic_path`)
  while its sha256 and size are computed; only a file with the recorded size
  and hash is renamed (atomic) to its final name. Anything else, including an
  interrupted transfer, removes the temporary file, so no partial file ever has
  a final name.
- A cached file is hashed on every load, as keras.applications does: nothing
  about a file's `stat` (size, mtime, inode) proves its bytes are unchanged.
  Hashing 100 MB costs about 0.2 s here, a fraction of loading that many
  weights (docs/benchmarks.md).
- A mismatch is an error, and the file is deleted.
- Cache paths and `package://` files stay inside their folders (entry names
  and urls are checked by `WeightsSpec`, and again here on the resolved path).

keras.utils.get_file is not used: it downloads straight to the final name and
keeps a file that failed the hash check.
"""

import contextlib
import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from zoo.errors import UserFileNotFoundError, UserValueError
from zoo.utils.files import TEMPORARY_PREFIX, atomic_path, sha256_file
from zoo.utils.ownership import confined, is_temporary, zoo_home

_CHUNK = 1 << 16
_STALE_PART_SECONDS = 24 * 3600


class WeightsIntegrityError(UserValueError):
    """A weights file does not have the recorded size or sha256."""


class WeightsNotFoundError(UserFileNotFoundError):
    """No verified copy of a weights file could be found or fetched."""


def cache_dir():
    """The zoo's cache folder: `$ZOO_HOME`, else `$KERAS_HOME/zoo`, else `~/.keras/zoo`."""
    return zoo_home()


def weights_cache_dir():
    return cache_dir() / "weights"


def package_root():
    return Path(__file__).resolve().parent


sha256_of = sha256_file  # hex sha256 of a file (part of zoo.weights' API)


def _remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except FileNotFoundError:
            pass


def hash_matches(actual, expected, hash_kind="sha256"):
    """`actual` (a full hex digest) is `expected`, or starts with it for "sha256-prefix"."""
    return actual.startswith(expected) if hash_kind == "sha256-prefix" else actual == expected


def verify_cached(path, sha256, size=None, hash_kind="sha256"):
    """Hashes the cached file `path` and checks it against `sha256` (and `size`).

    Raises:
        WeightsIntegrityError: the file differs; it has been deleted.
    """
    path = Path(path)
    actual_size = os.stat(path).st_size
    actual = sha256_of(path)
    if not hash_matches(actual, sha256, hash_kind) or (size is not None and actual_size != size):
        _remove(path)
        raise WeightsIntegrityError(
            f"The cached weights file {path} is corrupt or not the published one: "
            f"sha256 {actual} ({actual_size} bytes), expected {sha256}"
            f"{'' if size is None else f' ({size} bytes)'}. The file was deleted; "
            "the next load fetches it again."
        )
    _remove(Path(str(path) + ".verified"))  # a stat marker of earlier versions, not trusted
    return path


def _resolve_package_url(url, root=None):
    rel = url[len("package://"):]
    base = Path(root) if root is not None else package_root()
    return confined(base / rel, base, "package:// file")


def _open(url, root=None, timeout=60):
    """(binary stream, total bytes or None) for a package://, file:// or http(s):// url."""
    if url.startswith("package://"):
        path = _resolve_package_url(url, root)
        return open(path, "rb"), os.stat(path).st_size
    response = urllib.request.urlopen(url, timeout=timeout)
    length = response.headers.get("Content-Length") if response.headers else None
    return response, int(length) if length and length.isdigit() else None


def _clean_stale_parts(folder):
    # Temporary files left by a killed process are never read; drop old ones
    # (".*.part": the temporary names of earlier versions).
    now = time.time()
    parts = [p for p in folder.glob(TEMPORARY_PREFIX + "*") if is_temporary(p.name)]
    for part in [*parts, *folder.glob(".*.part")]:
        try:
            if now - part.stat().st_mtime > _STALE_PART_SECONDS:
                part.unlink()
        except OSError:
            pass


def download(url, dest, sha256, size=None, root=None, progress=True, hash_kind="sha256"):
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
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
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
        expected_size = size if size is not None else total
        if expected_size is not None and received != expected_size:
            raise WeightsIntegrityError(
                f"Incomplete download from {url}: {received} of {expected_size} bytes. "
                "Nothing was kept."
            )
        if not hash_matches(digest.hexdigest(), sha256, hash_kind):
            expected = f"one starting with {sha256}" if hash_kind == "sha256-prefix" else sha256
            raise WeightsIntegrityError(
                f"The file at {url} has sha256 {digest.hexdigest()}, expected {expected}. "
                "Nothing was kept."
            )
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
    if dest.resolve().parent != folder.resolve():
        raise UserValueError(f"The weights name {spec.name!r} leads outside the cache {folder}. "
                             f"Received: name={spec.name!r}")
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
        f"{dest} (sha256 {spec.sha256}, {spec.size} bytes); it is verified on each load. "
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
    "hash_matches",
    "sha256_of",
    "verify_cached",
]

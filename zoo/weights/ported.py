"""Entries whose file is a torchvision `.pth` or timm `.safetensors`: fetched, verified, converted.

The first load downloads the original file (progress bar, size and hash
checked as for any weights; torchvision's files by the sha256 prefix their
names state, as torch.hub checks them), converts it into the entry's model
(`zoo.weights.convert`) and caches the result as a keras `.weights.h5` named
by its own sha256, with a record of what it was made from. Later loads use
the cached file offline, hashed on every load as any weights file.

Cache layout (under `zoo.weights.cache_dir()/weights/`):

- `originals/<file>`: the original checkpoint, kept (a converter update reuses it);
- `<name>-<sha256[:12]>.weights.h5`: the converted weights;
- `<name>.converted.json`: the converted file's name, sha256 and size, the
  original's sha256 and the converter version.

A torchvision file already in torch.hub's cache (`$TORCH_HOME/hub/checkpoints`,
default `~/.cache/torch/hub/checkpoints`) is used from there, verified.
"""

import json
import os
import urllib.error
import warnings
from pathlib import Path

from zoo.utils import files
from zoo.utils.ownership import confined, plain_name
from zoo.weights import store

#: bump when a converter changes what it writes: cached conversions are then redone
CONVERTER_VERSION = 1


def originals_dir():
    return store.weights_cache_dir() / "originals"


def torch_hub_dir():
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return Path(home).expanduser() / "hub" / "checkpoints"


def _record_path(spec):
    return store.weights_cache_dir() / f"{spec.name}.converted.json"


def fetch_original(spec, progress=True):
    """A verified local copy of the original checkpoint of `spec`, downloading it if needed.

    Raises:
        WeightsIntegrityError: a file with another hash or size (it is deleted,
            never kept: a truncated download is caught here).
        WeightsNotFoundError: not cached and the url cannot be read; the message
            names the url and the folder where a copy can be put.
    """
    dest = confined(originals_dir() / plain_name(spec.source_filename, "the original's name"),
                    originals_dir(), "the original checkpoint")
    if dest.is_file():
        return store.verify_cached(dest, spec.sha256, spec.size, hash_kind=spec.hash_kind)
    hub = torch_hub_dir() / spec.source_filename
    if spec.source_format == "torchvision" and hub.is_file():
        actual = store.sha256_of(hub)
        if store.hash_matches(actual, spec.sha256, spec.hash_kind):
            return hub
    try:
        return store.download(spec.url, dest, spec.sha256, spec.size, root=spec.root,
                              progress=progress, hash_kind=spec.hash_kind)
    except store.WeightsIntegrityError:
        raise
    except (OSError, urllib.error.URLError, ValueError) as err:
        raise store.WeightsNotFoundError(_not_found_message(spec, dest, hub, err)) from err


def _not_found_message(spec, dest, hub, err):
    checked = ("the first sha256 digits in its name" if spec.hash_kind == "sha256-prefix"
               else "its sha256")
    places = f"  1. the cache: {dest} (not there)\n"
    if spec.source_format == "torchvision":
        places += f"  2. torch.hub's cache: {hub} (not there)\n"
    return (
        f"Weights {spec.name!r} ({spec.source or spec.source_format}) are not available "
        f"offline and could not be downloaded. Looked in:\n{places}"
        f"  {3 if spec.source_format == 'torchvision' else 2}. the url: {spec.url} "
        f"({type(err).__name__}: {err})\n"
        f"To load them offline: download {spec.url} on a machine with network and copy it "
        f"to the folder {dest.parent} as {dest.name}; it is verified ({checked}) and "
        "converted on first use."
    )


def _read_record(spec):
    try:
        record = json.loads(_record_path(spec).read_text())
    except (OSError, ValueError):
        return None
    fits = (isinstance(record, dict) and record.get("converter") == CONVERTER_VERSION
            and store.hash_matches(str(record.get("source_sha256", "")), spec.sha256,
                                   spec.hash_kind)
            and record.get("source_format") == spec.source_format)
    return record if fits else None


def record_file(spec, record):
    """The converted file a cache record names: one file name, inside the cache folder (a
    record naming anything else is refused, and nothing it names is read or deleted)."""
    folder = store.weights_cache_dir()
    try:
        return confined(folder / plain_name(record.get("file"), "file"), folder,
                        "the converted file")
    except ValueError as err:
        raise store.WeightsIntegrityError(
            f"The cache record {_record_path(spec)} names the file {record.get('file')!r}, "
            f"not a file of the cache folder {folder}: the record is refused and nothing it "
            "names is read or deleted. Delete the record; the next load converts the "
            f"original again. ({err})") from None


def fetch_converted(spec, progress=True):
    """The cached converted `.weights.h5` of `spec`; fetches and converts the original if needed."""
    record = _read_record(spec)
    if record is not None:
        path = record_file(spec, record)
        if path.is_file():
            try:
                return store.verify_cached(path, record["sha256"], record["size"])
            except store.WeightsIntegrityError:
                pass  # deleted by the check: convert again below
    original = fetch_original(spec, progress=progress)
    return convert_into_cache(spec, original)


def convert_into_cache(spec, original):
    """Converts the checkpoint `original` into the entry's model; caches and returns the file."""
    from zoo import compat, registry
    from zoo.weights import convert

    config = {k: v for k, v in spec.model_config.items() if k != "name"}  # create() takes `name`
    model = compat.build_shapes_only(lambda: registry.create(spec.model, **config))
    tensors = convert.read_checkpoint(original, spec.source_format)
    values = convert.convert(model, tensors, source=f"{spec.source_format} file {original}",
                             checkpoint_format=spec.source_format)
    del tensors
    compat.initialize_deferred(model, values)
    del values
    folder = store.weights_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # the final name holds the file's own sha256: saved under a temporary name first (a
    # killed process leaves one, cleaned as stale), then moved into place atomically
    staged = files.temporary_name(folder / f"{spec.name}.weights.h5")
    try:
        with warnings.catch_warnings():
            # keras's TensorFlow variables and numpy 2's copy keyword: noise, nothing lost
            warnings.filterwarnings("ignore", message=r".*__array__ implementation")
            model.save_weights(staged)
        digest = store.sha256_of(staged)
        dest = folder / f"{spec.name}-{digest[:12]}.weights.h5"
        os.chmod(staged, 0o644)
        with files.atomic_path(dest) as tmp:
            os.replace(staged, tmp)
    finally:
        Path(staged).unlink(missing_ok=True)
    record = {"file": dest.name, "sha256": digest, "size": dest.stat().st_size,
              "source_format": spec.source_format, "source_sha256": store.sha256_of(original),
              "source_url": spec.url, "converter": CONVERTER_VERSION}
    files.write_json_atomic(_record_path(spec), record)
    return dest


def fetch_weights_file(spec, progress=True):
    """A verified local keras weights file for `spec`, whatever the source format."""
    if spec.source_format == "keras":
        return store.fetch(spec, progress=progress)
    return fetch_converted(spec, progress=progress)

"""`WeightsSpec`: the typed record of one published weights file."""

import dataclasses
import json
import posixpath
import re
import urllib.parse
from pathlib import Path
from typing import Optional

from zoo.utils.files import write_bytes_atomic

_SCHEMES = ("package://", "file://", "http://", "https://")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# names become file names in the cache: no separator, no "..", nothing hidden
_NAME = re.compile(r"^[a-z0-9_-][a-z0-9_.-]*$")


@dataclasses.dataclass(frozen=True)
class WeightsSpec:
    """One published weights file: where it is, its hash, how it was made and measured.

    Like torchvision's `Weights(url, transforms, meta)` and timm's
    `PretrainedCfg`, but every number in it was measured by the commands it
    records.

    Args:
        name: full name, `"<model>.<tag>"` (e.g. "mlp.fashion_mnist").
        model: the registered model name the weights belong to.
        model_config: the model's `get_config()` at training time; the model
            is rebuilt from it before loading.
        url: `package://<path inside the entry's folder>`, `file://`,
            `http://` or `https://`.
        sha256: hex digest of the file; always checked.
        size: file size in bytes.
        dataset: dataset the weights were trained and evaluated on.
        metrics: test metrics measured by `evaluation_command`.
        evaluation_command: the command that measures `metrics`.
        params: parameter count of the model.
        input_shape: per-example input shape (no batch axis).
        preprocessing: what the inputs must look like.
        input_range: `(low, high)` the inputs must lie in after that preprocessing
            (checked by `fit`/`evaluate`/`predict` of a model built from the entry),
            or None.
        training_command: the exact command that trained the weights.
        license: licence of the weights file.
        dataset_license: licence of the training data.
        trained_with: backend, keras version, epochs, training time, ...
        root: folder that `package://` URLs are relative to (not serialized);
            None: the `zoo.weights` package folder.

    Example:

    ```python
    spec = zoo.weights.get_weights("mlp.fashion_mnist")
    print(spec.metrics["accuracy"], spec.training_command)
    ```
    """

    name: str
    model: str
    model_config: dict
    url: str
    sha256: str
    size: int
    dataset: str
    metrics: dict
    evaluation_command: str
    params: int
    input_shape: tuple
    preprocessing: str
    training_command: str
    license: str
    dataset_license: str = ""
    trained_with: dict = dataclasses.field(default_factory=dict)
    input_range: Optional[tuple] = None
    root: Optional[str] = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for field in ("name", "model", "url", "dataset", "license"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"`{field}` must be a non-empty string. Received: {field}={value!r}"
                )
        for field in ("name", "model"):
            value = getattr(self, field)
            if not _NAME.match(value) or ".." in value:
                raise ValueError(
                    f"`{field}` may hold only a-z, 0-9, '_', '-' and single dots (it names a "
                    f"file in the cache). Received: {field}={value!r}"
                )
        if not self.name.startswith(self.model + ".") or len(self.name) == len(self.model) + 1:
            raise ValueError(
                "`name` must be '<model>.<tag>' with the model's name first. "
                f"Received: name={self.name!r}, model={self.model!r}"
            )
        if not isinstance(self.sha256, str) or not _SHA256.match(self.sha256):
            raise ValueError(
                f"`sha256` must be 64 lowercase hex digits. Received: sha256={self.sha256!r}"
            )
        for field in ("size", "params"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{field}` must be an int > 0. Received: {field}={value!r}")
        if not self.url.startswith(_SCHEMES):
            raise ValueError(
                f"`url` must start with one of {_SCHEMES}. Received: url={self.url!r}"
            )
        check_url(self.url)
        if self.input_range is not None:
            object.__setattr__(self, "input_range", _check_range(self.input_range))
        if not isinstance(self.model_config, dict) or not isinstance(self.metrics, dict):
            raise TypeError(
                "`model_config` and `metrics` must be dicts. Received: "
                f"model_config={type(self.model_config).__name__}, "
                f"metrics={type(self.metrics).__name__}"
            )
        # stored as JSON holds them (tuples become lists), so equality survives a round trip
        object.__setattr__(self, "model_config", json.loads(json.dumps(self.model_config)))
        object.__setattr__(self, "input_shape", tuple(self.input_shape))

    @property
    def tag(self):
        """The part after the model name: "fashion_mnist" in "mlp.fashion_mnist"."""
        return self.name[len(self.model) + 1:]

    @property
    def filename(self):
        """The file's name in the cache: keras needs the `.weights.h5` ending."""
        return f"{self.name}-{self.sha256[:12]}.weights.h5"

    def to_json(self):
        data = dataclasses.asdict(self)
        data.pop("root")
        data["input_shape"] = list(self.input_shape)
        if self.input_range is None:
            data.pop("input_range")
        else:
            data["input_range"] = list(self.input_range)
        return data

    @classmethod
    def from_json(cls, data, root=None):
        fields = {f.name for f in dataclasses.fields(cls)} - {"root"}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ValueError(f"Unknown WeightsSpec fields: {unknown}. Known: {sorted(fields)}")
        return cls(**data, root=None if root is None else str(root))

    @classmethod
    def read(cls, path):
        """The entry stored in the JSON file `path`; `package://` is relative to its folder."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"Cannot read a weights entry from {path}: {err}") from None
        return cls.from_json(data, root=path.parent)

    def write(self, path):
        text = json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"
        write_bytes_atomic(path, text.encode("utf-8"))


def check_url(url):
    """Refuses a url that could reach outside the folder it names.

    `package://` paths are relative to the entry's folder and may not climb out of it
    (no "..", not absolute); `file://` urls name an absolute local path with no "..".
    """
    if url.startswith("package://"):
        rel = url[len("package://"):]
        parts = rel.replace("\\", "/").split("/")
        if not rel or rel.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise ValueError(
                "A `package://` url names a file inside the entry's folder: a relative path "
                f"without '..'. Received: url={url!r}"
            )
    elif url.startswith("file://"):
        parsed = urllib.parse.urlparse(url)
        path = urllib.parse.unquote(parsed.path)
        if parsed.netloc not in ("", "localhost") or not path.startswith("/") or (
                ".." in path.split("/") or posixpath.normpath(path) != path):
            raise ValueError(
                "A `file://` url names an absolute local path without '..' "
                f"(file:///path/to/file.weights.h5). Received: url={url!r}"
            )
    return url


def _check_range(value):
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not low < high:
        raise ValueError(
            f"`input_range` must be (low, high) with low < high. Received: input_range={value!r}"
        )
    return (low, high)

"""`WeightsSpec`: the typed record of one published weights file."""

import dataclasses
import json
import posixpath
import re
import urllib.parse
from pathlib import Path
from typing import Optional

from zoo.errors import UserTypeError, UserValueError
from zoo.utils.files import write_bytes_atomic
from zoo.weights.artifacts import ArtifactSpec

_SCHEMES = ("package://", "file://", "http://", "https://")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA256_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")
#: what the file at `url` is: a keras `.weights.h5`, or a checkpoint converted on first load
SOURCE_FORMATS = ("keras", "torchvision", "timm")
#: "sha256": the full digest; "sha256-prefix": its first hex digits, as torchvision's file
#: names state them and torch.hub checks them (torchvision publishes no full digest)
HASH_KINDS = ("sha256", "sha256-prefix")
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
        sha256: hex digest of the file (see `hash_kind`); always checked.
        size: file size in bytes (None: not published; then the download's
            own Content-Length is checked).
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
        source_format: "keras" (the file is a `.weights.h5`), "torchvision"
            (a `.pth` state dict) or "timm" (a `.safetensors` file): the last
            two are converted on first load (`zoo.weights.ported`).
        hash_kind: "sha256" (full digest) or "sha256-prefix" (torch.hub's
            check of the prefix in torchvision's file names).
        source: where the weights come from, e.g. "torchvision 0.28.0
            ResNet50_Weights.IMAGENET1K_V2".
        published_metrics: metrics the source publishes (e.g. ImageNet-1k
            top1/top5), not measured here: see `published_by`.
        published_by: who measured `published_metrics`.
        transform: the preprocessing as data (`resize`, `crop`,
            `interpolation`, `mean`, `std`): `zoo.create(..., weights=...)`
            puts it into the model (`zoo.models.preprocessing`).
        class_names: name of the class list the logits follow (see
            `zoo.decode_predictions`), e.g. "imagenet1k".
        artifacts: deployable files made from these weights (int8 ONNX or
            LiteRT), each a `zoo.weights.artifacts.ArtifactSpec` (JSON: a dict),
            hash-checked like the weights file: `zoo.weights.fetch_artifact`.
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
    source_format: str = "keras"
    hash_kind: str = "sha256"
    source: str = ""
    published_metrics: dict = dataclasses.field(default_factory=dict)
    published_by: str = ""
    transform: dict = dataclasses.field(default_factory=dict)
    class_names: str = ""
    input_range: Optional[tuple] = None
    artifacts: tuple = ()
    root: Optional[str] = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for field in ("name", "model", "url", "dataset", "license"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise UserValueError(
                    f"`{field}` must be a non-empty string. Received: {field}={value!r}"
                )
        for field in ("name", "model"):
            value = getattr(self, field)
            if not _NAME.match(value) or ".." in value:
                raise UserValueError(
                    f"`{field}` may hold only a-z, 0-9, '_', '-' and single dots (it names a "
                    f"file in the cache). Received: {field}={value!r}"
                )
        if not self.name.startswith(self.model + ".") or len(self.name) == len(self.model) + 1:
            raise UserValueError(
                "`name` must be '<model>.<tag>' with the model's name first. "
                f"Received: name={self.name!r}, model={self.model!r}"
            )
        if self.source_format not in SOURCE_FORMATS:
            raise UserValueError(f"`source_format` must be one of {SOURCE_FORMATS}. "
                                 f"Received: source_format={self.source_format!r}")
        if self.hash_kind not in HASH_KINDS:
            raise UserValueError(f"`hash_kind` must be one of {HASH_KINDS}. "
                                 f"Received: hash_kind={self.hash_kind!r}")
        pattern = _SHA256 if self.hash_kind == "sha256" else _SHA256_PREFIX
        if not isinstance(self.sha256, str) or not pattern.match(self.sha256):
            digits = "64" if self.hash_kind == "sha256" else "8 to 64"
            raise UserValueError(
                f"`sha256` must be {digits} lowercase hex digits with hash_kind="
                f"{self.hash_kind!r}. Received: sha256={self.sha256!r}"
            )
        for field in ("size", "params"):
            value = getattr(self, field)
            if field == "size" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise UserValueError(f"`{field}` must be an int > 0. Received: {field}={value!r}")
        if not self.url.startswith(_SCHEMES):
            raise UserValueError(
                f"`url` must start with one of {_SCHEMES}. Received: url={self.url!r}"
            )
        check_url(self.url)
        if self.input_range is not None:
            object.__setattr__(self, "input_range", _check_range(self.input_range))
        if not isinstance(self.model_config, dict) or not isinstance(self.metrics, dict):
            raise UserTypeError(
                "`model_config` and `metrics` must be dicts. Received: "
                f"model_config={type(self.model_config).__name__}, "
                f"metrics={type(self.metrics).__name__}"
            )
        artifacts = tuple(ArtifactSpec.from_json(a, entry=self.name, root=self.root)
                          for a in self.artifacts)
        for artifact in artifacts:
            check_url(artifact.url)
        object.__setattr__(self, "artifacts", artifacts)
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

    @property
    def source_filename(self):
        """The original checkpoint's name in the cache (converted entries).

        torchvision's own name (it states the hash prefix torch.hub checks);
        for other sources `<name>-<sha256[:12]>.<extension of the url>`.
        """
        base = self.url.rsplit("/", 1)[-1]
        if self.source_format == "torchvision":
            return base
        return f"{self.name}-{self.sha256[:12]}{Path(base).suffix}"

    def to_json(self):
        data = dataclasses.asdict(self)
        data.pop("root")
        data["input_shape"] = list(self.input_shape)
        if self.input_range is None:
            data.pop("input_range")
        else:
            data["input_range"] = list(self.input_range)
        if self.artifacts:
            data["artifacts"] = [a.to_json() for a in self.artifacts]
        else:
            data.pop("artifacts")
        return data

    @classmethod
    def from_json(cls, data, root=None):
        fields = {f.name for f in dataclasses.fields(cls)} - {"root"}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise UserValueError(f"Unknown WeightsSpec fields: {unknown}. Known: {sorted(fields)}")
        return cls(**data, root=None if root is None else str(root))

    @classmethod
    def read(cls, path):
        """The entry stored in the JSON file `path`; `package://` is relative to its folder."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise UserValueError(f"Cannot read a weights entry from {path}: {err}") from None
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
            raise UserValueError(
                "A `package://` url names a file inside the entry's folder: a relative path "
                f"without '..'. Received: url={url!r}"
            )
    elif url.startswith("file://"):
        parsed = urllib.parse.urlparse(url)
        path = urllib.parse.unquote(parsed.path)
        if parsed.netloc not in ("", "localhost") or not path.startswith("/") or (
                ".." in path.split("/") or posixpath.normpath(path) != path):
            raise UserValueError(
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
        raise UserValueError(
            f"`input_range` must be (low, high) with low < high. Received: input_range={value!r}"
        )
    return (low, high)

"""Deployable artifacts a weights entry carries beside its keras file (int8 ONNX, LiteRT).

An entry's `artifacts` list records, for each file: its format, quantization
and method, the calibration data, the export command that wrote it, what it
scored, and its url, sha256 and size. `fetch_artifact` fetches it into the
cache through the same verified path as the weights files (temporary file,
size and sha256 checked before the rename, hashed again on every use).

```python
path = zoo.weights.fetch_artifact("resnet20.fashion_mnist", "onnx")   # int8 ONNX
```
"""

import dataclasses
import re
from typing import Optional

from zoo.errors import UserTypeError, UserValueError

FORMATS = {"onnx": ".onnx", "litert": ".tflite"}
QUANTIZATIONS = ("int8",)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class ArtifactSpec:
    """One artifact file of a weights entry.

    Args:
        format: "onnx" or "litert".
        quantization: "int8".
        method: how it was quantized: "static" (calibrated activation ranges)
            or "dynamic" (ranges per batch at run time): docs/quantization.md.
        calibration: the calibration data, e.g. "fashion_mnist:512 (512
            examples of the training split, seed 0; ...)".
        url, sha256, size: where the file is, its full sha256 and byte count
            (always checked, as for weights files).
        command: the command that wrote it.
        metrics: what it measured: test accuracy of the artifact and of the
            float model in the same runtime, agreement on the validation split.
        input: the artifact's input: name, shape (None: any batch), dtype.
        part: the part it computes (a VAE's "encoder"), or None.
        entry: the weights entry's name (set by the entry; names the cache file).
        root: folder `package://` urls are relative to (not serialized).
    """

    format: str
    quantization: str
    method: str
    calibration: str
    url: str
    sha256: str
    size: int
    command: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    input: dict = dataclasses.field(default_factory=dict)
    part: Optional[str] = None
    entry: str = ""
    root: Optional[str] = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.format not in FORMATS:
            raise UserValueError(f"An artifact's `format` must be one of {sorted(FORMATS)}. "
                                 f"Received: format={self.format!r}")
        if self.quantization not in QUANTIZATIONS:
            raise UserValueError(f"An artifact's `quantization` must be one of {QUANTIZATIONS}. "
                                 f"Received: quantization={self.quantization!r}")
        if not isinstance(self.sha256, str) or not _SHA256.match(self.sha256):
            raise UserValueError(f"An artifact's `sha256` must be 64 lowercase hex digits. "
                                 f"Received: sha256={self.sha256!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size <= 0:
            raise UserValueError(f"An artifact's `size` must be an int > 0. "
                                 f"Received: size={self.size!r}")
        if not isinstance(self.calibration, str) or not self.calibration:
            raise UserValueError("An artifact records its calibration data. "
                                 f"Received: calibration={self.calibration!r}")
        # the url is checked by the entry that holds the artifact (WeightsSpec)

    @property
    def name(self):
        """`<entry>.<quantization>.<format>`, e.g. "resnet20.fashion_mnist.int8.onnx"."""
        return f"{self.entry}.{self.quantization}.{self.format}"

    @property
    def filename(self):
        """The file's name in the cache (the sha256 prefix keeps versions apart)."""
        return f"{self.name}-{self.sha256[:12]}{FORMATS[self.format]}"

    def to_json(self):
        data = dataclasses.asdict(self)
        for key in ("root", "entry"):
            data.pop(key)
        return data

    @classmethod
    def from_json(cls, data, entry="", root=None):
        if isinstance(data, cls):
            return dataclasses.replace(data, entry=entry, root=root)
        if not isinstance(data, dict):
            raise UserTypeError(f"An artifact is a dict. Received: {type(data).__name__}")
        fields = {f.name for f in dataclasses.fields(cls)} - {"root", "entry"}
        unknown = sorted(set(data) - fields)
        if unknown:
            raise UserValueError(f"Unknown artifact fields: {unknown}. Known: {sorted(fields)}")
        return cls(**data, entry=entry, root=root)


def find_artifact(spec, format, quantization="int8"):
    """The `ArtifactSpec` of `spec` (a WeightsSpec) with that format and quantization."""
    for artifact in spec.artifacts:
        if (artifact.format, artifact.quantization) == (format, quantization):
            return artifact
    have = [f"{a.quantization} {a.format}" for a in spec.artifacts] or "none"
    raise UserValueError(f"Weights {spec.name!r} carry no {quantization} {format} artifact (they "
                         f"carry: {have}). Received: format={format!r}, quantization="
                         f"{quantization!r}")

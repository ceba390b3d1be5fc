"""int8 artifacts of a weights entry: `scripts/publish_weights.py ... --int8 onnx,litert`.

Each artifact is written by the export job (`zoo.jobs.export.export` with an
int8 request: calibrated on the training split, checked on the validation
split) into the entry's `files/` folder, scored once on the test split, and
recorded in the entry as a `zoo.weights.ArtifactSpec` (format, method,
calibration, command, size, sha256, metrics).
"""

from pathlib import Path

from zoo.errors import UserValueError
from zoo.jobs import export as export_job
from zoo.jobs import quantize as quantize_job
from zoo.weights.artifacts import FORMATS, ArtifactSpec
from zoo.weights.store import sha256_of


def check_formats(formats):
    """The list of formats in `formats` ("onnx,litert"); raises for an unknown one."""
    names = [f.strip() for f in str(formats).split(",") if f.strip()]
    bad = [f for f in names if f not in FORMATS]
    if not names or bad:
        raise UserValueError(f"`--int8` takes formats among {sorted(FORMATS)}, comma-separated. "
                             f"Received: --int8 {formats}")
    return names


def int8_artifacts(spec, model, formats, calibration, files, url_base="package://files/"):
    """Writes, scores and describes the int8 artifacts of `model` (built from `spec`).

    Args:
        spec: the `WeightsSpec` being published (its preprocessing decides
            whether the artifact takes raw uint8 images).
        model: the model rebuilt from the entry.
        formats: e.g. ["onnx", "litert"].
        calibration: "DATASET[:N]".
        files: the folder the files go to (the entry's `files/`).
        url_base: the url prefix recorded for them.

    Returns:
        A tuple of `ArtifactSpec`.
    """
    raw_scale = export_job.raw_image_scale(spec.preprocessing)
    inference = export_job.inference_model(model, raw_scale=raw_scale)
    artifacts = []
    for fmt in formats:
        request = quantize_job.request("int8", fmt, calibration)
        out = Path(files) / f"{spec.name}.int8{FORMATS[fmt]}"
        report = export_job.export(model, out, fmt, raw_scale=raw_scale, overwrite=True,
                                   quantize=request)
        x, y = quantize_job.test_split(request.calibration, model, inference)
        int8 = report["int8"]
        cal = f"{request.calibration.dataset}:{request.calibration.examples}"
        artifacts.append(ArtifactSpec(
            format=fmt, quantization="int8", method=int8["method"],
            calibration=int8["calibration"], url=f"{url_base}{out.name}",
            sha256=sha256_of(out), size=out.stat().st_size,
            command=f"python scripts/export.py {spec.model} --weights {spec.tag} --format {fmt} "
                    f"--quantize int8 --calibration {cal} --output {out.name}",
            metrics={
                "accuracy": quantize_job.accuracy(export_job.load_artifact(out, fmt), x, y),
                "float_accuracy": spec.metrics.get("accuracy"),
                "validation_agreement": int8["agreement"],
                "size_ratio": int8["size_ratio"],
            },
            input=report["input"],
        ))
    return tuple(artifacts)

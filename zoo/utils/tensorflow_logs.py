"""Importing TensorFlow without its C++ start-up noise.

TensorFlow 2.21 prints, before its logging is initialised and whatever
`TF_CPP_MIN_LOG_LEVEL` says: the oneDNN notice, "Could not find cuda
drivers", the CPU-feature notice, an absl warning, and (on the first device
query) a "failed call to cuInit" error on machines without a GPU. None of it
concerns a zoo user. `import_tensorflow_quietly` imports TensorFlow and queries
its devices with the process's stderr (file descriptor 2) captured, then
writes back every captured line except those notices: real errors still show.

Set `TF_CPP_MIN_LOG_LEVEL` yourself (any value) to see TensorFlow's own output
unfiltered; the scripts also show it with `--verbose 2`.
"""

import contextlib
import os
import re
import sys
import tempfile

NOISE = re.compile(
    r"All log messages before absl::InitializeLog"
    r"|oneDNN custom operations are on"
    r"|Could not find cuda drivers"
    r"|failed call to cuInit"
    r"|cpu_feature_guard"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|To enable the following instructions:"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|TF-TRT Warning: Could not find TensorRT"
)


# read once, when the zoo is first imported: libraries imported later set it
# themselves (jax sets it to 1), which says nothing of what the user asked for
_ASKED = "TF_CPP_MIN_LOG_LEVEL" in os.environ


def wanted():
    """True when the user asked for TensorFlow's start-up output (TF_CPP_MIN_LOG_LEVEL set)."""
    return _ASKED


# what TensorFlow's converters (SavedModel -> LiteRT, the grappler passes tf2onnx runs) and the
# LiteRT interpreter log at INFO/WARNING from C++: absl lines ("I0000 ...", "W0000 ...") and
# the XNNPACK notice, the quantizer's settings line (int8 export); errors ("E...", "F...")
# still show
CONVERTER_NOISE = re.compile(
    r"^[IW]\d{4} |^INFO: Created TensorFlow Lite XNNPACK delegate|^fully_quantize: \d")


@contextlib.contextmanager
def filtered_stderr(noise=NOISE):
    """Captures what C++ writes to file descriptor 2 in the block and writes back every
    line that `noise` does not match. Passes everything through when `wanted()`."""
    if wanted():
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to protect
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode("utf-8", "replace").splitlines()
                    if not noise.search(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def import_tensorflow_quietly():
    """Imports TensorFlow (and initialises its devices) without its start-up notices.

    A no-op when TensorFlow is imported already or when `wanted()`.
    """
    if "tensorflow" in sys.modules or wanted():
        return
    with filtered_stderr(NOISE):
        import tensorflow as tf

        tf.config.list_physical_devices()  # where the cuInit error is printed

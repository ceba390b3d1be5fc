"""Real data: the train job on the Pang & Lee sentences, then the saved file in a new process."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

QUERIES = ["a moving, beautiful film", "a dull, lifeless mess"]

_LOAD_AND_PREDICT = """
import json, sys
import keras
import zoo  # registers the families
model = keras.saving.load_model(sys.argv[1])
logits = model.predict(json.loads(sys.argv[2]), verbose=0)
print("LOGITS", json.dumps(keras.ops.convert_to_numpy(logits).tolist()))
"""


@pytest.mark.slow
def test_train_job_then_saved_model_classifies_raw_strings_in_a_fresh_process(tmp_path):
    from zoo.jobs import train

    argv = ["lstm", "--dataset", "movie_reviews", "--epochs", "3", "--verbose", "0",
            "--run-dir", str(tmp_path / "run")]
    model, results, run_dir = train.run(train.build_parser().parse_args(argv), argv)
    # chance is 0.50; 5 epochs reach ~0.7 (docs/benchmarks.md)
    assert results["accuracy"] > 0.6, results
    expected = np.asarray(model.predict(QUERIES, verbose=0))

    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_PREDICT, str(run_dir / "model.keras"),
         json.dumps(QUERIES)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    ).stdout
    logits = np.array(json.loads(out.split("LOGITS", 1)[1]))
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    assert logits.argmax(axis=1).tolist() == [1, 0], logits  # positive, negative

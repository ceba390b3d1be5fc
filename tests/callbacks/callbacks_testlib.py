"""Helpers of the callbacks tests: event files, a tiny model and data."""

import glob
import os

import numpy as np


def read_events(log_dir):
    """{tag: [(step, value or array)]} of every event file directly in `log_dir`, step order."""
    import tensorflow as tf

    out = {}
    for path in sorted(glob.glob(os.path.join(str(log_dir), "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.HasField("tensor"):
                    data = tf.make_ndarray(value.tensor)
                    data = data.item() if data.ndim == 0 else data
                else:
                    data = value.simple_value
                out.setdefault(value.tag, []).append((event.step, data))
    return {k: sorted(v, key=lambda sv: sv[0]) for k, v in out.items()}


def plugin_names(log_dir):
    """Names of the plugins whose summaries are in `log_dir`'s event files."""
    import tensorflow as tf

    names = set()
    for path in glob.glob(os.path.join(str(log_dir), "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                names.add(value.metadata.plugin_data.plugin_name)
    return names


def tiny_data(n=64, dim=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype("float32")
    w = rng.normal(size=(dim, classes))
    y = np.argmax(x @ w, axis=1).astype("int32")
    return x, y


def tiny_model(dim=6, classes=3, hidden=(16,)):
    import zoo

    return zoo.create("mlp", input_shape=(dim,), num_classes=classes, hidden_units=hidden)


def all_weights(model):
    import keras

    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]


def optimizer_state(model):
    import keras

    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]

"""A fit that raises leaves no TensorBoard writer or record condition installed."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import callbacks
import zoo


class Stop(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise KeyboardInterrupt("stopped mid-epoch")


def test_interrupted_fit_leaves_no_summary_state(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    model = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    model.compile(optimizer="sgd")
    standard = callbacks.standard_callbacks(tmp_path / "run", update_freq=3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[*standard, Stop()])
    # keras-tuner's HParams and any later summary need the default state back:
    # no default writer, recording not filtered by the stopped run's step condition
    assert tf.summary.experimental.get_step() is None
    writer = tf.summary.create_file_writer(str(tmp_path / "after"))
    with writer.as_default(step=1):
        assert bool(tf.summary.should_record_summaries())
        assert tf.summary.scalar("x", 1.0)

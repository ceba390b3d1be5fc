"""MirroredStrategy over two logical CPU devices trains like one device."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import zoo

    rng = np.random.default_rng(0)
    x = rng.random((256, 6, 6, 1), dtype=np.float32)
    y = rng.integers(0, 10, 256).astype("int32")

    def train(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = zoo.create("mlp", input_shape=(6, 6, 1), hidden_units=(32, 16))
            model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
        history = model.fit(data, epochs=1, verbose=0)
        return model.get_weights(), history.history["loss"][0]

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    w2, loss2 = train(mirrored)
    w1, loss1 = train(tf.distribute.get_strategy())
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2))
    print("RESULT", diff, loss1, loss2)
    """)


def test_mirrored_strategy_matches_single_device():
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT"))
    diff, loss1, loss2 = map(float, line.split()[1:])
    assert diff < 1e-5
    assert abs(loss1 - loss2) < 1e-5

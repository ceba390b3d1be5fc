"""One process, 4 virtual CPU devices: the zoo step under keras's DataParallel.

    python distribute_devices_script.py [--only a,b] [--reference RUN_DIR TRAIN_ARGS...]

Run by tests/distribute (conftest.py) in a subprocess: XLA's device count must
be set before JAX starts. Prints one JSON line `RESULTS {...}`: for each case
the largest weight difference between the same training on one device (no
distribution) and data-parallel over the 4 devices on the same global batches,
with how far training moved the weights; the BatchNorm statistics seen under
DataParallel; a padded evaluation; the batch check. With `--reference`, then
runs `scripts/train.py TRAIN_ARGS --run-dir RUN_DIR` on one device, in this
process (the one-process run the two-process runs are compared with).
"""

import json
import os
import sys
import time

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
).strip()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import callbacks  # noqa: E402
import zoo  # noqa: E402

DEVICES = 4


def data_parallel():
    return keras.distribution.DataParallel(
        devices=keras.distribution.list_devices(), auto_shard_dataset=False
    )


def weights_after(distribution, build, data, epochs=1, compile_kwargs=None, policy=None):
    """Weights (and non-trainable state) after `fit` under `distribution` (None: one device)."""
    keras.distribution.set_distribution(distribution)
    previous = keras.config.dtype_policy()
    try:
        if policy:
            keras.config.set_dtype_policy(policy)
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(**(compile_kwargs() if compile_kwargs else {}))  # fresh optimizer state
        epoch = tf.Variable(0, dtype=tf.int64)
        x, y = data
        multiple = DEVICES if distribution is not None else 1
        train = zoo.datasets.pipeline(
            x, y, 16, seed=0, kind="features", epoch=epoch, batch_multiple=multiple
        )
        initial = InitialWeights()
        model.fit(train, epochs=epochs, verbose=0, shuffle=False,
                  callbacks=[callbacks.DataEpoch(epoch), initial])
        final = [np.asarray(v, dtype="float32") for v in model.get_weights()]
        return final, initial.weights
    finally:
        keras.distribution.set_distribution(None)
        keras.config.set_dtype_policy(previous)


class InitialWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = [np.asarray(v, dtype="float32") for v in self.model.get_weights()]


def largest_difference(build, data, **kwargs):
    """(largest |one device - data parallel|, largest change training made on one device)."""
    one, initial = weights_after(None, build, data, **kwargs)
    many, _ = weights_after(data_parallel(), build, data, **kwargs)
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(one, initial))
    return max(float(np.max(np.abs(a - b))) for a, b in zip(one, many)), moved


def images(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    # smooth, non-degenerate images: BatchNorm of a near-constant channel would
    # amplify rounding differences of the reduction order
    x = rng.random((n,) + shape).astype("float32")
    return x, rng.integers(0, 10, n).astype("int32")


def batch_norm_statistics():
    """moving variance after one step, momentum 0: the global batch's, or per replica?"""
    # rows of each device's shard are equal: a per-replica variance would be 0
    x = np.repeat(np.arange(DEVICES, dtype="float32"), 2)[:, None] * np.ones((1, 3), "float32")
    keras.distribution.set_distribution(data_parallel())
    try:
        model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(momentum=0.0)])
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
        model.fit(x, np.zeros_like(x), batch_size=2 * DEVICES, epochs=1, verbose=0, shuffle=False)
        moving_mean, moving_variance = (np.asarray(v) for v in model.get_weights()[2:])
    finally:
        keras.distribution.set_distribution(None)
    shards = x.reshape(DEVICES, 2, 3)
    return {
        "moving_variance": moving_variance.tolist(),
        "global_variance": x.var(axis=0).tolist(),
        "mean_of_replica_variances": shards.var(axis=1).mean(axis=0).tolist(),
        "moving_mean": moving_mean.tolist(),
        "global_mean": x.mean(axis=0).tolist(),
    }


def padded_evaluation():
    """30 test examples on 4 devices: the last batch padded with 2 zero-weight rows."""
    x, y = images(30, (16, 16, 1), seed=4)
    out = {}
    for name, distribution in (("one_device", None), ("data_parallel", data_parallel())):
        keras.distribution.set_distribution(distribution)
        try:
            keras.utils.set_random_seed(0)
            model = zoo.create("mlp", input_shape=(16, 16, 1), hidden_units=(16,))
            # weighted metrics, as train.py compiles under data_parallel
            model.compile(optimizer="sgd", metrics=[], weighted_metrics=["accuracy"])
            test = zoo.datasets.pipeline(x, y, 16, shuffle=False, kind="features",
                                         batch_multiple=DEVICES if distribution else 1)
            out[name] = model.evaluate(test, return_dict=True, verbose=0)
            out[name]["elements"] = len(test.element_spec)
        finally:
            keras.distribution.set_distribution(None)
    return out


def batch_check():
    """`distribute.start` refuses a global batch the devices do not divide."""
    from zoo.jobs import distributed_plan as distribute, train

    args = train.build_parser().parse_args(
        ["mlp", "--distribute", "data_parallel", "--batch-size", "30"])
    try:
        distribute.start(distribute.plan(args, "jax"), args)
    except ValueError as err:
        return str(err)
    return None


def main():
    assert len(keras.distribution.list_devices()) == DEVICES, keras.distribution.list_devices()
    argv = sys.argv[1:]
    reference = None
    if "--reference" in argv:
        at = argv.index("--reference")
        reference, argv = argv[at + 1:], argv[:at]
    only = set(argv[argv.index("--only") + 1].split(",")) if "--only" in argv else set()

    def sgd():
        return dict(optimizer=keras.optimizers.SGD(0.02, momentum=0.9))

    x16, y16 = images(96, (16, 16, 1))
    x8, y8 = images(64, (8, 8, 1), seed=1)
    cases = {
        # 5a: two epochs, the two models
        "mlp": dict(
            build=lambda: zoo.create("mlp", input_shape=(16, 16, 1), hidden_units=(32, 16)),
            data=(x16, y16), epochs=2, compile_kwargs=sgd,
        ),
        # plain SGD: the two runs sum in different orders, and a ReLU input within
        # rounding of 0 flips between them now and then; momentum would carry such a
        # flip on for ten steps (1e-3 after 12 steps at lr 0.02, against 1e-6 here)
        "resnet20": dict(
            build=lambda: zoo.create("resnet20", input_shape=(8, 8, 1), filters=(4, 8, 16)),
            data=(x8, y8), epochs=2,
            compile_kwargs=lambda: dict(optimizer=keras.optimizers.SGD(0.01)),
        ),
        # every kind of step: mixed precision + clipping + momentum schedule ...
        "mlp_float16_clip_momentum": dict(
            build=lambda: zoo.create("mlp", input_shape=(16, 16, 1), hidden_units=(32,),
                                     gradient_clip_norm=0.5),
            data=(x16, y16), policy="mixed_float16",
            compile_kwargs=lambda: dict(
                optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                momentum_schedule=callbacks.OneCycleMomentum(0.8, 0.95, total_steps=6),
            ),
        ),
        # ... a compute_loss family with seeded noise (the denoising autoencoder's
        # corruption is the same mechanism) ...
        "vae": dict(
            build=lambda: zoo.create("vae", input_shape=(8, 8, 1), variant="dense",
                                     hidden_units=(16,), latent_dim=2),
            data=(x8, x8),
        ),
        # ... the GANs' players (dcgan's mechanism, plus critic steps and a
        # second-order gradient penalty) ...
        "wgan_gp": dict(
            build=lambda: zoo.create("wgan_gp", input_shape=(8, 8, 1), variant="dense",
                                     hidden_units=(16,), latent_dim=4, critic_steps=2, seed=0),
            data=(x8, x8),
        ),
        # ... and a recurrent classifier (masking, token ids)
        "lstm": dict(
            build=lambda: zoo.create("lstm", text_input=False, vocabulary_size=50,
                                     sequence_length=6, embedding_dim=8, units=8),
            data=(np.random.default_rng(2).integers(1, 50, (64, 6)).astype("int32"),
                  np.random.default_rng(3).integers(0, 2, 64).astype("int32")),
        ),
    }
    results, seconds = {}, {}
    for name, case in cases.items():
        if only and name not in only:
            continue
        start = time.time()
        results[name] = largest_difference(**case)
        seconds[name] = round(time.time() - start, 1)
    for name, check in (("batch_norm", batch_norm_statistics),
                        ("padded_evaluation", padded_evaluation), ("batch_check", batch_check)):
        if only and name not in only:
            continue
        start = time.time()
        results[name] = check()
        seconds[name] = round(time.time() - start, 1)
    print("RESULTS " + json.dumps({"results": results, "seconds": seconds}), flush=True)
    if reference:
        from zoo.jobs import train

        run_dir, train_args = reference[0], reference[1:]
        start = time.time()
        status = train.main([*train_args, "--run-dir", run_dir])
        print(f"REFERENCE status={status} seconds={time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

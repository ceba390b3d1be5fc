"""Writes the legacy fixtures: tiny models saved by the zoo of main at 630d7c7.

Run once, on that commit (`git worktree add /tmp/old 630d7c7`, then
`PYTHONPATH=/tmp/old python tests/legacy/make_legacy_fixtures.py tests/legacy/files`):
the files it wrote are committed, and `test_legacy_files.py` loads them with
today's code and compares the outputs with the ones stored beside them. Running
it on a later commit would write files in that commit's layout, which is not
the point: keep the committed files.
"""

import json
import sys
from pathlib import Path

import numpy as np

import keras
import zoo

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
images28 = rng.uniform(size=(2, 28, 28, 1)).astype("float32")
images32 = rng.uniform(size=(2, 32, 32, 3)).astype("float32")

CASES = {
    "resnet20": (dict(input_shape=(32, 32, 3), num_classes=3, width_multiplier=0.25,
                      depths=(1, 1, 1)), images32),
    "resnet50": (dict(input_shape=(32, 32, 3), num_classes=3, width_multiplier=0.0625,
                      depths=(1, 1, 1, 1)), images32),
    "densenet121": (dict(input_shape=(32, 32, 3), num_classes=3, width_multiplier=0.25,
                         depths=(1, 2, 1, 1)), images32),
    "googlenet": (dict(input_shape=(28, 28, 1), num_classes=3, width_multiplier=0.0625,
                       stem="small", aux_logits=True), images28),
    "alexnet": (dict(input_shape=(28, 28, 1), num_classes=3, width_multiplier=0.0625,
                     head_units=(16, 16)), images28),
    "vgg11_bn": (dict(input_shape=(32, 32, 3), num_classes=3, width_multiplier=0.0625,
                      head_units=(16, 16), head_pool_size=(1, 1)), images32),
    "mlp": (dict(input_shape=(28, 28, 1), num_classes=3, hidden_units=(8, 4)), images28),
    "perceptron": (dict(input_shape=(4,)), rng.normal(size=(2, 4)).astype("float32")),
    "vae": (dict(latent_dim=2, filters=(4, 8)), images28),
    "autoencoder": (dict(latent_dim=2, filters=(4, 8)), images28),
    "dcgan": (dict(latent_dim=4, filters=(4, 8)), images28),
    "lstm": (dict(vocabulary_size=20, sequence_length=6, embedding_dim=4, units=4),
             np.array(["a good film", "a bad dull film"])),
}


def outputs(model, x):
    if model.name.startswith("dcgan"):
        return {"discriminator": keras.ops.convert_to_numpy(model.discriminator(x))}
    out = model.predict(x, verbose=0)
    if isinstance(out, dict):
        return {k: keras.ops.convert_to_numpy(v) for k, v in out.items()}
    return {"out": keras.ops.convert_to_numpy(out)}


manifest = {}
for name, (kwargs, x) in CASES.items():
    model = zoo.create(name, **kwargs)
    if name == "lstm":
        import tensorflow as tf

        model.adapt(tf.data.Dataset.from_tensor_slices(
            (np.array(["a good film", "a bad dull film", "good good"]), np.array([1, 0, 1]))
        ).batch(2))
    # BatchNorm statistics and every weight away from their initial values
    for v in model.weights:
        value = keras.ops.convert_to_numpy(v)
        v.assign((value + rng.normal(scale=0.1, size=value.shape)).astype(value.dtype)
                 if "variance" not in v.path else np.abs(value) + rng.uniform(
                     0.5, 1.5, size=value.shape).astype(value.dtype))
    if name not in ("dcgan",):
        model.compile(optimizer="adam")
    model.save(OUT / f"{name}.keras")
    if name != "lstm":
        np.save(OUT / f"{name}.x.npy", x)
    else:
        np.save(OUT / f"{name}.x.npy", x.astype("U"))
    np.savez(OUT / f"{name}.outputs.npz", **outputs(model, x))
    manifest[name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}

# keras.io's transfer pattern: a zoo backbone inside a functional model, saved whole
backbone = zoo.create("resnet20", input_shape=(32, 32, 3), num_classes=3,
                      width_multiplier=0.25, depths=(1, 1, 1), include_top=False, pooling="avg")
inputs = keras.Input((32, 32, 3))
outputs_ = keras.layers.Dense(2, name="new_head")(backbone(inputs, training=False))
wrapper = keras.Model(inputs, outputs_)
for v in wrapper.weights:
    value = keras.ops.convert_to_numpy(v)
    v.assign((value + rng.normal(scale=0.1, size=value.shape)).astype(value.dtype)
             if "variance" not in v.path else np.abs(value) + 1.0)
wrapper.save(OUT / "transfer_resnet20.keras")
np.save(OUT / "transfer_resnet20.x.npy", images32)
np.savez(OUT / "transfer_resnet20.outputs.npz",
         out=keras.ops.convert_to_numpy(wrapper.predict(images32, verbose=0)))
manifest["transfer_resnet20"] = "resnet20 backbone (include_top=False, avg) + Dense(2)"
(OUT / "manifest.json").write_text(json.dumps(
    {"written_by": "keras-zoo main 630d7c7", "keras": keras.__version__, "cases": manifest,
     "note": "each .keras holds its model.weights.h5: the test reads it as a .weights.h5 too"},
    indent=1) + "\n")
print("written", sorted(p.name for p in OUT.iterdir()))

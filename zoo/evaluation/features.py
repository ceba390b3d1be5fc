"""The feature space of FID-FMNIST: the zoo's Fashion-MNIST classifier's penultimate layer."""

from pathlib import Path

import numpy as np

from zoo.errors import UserTypeError, UserValueError

#: the published weights entry whose model gives the features by default
DEFAULT_FEATURE_WEIGHTS = "mlp.fashion_mnist"


def load_feature_model(feature_model=None):
    """The classifier whose penultimate layer gives the features.

    Args:
        feature_model: None (the zoo's published `mlp` Fashion-MNIST weights),
            a keras model, a `.keras` file, or a `scripts/train.py` run directory.
    """
    import keras

    if isinstance(feature_model, keras.Model):
        return feature_model
    if feature_model is None:
        from zoo.weights import create_with_weights, get_weights

        try:
            spec = get_weights(DEFAULT_FEATURE_WEIGHTS)
            return create_with_weights(spec.model, spec)
        except (ValueError, FileNotFoundError, OSError) as err:
            raise UserValueError(
                f"FID-FMNIST uses the features of the weights {DEFAULT_FEATURE_WEIGHTS!r}, "
                f"which could not be loaded ({err}). Pass a Fashion-MNIST classifier instead "
                "(feature_model=<run dir or .keras file>, e.g. from `python scripts/train.py "
                "mlp --dataset fashion_mnist --epochs 5 --run-dir runs/fid-mlp`). "
                "Received: feature_model=None"
            ) from None
    if isinstance(feature_model, (str, Path)):
        path = Path(feature_model)
        if path.is_dir():
            path = path / "model.keras"
        if path.suffix != ".keras" or not path.is_file():
            raise UserValueError(
                "`feature_model` must be a keras model, a .keras file or a run directory "
                f"holding model.keras. Received: feature_model={str(feature_model)!r}"
            )
        return keras.saving.load_model(path)
    raise UserTypeError(
        "`feature_model` must be None, a keras model, a .keras file or a run directory. "
        f"Received: feature_model={feature_model!r}"
    )


def penultimate_function(model):
    """`images -> features` at the input of the classifier's last layer."""
    import keras

    hidden = getattr(model, "hidden", None)
    if hidden is not None and hasattr(model, "flatten") and hasattr(model, "logits"):
        # the zoo's MLP (subclassed): flatten, hidden Dense layers; dropout is off at inference
        def features(x):
            x = model.flatten(x)
            for dense in hidden:
                x = dense(x)
            return x

        return features
    if getattr(model, "inputs", None):  # functional and Sequential models have inputs
        truncated = keras.Model(model.inputs, model.layers[-2].output)
        return lambda x: truncated(x, training=False)
    raise UserTypeError(
        "`feature_model` must be the zoo's MLP or a functional/Sequential classifier, whose "
        f"penultimate layer can be read. Received: {type(model).__name__}"
    )


def penultimate_features(model, images, batch_size=1000):
    """Features (N, D) as float64 numpy for `images` (N, H, W, C) in [0, 1]."""
    from keras import ops

    images = np.asarray(images, dtype=np.float32)
    expected = getattr(model, "expected_input_shape", lambda: None)()
    if expected is None and getattr(model, "inputs", None):
        expected = tuple(model.inputs[0].shape[1:])
    if expected is not None and tuple(images.shape[1:]) != tuple(expected):
        raise UserValueError(
            f"Images must have the feature model's input shape {tuple(expected)}. "
            f"Received: images with shape {images.shape}"
        )
    fn = penultimate_function(model)
    out = [
        ops.convert_to_numpy(fn(ops.convert_to_tensor(images[i : i + batch_size])))
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(out, axis=0).astype(np.float64)

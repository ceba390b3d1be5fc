"""RNN text classifiers: registry, the shared model test, text and token-id input, bad input."""

import keras
import numpy as np
import pytest
from model_checks import check_config_round_trip, run_model_test

import zoo
from zoo.models.rnn import RNNClassifier

NAMES = ["simple_rnn", "lstm", "gru", "bilstm", "bigru"]
TINY = dict(vocabulary_size=50, sequence_length=8, embedding_dim=8, units=8)
TEXTS = np.array(
    [
        "a moving , beautiful film",
        "a dull , lifeless mess",
        "warm and funny",
        "boring and far too long",
        "the best film of the year",
        "the worst script this year",
        "a beautiful , funny story",
        "a dull mess",
    ]
)
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype="int32")


def _text_model(name, **kwargs):
    model = zoo.create(name, **{**TINY, **kwargs})
    model.adapt(TEXTS)
    return model


def test_family_registers_every_variant():
    assert zoo.list_models("*") == sorted(set(zoo.list_models("*")))
    for name in NAMES:
        info = zoo.model_info(name)
        assert info["family"] == "rnn"
        assert info["class"] == "zoo.models.rnn.rnn_classifier.RNNClassifier"
    assert zoo.model_info("bilstm")["defaults"]["bidirectional"] is True
    assert zoo.model_info("gru")["defaults"]["cell"] == "gru"
    # the docstring's figure: 20,000 x 64 embedding + LSTM(64) + Dense(2)
    assert zoo.create("lstm").count_params() == 20000 * 64 + 4 * (64 * 64 + 64 * 64 + 64) + 130


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("simple_rnn", marks=pytest.mark.jax),
        "lstm",
        "gru",
        "bilstm",
        pytest.param("bigru", marks=pytest.mark.jax),
    ],
)
def test_shared_model_test_with_raw_strings(name, tmp_path):
    extra = {
        "lstm": {"num_layers": 2, "dropout": 0.1},
        "gru": {"pooling": "max"},
        "bigru": {"pooling": "mean"},
    }
    model = _text_model(name, **extra.get(name, {}))
    run_model_test(
        model, TEXTS, LABELS, (len(TEXTS), 2), tmp_path,
        compile_kwargs={"optimizer": keras.optimizers.Adam(0.01)},
    )


@pytest.mark.jax
def test_token_id_model(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 50, size=(8, 12)).astype("int32")
    ids[::2, 9:] = 0  # padded rows
    model = zoo.create("gru", text_input=False, **TINY)
    assert not model.accepts_strings
    run_model_test(model, ids, LABELS, (8, 2), tmp_path, compile_kwargs={"optimizer": "adam"})


@pytest.mark.jax
def test_padding_anywhere_gives_the_same_prediction():
    model = zoo.create("lstm", text_input=False, **TINY)
    right = np.array([[5, 6, 7, 0, 0, 0], [9, 0, 0, 0, 0, 0]], dtype="int32")
    left = np.array([[0, 0, 0, 5, 6, 7], [0, 0, 0, 0, 0, 9]], dtype="int32")
    middle = np.array([[5, 0, 6, 0, 7, 0], [0, 0, 9, 0, 0, 0]], dtype="int32")
    expected = keras.ops.convert_to_numpy(model(right))
    for ids in (left, middle):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model(ids)), expected, atol=1e-6)
    pooled = zoo.create("bilstm", text_input=False, pooling="max", num_layers=2, **TINY)
    expected = keras.ops.convert_to_numpy(pooled(right))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled(middle)), expected, atol=1e-6)
    # a row of padding only reads as one unknown token instead of an empty sequence
    empty = keras.ops.convert_to_numpy(model(np.zeros((1, 6), "int32")))
    unknown = keras.ops.convert_to_numpy(model(np.array([[1, 0, 0, 0, 0, 0]], "int32")))
    np.testing.assert_allclose(empty, unknown, atol=1e-6)
    assert np.all(np.isfinite(empty))


@pytest.mark.jax
def test_strings_from_a_dataset_train_and_evaluate():
    import tensorflow as tf

    model = _text_model("gru")
    model.compile(optimizer="adam")
    train = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS)).batch(4)
    history = model.fit(train, validation_data=train, epochs=2, verbose=0)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    results = model.evaluate(train, return_dict=True, verbose=0)
    preds = model.predict(tf.data.Dataset.from_tensor_slices(TEXTS).batch(3), verbose=0)
    np.testing.assert_allclose(preds, model.predict(TEXTS, verbose=0), atol=1e-5)
    # evaluate's accuracy is the share of argmax predictions equal to the labels
    assert results["accuracy"] == pytest.approx(np.mean(preds.argmax(axis=1) == LABELS))


@pytest.mark.jax
def test_text_vectorizer_does_not_turn_jit_off():
    from zoo import compat

    # under JAX this keeps fit's step in jax.jit; TensorFlow decides XLA per RNN
    # layer (cuDNN LSTM/GRU layers opt out on a GPU)
    assert compat.supports_jit(_text_model("simple_rnn"))


def test_gradient_clipping_is_on_by_default():
    model = _text_model("lstm")
    assert model.gradient_clip_norm == 1.0
    model.compile(optimizer="adam")
    assert model.optimizer.global_clipnorm == 1.0
    unclipped = zoo.create("lstm", gradient_clip_norm=None, **TINY)
    clone = check_config_round_trip(unclipped)
    assert clone.gradient_clip_norm is None
    clone.compile(optimizer="adam")
    assert clone.optimizer.global_clipnorm is None


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("value", [0, -3, 2.5, None])
def test_bad_sequence_length(value):
    with pytest.raises(ValueError, match=r"sequence_length.*Received: sequence_length="):
        zoo.create("lstm", sequence_length=value)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"cell": "transformer"}, "cell"),
        ({"vocabulary_size": 2}, "vocabulary_size"),
        ({"units": 0}, "units"),
        ({"num_layers": 0}, "num_layers"),
        ({"dropout": 1.0}, "dropout"),
        ({"recurrent_dropout": -0.1}, "recurrent_dropout"),
        ({"bidirectional": "yes"}, "bidirectional"),
        ({"pooling": "attention"}, "pooling"),
        ({"text_input": 1}, "text_input"),
        ({"num_classes": 1}, "num_classes"),
        ({"gradient_clip_norm": 0}, "gradient_clip_norm"),
    ],
)
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern + ".*Received"):
        zoo.create("lstm", **{**TINY, **kwargs})


def test_empty_strings_are_rejected_before_work():
    model = _text_model("lstm")
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"empty string.*Received: x\[1\]=''"):
        model.predict(["a good film", ""], verbose=0)
    with pytest.raises(ValueError, match=r"empty string.*Received: x\[0\]='  '"):
        model.fit(np.array(["  ", "fine"]), np.array([0, 1]), verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.predict([], verbose=0)
    with pytest.raises(TypeError, match="not one string"):
        model.predict("a good film", verbose=0)


def test_non_string_input_to_a_text_model():
    import tensorflow as tf

    model = _text_model("gru")
    model.compile(optimizer="adam")
    with pytest.raises(TypeError, match=r"must hold strings.*Received: x with dtype int"):
        model.predict(np.ones((2, 8), "int32"), verbose=0)
    ids = tf.data.Dataset.from_tensor_slices((np.ones((4, 8), "int32"), LABELS[:4])).batch(2)
    with pytest.raises(TypeError, match=r"must yield strings.*text_input=False.*Received: dtype"):
        model.fit(ids, verbose=0)
    with pytest.raises(TypeError, match="adapt.*strings"):
        model.adapt(np.ones((4, 8), "int32"))


def test_string_input_to_a_token_id_model():
    model = zoo.create("gru", text_input=False, **TINY)
    model.compile(optimizer="adam")
    with pytest.raises(TypeError, match=r"token ids.*Received: x with dtype"):
        model.predict(TEXTS, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 50\).*Received: token id 50"):
        model.predict(np.full((2, 4), 50, "int32"), verbose=0)
    with pytest.raises(ValueError, match=r"without tokens.*Received: x\[1\] all zeros"):
        model.predict(np.array([[3, 4], [0, 0]], "int32"), verbose=0)


def test_text_model_needs_adapt_first():
    model = zoo.create("lstm", **TINY)
    with pytest.raises(ValueError, match="adapt"):
        model.predict(TEXTS, verbose=0)
    with pytest.raises(ValueError, match="no words"):
        model.adapt(np.array([" ", "..."]))


def test_class_is_the_registered_one():
    assert type(zoo.create("bigru", **TINY)) is RNNClassifier

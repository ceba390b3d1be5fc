"""`RNNClassifier`: recurrent text classifiers (SimpleRNN, LSTM, GRU, one or both directions)."""

import keras
from keras import layers, ops

from zoo import compat
from zoo.errors import UserTypeError, UserValueError
from zoo.models.rnn import rnn_text as _text
from zoo.models.zoo_classifier import ZooClassifier
from zoo.utils.checks import check_bool, check_positive_int, check_rate
from zoo.utils.data import is_dataset

_CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
_OOV = 1  # TextVectorization's index of out-of-vocabulary tokens ("[UNK]")
_POOLINGS = ("last", "max", "mean", "concat")


class RNNClassifier(ZooClassifier):
    """Text classifier: TextVectorization, masked Embedding, stacked RNN, Dense logits.

    Raw strings go in (`text_input=True`): a `keras.layers.TextVectorization`
    adapted on the training texts by `model.adapt(train)` maps them to token
    ids, and is saved with the model, so a `.keras` file loaded elsewhere
    classifies strings. With `text_input=False` the model takes integer token
    ids instead (e.g. `keras.datasets.imdb`; 0 is padding).

    Padding is masked (`mask_zero=True`). Tokens are packed to the front of
    each row before the RNN, so the mask is always right-padded, which the
    cuDNN kernels need (masked steps carry the state, so packing does not
    change the result); a row without tokens becomes one `[UNK]` token.
    LSTM/GRU keep keras's default activations, so on a TensorFlow GPU keras
    runs them with cuDNN (unless `recurrent_dropout > 0`) and turns XLA off
    for them (`jit_compile="auto"`). Gradients are clipped to a global norm of
    `gradient_clip_norm` (1.0 by default) against exploding gradients
    (Pascanu et al., 2013).

    Strings are vectorized in the input pipeline (`fit`, `evaluate` and
    `predict` map the `tf.data` dataset or the array before the compiled
    step), so the same model trains under `jax.jit` as under TensorFlow.

    `lstm` at the defaults (vocabulary 20,000, embedding 64, 64 units,
    2 classes) has 1,313,154 parameters, 1,280,000 of them in the embedding.

    Args:
        cell: "simple_rnn", "lstm" (Hochreiter & Schmidhuber, 1997) or "gru"
            (Cho et al., 2014).
        vocabulary_size: size of the vocabulary, padding and `[UNK]`
            included (TextVectorization's `max_tokens`; the Embedding's
            `input_dim`). Token ids must lie in [0, vocabulary_size).
        sequence_length: tokens kept per example (the first ones); shorter
            texts are padded.
        embedding_dim: size of the token embeddings.
        units: units of each recurrent layer (per direction).
        num_layers: stacked recurrent layers.
        bidirectional: read the text in both directions (`Bidirectional`).
        dropout: dropout on the recurrent layers' inputs and before the logits.
        recurrent_dropout: dropout on the recurrent state (disables cuDNN).
        pooling: features given to the logits: "last" (the final state of
            the last layer; both directions' with `bidirectional`), "max" /
            "mean" over the non-padding time steps of its outputs, or "concat"
            (all three side by side, ULMFiT's concat pooling).
        num_classes: number of output logits; None: no head, the model returns
            the pooled features (a pretrained encoder, e.g. `weights="review_lm"`).
        text_input: True: raw strings in; False: integer token ids in.
        vocabulary: the vectorizer's vocabulary as a list of tokens (padding
            and `[UNK]` first, as `vectorizer.get_vocabulary()` gives it), so a
            weights entry carries it in its config; None: `adapt` builds it.
        gradient_clip_norm: global norm the gradients are clipped to; None: off.
        **kwargs: `ZooModel` arguments (`name`).

    Example:

    ```python
    train, test = zoo.datasets.load("movie_reviews")
    model = zoo.create("lstm")
    model.adapt(train)              # the vocabulary, from the training split only
    model.compile(optimizer="adam")
    model.fit(train, validation_data=test, epochs=5)
    model.predict(["a moving, beautiful film", "a dull, lifeless mess"])
    ```
    """

    # pooling decides what the head reads (its input width), so it is a head argument
    function_preserving_arguments = ZooClassifier.function_preserving_arguments + (
        "recurrent_dropout", "sequence_length", "pooling")
    head_arguments = ZooClassifier.head_arguments + ("pooling",)

    def __init__(
        self,
        *,
        cell="lstm",
        vocabulary_size=20000,
        sequence_length=64,
        embedding_dim=64,
        units=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        pooling="last",
        num_classes=2,
        text_input=True,
        vocabulary=None,
        gradient_clip_norm=1.0,
        **kwargs,
    ):
        if cell not in _CELLS:
            raise UserValueError(f"`cell` must be one of {sorted(_CELLS)}. Received: cell={cell!r}")
        check_positive_int("num_classes", num_classes, allow_none=True)
        if num_classes is not None and num_classes < 2:
            raise UserValueError(
                f"`num_classes` must be >= 2. "
                f"Received: num_classes={num_classes!r}"
            )
        super().__init__(input_shape=(None,), num_classes=num_classes,
                         gradient_clip_norm=gradient_clip_norm, **kwargs)
        self.cell = cell
        self.vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        if vocabulary_size < 3:
            raise UserValueError(
                "`vocabulary_size` must be >= 3 (padding, [UNK] and one word). "
                f"Received: vocabulary_size={vocabulary_size!r}"
            )
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.units = check_positive_int("units", units)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        if pooling not in _POOLINGS:
            raise UserValueError(
                f"`pooling` must be one of {_POOLINGS}. "
                f"Received: pooling={pooling!r}"
            )
        self.pooling = pooling
        self.text_input = check_bool("text_input", text_input)
        self.vocabulary = _check_vocabulary(vocabulary, vocabulary_size, text_input)
        # call() takes raw strings too: keep keras from converting them to
        # backend tensors (JAX has no string dtype).
        compat.allow_raw_call_arguments(self)

        self.vectorizer = None
        if text_input:
            self.vectorizer = layers.TextVectorization(
                max_tokens=vocabulary_size,
                vocabulary=self.vocabulary,
                output_mode="int",
                output_sequence_length=sequence_length,
                name="text_vectorization",
            )
            # Strings are vectorized in the input pipeline, never inside the
            # compiled step, so the lookup layers must not turn jit off.
            for layer in compat.nested_layers(self.vectorizer):
                layer.supports_jit = True
        self.embedding = layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.recurrent = []
        for i in range(num_layers):
            rnn = _CELLS[cell](
                units,
                dropout=self.dropout,
                recurrent_dropout=self.recurrent_dropout,
                return_sequences=i < num_layers - 1 or pooling != "last",
                name=f"{cell}_{i}",
            )
            if bidirectional:
                rnn = layers.Bidirectional(rnn, name=f"bidirectional_{i}")
            self.recurrent.append(rnn)
        self.head_dropout = layers.Dropout(self.dropout, name="dropout") if self.dropout else None
        self.logits = layers.Dense(num_classes, name="logits") if num_classes else None
        self.build_now()

    # ------------------------------------------------------------------ forward
    @property
    def accepts_strings(self):
        return self.text_input

    def build_now(self):
        # through build(), not self(...): see ZooClassifier.build_now
        self.build((None, self.sequence_length))

    def build(self, input_shape=None):
        # Weights exist from __init__ (build_now); the loader calls build() again with
        # the saved shape, and keras's default would warn about the vectorizer's
        # lookup tables, which are state but not built by a symbolic call.
        if not self.built:
            self.call(keras.KerasTensor((None, self.sequence_length), dtype="int32"))
        self.built = True

    def token_ids(self, inputs):
        """Token ids (batch, <= sequence_length), packed to the front, no empty row."""
        if _text.is_string_tensor(inputs) or isinstance(inputs, (list, tuple)):
            if self.vectorizer is None:
                raise UserTypeError(
                    "This model takes integer token ids (text_input=False), not strings. "
                    f"Received: inputs of type {type(inputs).__name__}"
                )
            inputs = self.vectorizer(inputs)
        ids = inputs if isinstance(inputs, keras.KerasTensor) else ops.convert_to_tensor(inputs)
        ids = ids[:, : self.sequence_length]
        length = ops.shape(ids)[1]
        # arange(0, n), not arange(n): jax2onnx (ONNX export on JAX) takes keras's
        # jnp.arange(n, None) for a range ending at None
        positions = ops.expand_dims(ops.arange(0, length), 0)
        absent = ops.cast(ops.equal(ids, 0), "int32")
        # distinct keys, tokens first in their order: any sort is stable here
        ids = ops.take_along_axis(ids, ops.argsort(absent * length + positions, axis=-1), axis=-1)
        empty = ops.logical_not(ops.any(ops.not_equal(ids, 0), axis=-1, keepdims=True))
        return ops.where(ops.logical_and(empty, ops.equal(positions, 0)), _OOV, ids)

    def encode(self, embedded, mask=None, training=False):
        """Features of an embedded sequence (batch, time, embedding_dim), pooled by `pooling`."""
        x = embedded
        for rnn in self.recurrent:
            x = rnn(x, mask=mask, training=training)
        if self.pooling == "last":
            return x
        if self.pooling == "concat":
            return ops.concatenate([_last(x, mask), _max(x, mask), _mean(x, mask)], axis=-1)
        return _max(x, mask) if self.pooling == "max" else _mean(x, mask)

    def call(self, inputs, training=False):
        ids = self.token_ids(inputs)
        mask = self.embedding.compute_mask(ids)
        x = self.encode(self.embedding(ids), mask=mask, training=training)
        if self.logits is None:
            return x
        if self.head_dropout is not None:
            x = self.head_dropout(x, training=training)
        return self.logits(x)

    def layer_groups(self):
        """[(name, [layers])] from the input to the head, for discriminative learning
        rates and gradual unfreezing (`callbacks.GradualUnfreezing`)."""
        groups = [("embedding", [self.embedding])]
        groups += [(rnn.name, [rnn]) for rnn in self.recurrent]
        if self.logits is not None:
            groups.append(("logits", [self.logits]))
        return groups

    # ------------------------------------------------------------------ text in
    def adapt(self, data, batch_size=None, steps=None):
        """Builds the vocabulary from training texts (no-op for token-id models).

        Args:
            data: the training split: a `tf.data.Dataset` of strings or of
                `(strings, labels)` batches, or a list/array of strings.
            batch_size, steps: as in `TextVectorization.adapt`.
        """
        if self.vectorizer is None:
            return
        if is_dataset(data):
            if not _text.spec_is_string(_text.features_spec(data)):
                raise UserTypeError(
                    "`adapt` needs the training texts (strings). Received: a dataset of "
                    f"{_text.features_spec(data).dtype.name}"
                )
            texts = data.map(lambda x, *_: x) if isinstance(data.element_spec, tuple) else data
        else:
            texts = _text.as_array(data, "data")
            if texts.dtype.kind not in "USO":
                raise UserTypeError(
                    "`adapt` needs the training texts (strings). "
                    f"Received: data with dtype {texts.dtype}"
                )
        self.vectorizer.adapt(texts, batch_size=batch_size, steps=steps)
        if self.vectorizer.vocabulary_size() <= 2:
            raise UserValueError(
                "`adapt` found no words in the training texts. Received: a vocabulary of "
                f"{self.vectorizer.get_vocabulary()}"
            )

    def _check_adapted(self):
        if self.vectorizer.vocabulary_size() <= 2:
            raise UserValueError(
                "The text vocabulary is empty: call `model.adapt(train_texts)` on the "
                "training split before fit/evaluate/predict. Received: vocabulary_size="
                f"{self.vectorizer.vocabulary_size()}"
            )

    def prepare_inputs(self, x, argument="x"):
        """`x` with raw strings mapped to token ids; raises on input the model cannot take.

        Datasets are mapped lazily (tf.data); arrays and lists are vectorized now.
        """
        if x is None:
            return x
        if is_dataset(x):
            return self._prepare_dataset(x, argument)
        if isinstance(x, dict) or not (hasattr(x, "__len__") or hasattr(x, "shape")):
            return x  # multi-input data and generators: left to keras
        arr = _text.as_array(x, argument)
        if self.text_input:
            _text.check_texts(arr, argument)
            self._check_adapted()
            return ops.convert_to_numpy(self.vectorizer(arr))
        self._check_token_ids(arr, argument)
        return arr

    def _prepare_dataset(self, dataset, argument):
        spec = _text.features_spec(dataset)
        strings = _text.spec_is_string(spec)
        if strings and not self.text_input:
            raise UserTypeError(
                f"`{argument}` yields strings, but this model takes integer token ids "
                "(text_input=False). Received: dtype string"
            )
        if self.text_input and not strings:
            raise UserTypeError(
                f"`{argument}` must yield strings (raw text): this model has a text "
                "vectorizer (text_input=True); create it with text_input=False for token ids. "
                f"Received: dtype {getattr(spec, 'dtype', spec)!r}"
            )
        if not strings:
            return dataset
        self._check_adapted()
        return _text.map_features(dataset, self.vectorizer)

    def _check_token_ids(self, arr, argument):
        if arr.dtype.kind in "USO":
            raise UserTypeError(
                f"`{argument}` holds strings, but this model takes integer token ids "
                f"(text_input=False). Received: {argument} with dtype {arr.dtype}"
            )
        if arr.dtype.kind not in "iu":
            raise UserTypeError(
                f"`{argument}` must hold integer token ids. "
                f"Received: {argument} with dtype {arr.dtype}"
            )
        if arr.ndim != 2:
            raise UserValueError(
                f"`{argument}` must be token ids of shape (batch, length). "
                f"Received: {argument} with shape {arr.shape}"
            )
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= self.vocabulary_size:
            raise UserValueError(
                f"`{argument}` token ids must lie in [0, {self.vocabulary_size}) "
                f"(vocabulary_size). Received: token id {lo if lo < 0 else hi}"
            )
        empty = (arr == 0).all(axis=1)
        if empty.any():
            i = int(empty.argmax())
            raise UserValueError(
                f"`{argument}` has a sequence without tokens (all padding). "
                f"Received: {argument}[{i}] all zeros"
            )

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        x = self.prepare_inputs(x)
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
            validation_data = (self.prepare_inputs(validation_data[0], "validation_data"),) + tuple(
                validation_data[1:]
            )
        elif validation_data is not None:
            validation_data = self.prepare_inputs(validation_data, "validation_data")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        # fit() evaluates its validation data, already prepared, through here
        if not compat.evaluating_for_fit(kwargs):
            x = self.prepare_inputs(x)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self.prepare_inputs(x), *args, **kwargs)

    def train_on_batch(self, x, y=None, *args, **kwargs):
        return super().train_on_batch(self.prepare_inputs(x), y, *args, **kwargs)

    def test_on_batch(self, x, y=None, *args, **kwargs):
        return super().test_on_batch(self.prepare_inputs(x), y, *args, **kwargs)

    def predict_on_batch(self, x):
        return super().predict_on_batch(self.prepare_inputs(x))

    def get_config(self):
        return {
            **super().get_config(),
            "cell": self.cell,
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "pooling": self.pooling,
            "num_classes": self._zoo_num_classes,
            "text_input": self.text_input,
            "vocabulary": self.vocabulary,
            # always written: None (clipping off) must not come back as the default 1.0
            "gradient_clip_norm": self.gradient_clip_norm,
        }


def _max(x, mask):
    if mask is None:
        return ops.max(x, axis=1)
    return ops.max(ops.where(ops.expand_dims(mask, -1), x, ops.min(x) - 1), axis=1)


def _mean(x, mask):
    if mask is None:
        return ops.mean(x, axis=1)
    keep = ops.cast(ops.expand_dims(mask, -1), x.dtype)
    return ops.sum(x * keep, axis=1) / ops.maximum(ops.sum(keep, axis=1), 1)


def _last(x, mask):
    """The output at each row's last token (tokens are packed to the front)."""
    if mask is None:
        return x[:, -1]
    last = ops.maximum(ops.sum(ops.cast(mask, "int32"), axis=1) - 1, 0)
    return ops.squeeze(ops.take_along_axis(x, last[:, None, None], axis=1), 1)


def _check_vocabulary(vocabulary, vocabulary_size, text_input):
    if vocabulary is None:
        return None
    if not text_input:
        raise UserValueError("`vocabulary` belongs to the text vectorizer: it needs "
                             "text_input=True. Received: text_input=False with a vocabulary")
    if isinstance(vocabulary, str) or not all(isinstance(t, str) for t in vocabulary):
        raise UserTypeError(f"`vocabulary` must be a list of strings. Received: vocabulary of type "
                            f"{type(vocabulary).__name__}")
    vocabulary = [str(t) for t in vocabulary]  # plain strings: the config is JSON
    if not 2 < len(vocabulary) <= vocabulary_size:
        raise UserValueError(
            f"`vocabulary` must hold more than 2 and at most vocabulary_size={vocabulary_size} "
            f"tokens (padding and [UNK] included). Received: {len(vocabulary)} tokens"
        )
    return vocabulary

"""Language models over the recurrent classifiers' encoders, for ULMFiT-style pretraining.

`RNNLanguageModel` holds an `RNNClassifier` without a head (`num_classes=None`)
as `encoder` and trains it to predict the next token (Howard & Ruder, 2018,
"Universal Language Model Fine-tuning for Text Classification"; the
regularisation of Merity et al., 2018, AWD-LSTM). The decoder is the
encoder's own embedding matrix, transposed (Inan et al., 2017; Press & Wolf,
2017): without `decoder_bias` the language model has no weight of its own, so
the published encoder alone reproduces its perplexity
(`RNNLanguageModel.from_encoder`).
"""

import math

import keras
from keras import layers, ops

from zoo.errors import UserValueError
from zoo.models.rnn.rnn_classifier import RNNClassifier
from zoo.training import ZooModel
from zoo.utils.checks import check_rate

#: the encoder arguments a language model takes (the rest of RNNClassifier's are head ones)
ENCODER_ARGUMENTS = ("cell", "vocabulary_size", "sequence_length", "embedding_dim", "units",
                     "num_layers", "bidirectional", "dropout", "recurrent_dropout")


@keras.saving.register_keras_serializable(package="zoo")
class RNNLanguageModel(ZooModel):
    """Next-token language model (and previous-token, bidirectional) of a recurrent encoder.

    Inputs are windows of token ids (batch, time), contiguous text with no
    padding; the targets are the inputs shifted by one step, so batches carry
    no labels. With `bidirectional=True` the forward direction of the
    (single) recurrent layer predicts the next token and the backward
    direction the previous one, as two language models sharing the embedding
    (ELMo, Peters et al., 2018); a stacked bidirectional encoder would let the
    second layer see the token it predicts, so it is refused. The loss is the
    mean cross-entropy (nats per token) of the directions; `perplexity` is
    `exp(loss)`.

    Regularisation, as AWD-LSTM: `embedding_dropout` drops whole word types
    (rows of the embedding) for a batch, `dropout` is variational dropout on
    each recurrent layer's input (keras RNN `dropout`: one mask per sequence),
    `recurrent_dropout` on the recurrent state, `output_dropout` on the last
    layer's output before the decoder.

    The decoder is tied to the embedding, so `units` must equal
    `embedding_dim`.

    Args:
        cell, vocabulary_size, sequence_length, embedding_dim, units,
            num_layers, bidirectional, dropout, recurrent_dropout: the
            encoder's (see `RNNClassifier`); `sequence_length` is the window.
        embedding_dropout: fraction of word types dropped per batch.
        output_dropout: dropout before the decoder (one mask per sequence).
        decoder_bias: add a per-token bias to the decoder's logits (a weight of
            the language model only, not of the encoder it publishes).
        seed: seed of the embedding dropout.
        **kwargs: `ZooModel` arguments (`name`, `gradient_clip_norm`).

    Example:

    ```python
    lm = RNNLanguageModel(cell="lstm", vocabulary_size=1000, embedding_dim=32, units=32)
    lm.encoder.adapt(texts)                         # the vocabulary
    ids = lm.token_stream(texts)                    # all tokens, in order
    lm.compile(optimizer="adam")
    lm.fit(lm.windows(ids, batch_size=32), epochs=2)
    classifier = lm.encoder                         # the pretrained encoder, no head
    ```
    """

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
        embedding_dropout=0.0,
        output_dropout=0.0,
        decoder_bias=False,
        seed=None,
        gradient_clip_norm=0.25,
        **kwargs,
    ):
        super().__init__(gradient_clip_norm=gradient_clip_norm, **kwargs)
        if units != embedding_dim:
            raise UserValueError(
                "The decoder is the embedding transposed, so `units` must equal "
                f"`embedding_dim`. Received: units={units!r}, embedding_dim={embedding_dim!r}"
            )
        if bidirectional and num_layers != 1:
            raise UserValueError(
                "A bidirectional language model has one recurrent layer: a second layer "
                "would read both directions of the first, which have seen the token it "
                f"predicts. Received: bidirectional=True, num_layers={num_layers!r}"
            )
        self.embedding_dropout = check_rate("embedding_dropout", embedding_dropout)
        self.output_dropout = check_rate("output_dropout", output_dropout)
        self.seed = seed
        self.decoder_bias = bool(decoder_bias)
        self.encoder = RNNClassifier(
            cell=cell, vocabulary_size=vocabulary_size, sequence_length=sequence_length,
            embedding_dim=embedding_dim, units=units, num_layers=num_layers,
            bidirectional=bidirectional, dropout=dropout, recurrent_dropout=recurrent_dropout,
            pooling="mean", num_classes=None, name="encoder",
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.output_dropout_layer = layers.Dropout(
            self.output_dropout, noise_shape=(None, 1, units * (2 if bidirectional else 1)),
            seed=seed, name="output_dropout",
        )
        self.perplexity_tracker = _Perplexity(name="perplexity")
        self.bias = None
        if self.decoder_bias:
            self.bias = self.add_weight(shape=(vocabulary_size,), initializer="zeros",
                                        name="decoder_bias")
        self.build((None, sequence_length))

    @classmethod
    def from_encoder(cls, encoder, **kwargs):
        """A language model whose encoder holds `encoder`'s weights and vocabulary."""
        config = encoder.get_config()
        lm = cls(**{k: config[k] for k in ENCODER_ARGUMENTS}, **kwargs)
        lm.encoder.set_weights(encoder.get_weights())
        vocabulary = encoder.vectorizer.get_vocabulary()
        if len(vocabulary) > 2:  # an encoder not adapted yet has padding and [UNK] only
            lm.encoder.vectorizer.set_vocabulary(vocabulary)
        return lm

    # ------------------------------------------------------------------ forward
    def build(self, input_shape=None):
        if not self.built:
            self.call(keras.KerasTensor((None, self.encoder.sequence_length), dtype="int32"))
        self.built = True

    def call(self, ids, training=False):
        """Logits (batch, time, vocabulary); bidirectional: a (forward, backward) pair."""
        encoder = self.encoder
        x = encoder.embedding(ids)
        if training and self.embedding_dropout:
            keep = keras.random.uniform((encoder.vocabulary_size,), seed=self.seed_generator)
            keep = ops.cast(keep >= self.embedding_dropout, x.dtype)
            x = x * ops.expand_dims(ops.take(keep, ids), -1) / (1.0 - self.embedding_dropout)
        for rnn in encoder.recurrent:
            x = rnn(x, training=training)
        x = self.output_dropout_layer(x, training=training)
        table = ops.transpose(encoder.embedding.embeddings)

        def decode(h):
            logits = ops.matmul(h, table)
            return logits if self.bias is None else logits + self.bias

        if not encoder.bidirectional:
            return decode(x)
        forward, backward = ops.split(x, 2, axis=-1)
        return decode(forward), decode(backward)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean cross-entropy of each direction's prediction of its neighbouring token."""
        ids = x
        if isinstance(y_pred, (tuple, list)):
            forward, backward = y_pred
            losses = [_cross_entropy(ids[:, 1:], forward[:, :-1]),
                      _cross_entropy(ids[:, :-1], backward[:, 1:])]
            loss = (losses[0] + losses[1]) / 2.0
        else:
            loss = _cross_entropy(ids[:, 1:], y_pred[:, :-1])
        self.perplexity_tracker.update_state(loss, sample_weight=ops.shape(ids)[0])
        return loss

    # ------------------------------------------------------------------ data
    def token_stream(self, texts, batch_size=256):
        """Token ids of `texts` under the encoder's vocabulary, concatenated, no padding."""
        from zoo.datasets.corpora import token_stream

        vectorizer = layers.TextVectorization(
            vocabulary=self.encoder.vectorizer.get_vocabulary(), output_mode="int"
        )
        return token_stream(texts, vectorizer, batch_size)

    def windows(self, ids, batch_size=64, shuffle=True, seed=0, offset=0):
        """A tf.data pipeline of non-overlapping windows of `ids`, `sequence_length` long.

        `offset` shifts where the windows start (a new offset each epoch shows
        the model other window boundaries).
        """
        import numpy as np
        import tensorflow as tf

        length = self.encoder.sequence_length
        ids = np.asarray(ids, np.int32)[offset:]
        count = len(ids) // length
        if count < 1:
            raise UserValueError(
                f"The text holds {len(ids)} tokens, fewer than one window of "
                f"sequence_length={length}. Received: {len(ids)} token ids"
            )
        data = tf.data.Dataset.from_tensor_slices(ids[: count * length].reshape(count, length))
        if shuffle:
            data = data.shuffle(count, seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation_metrics(self, test_dataset, dataset=None):
        """Held-out loss (nats per token) and perplexity."""
        if not self.compiled:
            self.compile()
        results = self.evaluate(test_dataset, return_dict=True, verbose=0)
        loss = float(results["loss"])
        return {"loss": loss, "perplexity": math.exp(loss)}

    def get_config(self):
        encoder = self.encoder
        return {
            **super().get_config(),
            **{k: getattr(encoder, k) for k in ENCODER_ARGUMENTS},
            "embedding_dropout": self.embedding_dropout,
            "output_dropout": self.output_dropout,
            "decoder_bias": self.decoder_bias,
            "seed": self.seed,
            "gradient_clip_norm": self.gradient_clip_norm,
        }


def language_model(encoder, **kwargs):
    """The family's language-model declaration (`registry.family(name).declaration(
    "language_model")`): an `RNNLanguageModel` over a copy of `encoder` (weights and
    vocabulary); `kwargs`: its regularisation (`embedding_dropout`, `output_dropout`, ...)."""
    return RNNLanguageModel.from_encoder(encoder, **kwargs)


class _Perplexity(keras.metrics.Mean):
    """exp of the mean cross-entropy (nats per token) it is given."""

    def result(self):
        return ops.exp(super().result())


def _cross_entropy(targets, logits):
    return ops.mean(ops.sparse_categorical_crossentropy(targets, logits, from_logits=True))

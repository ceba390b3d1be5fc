"""The recurrent text classifiers' named variants: one table, one builder (`RNNClassifier`)."""

from zoo.models.rnn.rnn_classifier import RNNClassifier
from zoo.registry import create, register

#: every variant's constructor arguments (RNNClassifier's defaults fill the rest)
VARIANTS = {
    "simple_rnn": {"cell": "simple_rnn"},
    "lstm": {"cell": "lstm"},
    "gru": {"cell": "gru"},
    "bilstm": {"cell": "lstm", "bidirectional": True},
    "bigru": {"cell": "gru", "bidirectional": True},
}


def tiny_arguments(name):
    """`name` reduced for the shared model tests: token ids in, a 20-word vocabulary."""
    return {"text_input": False, "vocabulary_size": 20, "sequence_length": 6,
            "embedding_dim": 8, "units": 8}


@register(RNNClassifier, VARIANTS)
def simple_rnn(**kwargs):
    """A text classifier over a SimpleRNN (Elman network)."""
    return create("simple_rnn", **kwargs)


@register(RNNClassifier, VARIANTS, weights=("review_lm",))
def lstm(**kwargs):
    """A text classifier over an LSTM: 1,313,154 parameters at the defaults."""
    return create("lstm", **kwargs)


@register(RNNClassifier, VARIANTS, weights=("review_lm", "movie_reviews"))
def gru(**kwargs):
    """A text classifier over a GRU (Cho et al., 2014)."""
    return create("gru", **kwargs)


@register(RNNClassifier, VARIANTS)
def bilstm(**kwargs):
    """A text classifier over a bidirectional LSTM."""
    return create("bilstm", **kwargs)


@register(RNNClassifier, VARIANTS)
def bigru(**kwargs):
    """A text classifier over a bidirectional GRU."""
    return create("bigru", **kwargs)


def tiny_batch(model, n=8):
    """(token ids, labels) for the shared model tests: ids of known words, zero padding."""
    import numpy as np

    rng = np.random.default_rng(0)
    ids = rng.integers(2, model.vocabulary_size, (n, model.sequence_length)).astype("int32")
    ids[:, model.sequence_length // 2 + 1:] = 0
    return ids, np.arange(n) % model.num_output_classes()

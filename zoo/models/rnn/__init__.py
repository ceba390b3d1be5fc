"""Recurrent text classifiers: SimpleRNN, LSTM and GRU, one or both directions."""

from zoo.models.rnn.rnn_classifier import RNNClassifier
from zoo.models.rnn.rnn_language_model import RNNLanguageModel
from zoo.models.rnn.rnn_variants import bigru, bilstm, gru, lstm, simple_rnn

__all__ = ["RNNClassifier", "RNNLanguageModel", "bigru", "bilstm", "gru", "lstm", "simple_rnn"]

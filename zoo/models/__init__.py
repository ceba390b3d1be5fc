"""Every family registers its names on import."""

from zoo.models import mlp, perceptron  # noqa: F401
from zoo.models import rnn  # noqa: F401

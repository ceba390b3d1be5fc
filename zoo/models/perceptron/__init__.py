"""The single-output perceptron (Rosenblatt, 1958)."""

from zoo.models.perceptron.perceptron import Perceptron
from zoo.models.perceptron.perceptron_variants import perceptron

__all__ = ["Perceptron", "perceptron"]

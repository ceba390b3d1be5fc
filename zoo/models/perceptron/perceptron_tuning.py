"""The perceptron's search space: its learning rate (it has no width)."""

from zoo.tuning.space import SearchSpace, learning_rate


def search_space(arguments):
    return SearchSpace((learning_rate(1e-4, 1.0),))

"""ConvNeXt's search space: width and depth multipliers, stochastic-depth rate, dropout,
learning rate, optimizer, schedule."""

from zoo.tuning.space import classifier_space


def search_space(arguments):
    return classifier_space(arguments, depths=True)

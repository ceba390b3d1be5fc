"""SpeedNet's search space: the vision classifiers' (width, dropout, learning rate, optimizer,
schedule)."""

from zoo.tuning.space import classifier_space


def search_space(arguments):
    return classifier_space(arguments)

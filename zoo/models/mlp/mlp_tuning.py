"""The MLP's search space: first width and depth (widths halve), dropout, learning rate."""

from zoo.tuning.space import SearchSpace, dropout, hidden_units, learning_rate


def search_space(arguments):
    widths, derived = hidden_units()
    return SearchSpace((*widths, *dropout(arguments), learning_rate(1e-4, 1e-2)),
                       derived=(derived,))

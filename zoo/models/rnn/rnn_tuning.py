"""The recurrent classifiers' search space: embedding and state widths, depth, dropout,
learning rate."""

from zoo.tuning.space import Int, SearchSpace, dropout, learning_rate


def search_space(arguments):
    return SearchSpace((
        Int("embedding_dim", 16, 256, step=2, sampling="log"),
        Int("units", 16, 256, step=2, sampling="log"),
        Int("num_layers", 1, 3),
        *dropout(arguments),
        learning_rate(1e-4, 1e-2),
    ))

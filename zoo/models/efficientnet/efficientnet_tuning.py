"""EfficientNet's search space: the vision classifiers' (width, dropout, learning rate,
optimizer, schedule), the depth multiplier and the stochastic-depth rate (compound scaling's
two axes and its regulariser)."""

from zoo.tuning.space import Float, SearchSpace, classifier_space


def search_space(arguments):
    base = classifier_space(arguments).hyperparameters
    # B0-B7's widths (1.0-2.0 in steps of 0.1) lie in the space, so each name's is its default
    width = Float("width_multiplier", 0.2, 2.0, step=0.1, default=arguments["width_multiplier"])
    scaling = (Float("depth_multiplier", 0.5, 2.0, step=0.25,
                     default=arguments["depth_multiplier"]),
               Float("stochastic_depth_rate", 0.0, 0.5, step=0.1,
                     default=arguments["stochastic_depth_rate"]))
    return SearchSpace((width, *scaling, *base[1:]))

"""MobileNet's search space: the vision classifiers' (width, dropout, learning rate, optimizer,
schedule), and MobileNetV2's depth multiplier. The MobileNets have no stochastic depth
(torchvision's recipes train them without)."""

from zoo.tuning.space import Float, SearchSpace, classifier_space


def search_space(arguments):
    space = classifier_space(arguments)
    if "depth_multiplier" not in arguments:  # MobileNetV3: one searched row per block
        return space
    depth = Float("depth_multiplier", 0.5, 2.0, step=0.25,
                  default=arguments["depth_multiplier"])
    return SearchSpace((space.hyperparameters[0], depth, *space.hyperparameters[1:]))

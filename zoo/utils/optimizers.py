"""Optimizers by name, and the optimizers inside wrappers (loss scaling, players)."""

import keras

from zoo.errors import UserValueError
from zoo.utils.checks import check_positive

OPTIMIZER_NAMES = ["sgd", "adam", "adamw", "rmsprop", "nadam", "adagrad", "adamax", "lion"]


def inner_optimizer(optimizer):
    """The optimizer under a `LossScaleOptimizer`, else `optimizer`."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def leaf_optimizers(optimizer):
    """The optimizers that update variables, unwrapped: each player's for a `PlayerOptimizers`."""
    players = getattr(optimizer, "by_player", None)
    if isinstance(players, dict):
        return [inner_optimizer(o) for o in players.values()]
    return [inner_optimizer(optimizer)]


def momentum_attribute(optimizer):
    """Name of the optimizer's momentum hyperparameter, or None.

    SGD, RMSprop: `momentum`; Adam family: `beta_1` (as in PyTorch's OneCycleLR).
    """
    inner = inner_optimizer(optimizer)
    for attr in ("momentum", "beta_1"):
        value = getattr(inner, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return attr
    return None


def resolve_optimizer(optimizer):
    """A keras optimizer from its name (a new instance), or `optimizer` itself."""
    if isinstance(optimizer, str):
        try:
            return keras.optimizers.get(optimizer)
        except ValueError:
            raise UserValueError(
                f"Unknown `optimizer` name. Expected one of {OPTIMIZER_NAMES} or a "
                f"keras.optimizers.Optimizer. Received: optimizer={optimizer!r}"
            ) from None
    return optimizer


def make_optimizer(name, lr=None, momentum=None):
    """A keras optimizer by name with the learning rate and momentum given.

    SGD gets momentum 0.9 unless told otherwise; for the Adam family `momentum`
    sets `beta_1`.
    """
    check_positive("lr", lr, allow_none=True)
    if momentum is not None and not 0 <= momentum < 1:
        raise UserValueError(f"`momentum` must be in [0, 1). Received: momentum={momentum!r}")
    optimizer = resolve_optimizer(name)
    config = optimizer.get_config()
    if lr is not None:
        config["learning_rate"] = lr
    if "momentum" in config and isinstance(optimizer, keras.optimizers.SGD):
        config["momentum"] = 0.9 if momentum is None else float(momentum)
    elif momentum is not None:
        if "beta_1" in config:
            config["beta_1"] = float(momentum)
        elif "momentum" in config:
            config["momentum"] = float(momentum)
        else:
            raise UserValueError(
                f"Optimizer {name!r} has no momentum. "
                f"Received: momentum={momentum!r}"
            )
    return type(optimizer).from_config(config)

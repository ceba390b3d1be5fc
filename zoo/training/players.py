"""`PlayerOptimizers`: one optimizer per player, seen by keras as one optimizer.

Keras's `fit` loops (the JAX one in particular, which threads
`model.optimizer.variables` through its stateless step) know a single
`model.optimizer`. Adversarial families compile with this container, the way
`keras.optimizers.LossScaleOptimizer` wraps an inner optimizer: its `variables`
are those of every player's optimizer, so state, checkpoints and `.keras` files
carry all of them.
"""

import keras

from zoo.errors import UserValueError


@keras.saving.register_keras_serializable(package="zoo")
class PlayerOptimizers(keras.optimizers.Optimizer):
    """Holds one keras optimizer per player, by player name.

    Args:
        optimizers: dict `{player name: optimizer or its name}`, in step order.
        name: name of the container.

    Example:

    ```python
    model.compile(optimizer=PlayerOptimizers({
        "d": keras.optimizers.Adam(2e-4, beta_1=0.5),
        "g": keras.optimizers.Adam(2e-4, beta_1=0.5),
    }))
    ```
    """

    def __init__(self, optimizers, name="player_optimizers", **kwargs):
        # The container never updates anything itself; its own lr is unused.
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        if not isinstance(optimizers, dict) or not optimizers:
            raise UserValueError(
                "`optimizers` must be a non-empty dict {player name: optimizer}. "
                f"Received: optimizers={optimizers!r}"
            )
        self.by_player = {}
        for player, opt in optimizers.items():
            if isinstance(opt, dict):
                opt = keras.optimizers.deserialize(opt)
            try:
                self.by_player[player] = keras.optimizers.get(opt)
            except ValueError:
                raise UserValueError(
                    f"Unknown optimizer for player {player!r}. Received: {opt!r}"
                ) from None
        self._player_variables = None

    @property
    def optimizers(self):
        # A list, as keras's callbacks (TensorBoard) expect of a multi-optimizer.
        return list(self.by_player.values())

    def __getitem__(self, player):
        return self.by_player[player]

    def wrap_for_loss_scaling(self):
        """Wraps each player's optimizer in a `LossScaleOptimizer` (mixed_float16)."""
        for player, opt in list(self.by_player.items()):
            if not isinstance(opt, keras.optimizers.LossScaleOptimizer):
                self.by_player[player] = keras.optimizers.LossScaleOptimizer(opt)

    def bind(self, player_variables):
        """Tells the container which variables each player's optimizer updates."""
        missing = set(self.by_player) ^ set(player_variables)
        if missing:
            raise UserValueError(
                f"Players and optimizers differ: players {sorted(player_variables)}, "
                f"optimizers {sorted(self.by_player)}."
            )
        self._player_variables = dict(player_variables)

    def build(self, var_list):
        if self.built:
            return
        if self._player_variables is None:
            raise UserValueError(
                "PlayerOptimizers must be bound to the model's players before it is "
                "built; compile a built ZooModel with it."
            )
        super().build([])
        for player, opt in self.by_player.items():
            opt.build(self._player_variables[player])
        self.built = True

    @property
    def variables(self):
        return super().variables + [v for opt in self.optimizers for v in opt.variables]

    @property
    def iterations(self):
        # One train step ends with the last player's update.
        return self.optimizers[-1].iterations

    @property
    def learning_rate(self):
        return self.optimizers[0].learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        for opt in self.optimizers:
            opt.learning_rate = value

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError(
            "PlayerOptimizers does not update variables itself; each player's "
            "optimizer does (see ZooModel.players)."
        )

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": {
                player: keras.optimizers.serialize(opt) for player, opt in self.by_player.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

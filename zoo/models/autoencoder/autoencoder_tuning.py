"""The autoencoders' search space: code size, widths, noise rate, learning rate."""

from zoo.tuning.space import (
    RECONSTRUCTION,
    Float,
    Int,
    SearchSpace,
    generative_widths,
    learning_rate,
)


def search_space(arguments):
    widths, derived = generative_widths(arguments, (32, 1024), (8, 128))
    # the masking and dropout autoencoders: how much of the input is corrupted
    rate = ([Float("noise_rate", 0.0, 0.5, step=0.1, default=arguments["noise_rate"])]
            if arguments.get("noise") in ("masking", "dropout") else [])
    return SearchSpace(
        (Int("latent_dim", 2, 128, step=2, sampling="log"), *widths, *rate,
         learning_rate(1e-4, 1e-2)),
        derived=(derived,),
        objective="val_loss",
        evaluated=dict(RECONSTRUCTION),
    )

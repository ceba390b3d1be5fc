"""The VAE's search space: code size, widths, beta, learning rate; ranked by the ELBO."""

from keras_tuner import Objective

from zoo.tuning.space import (
    FRECHET,
    RECONSTRUCTION,
    Float,
    Int,
    SearchSpace,
    generative_widths,
    learning_rate,
)


def search_space(arguments):
    widths, derived = generative_widths(arguments, (32, 1024), (8, 128))
    return SearchSpace(
        (Int("latent_dim", 2, 64, step=2, sampling="log"), *widths,
         Float("beta", 0.25, 4.0, sampling="log"), learning_rate(1e-4, 1e-2)),
        derived=(derived,),
        # the ELBO (beta = 1) compares trials of any beta; val_loss would favour small betas
        objective=Objective("elbo", "max"),
        evaluated={"elbo": {}, **RECONSTRUCTION, **FRECHET},
    )

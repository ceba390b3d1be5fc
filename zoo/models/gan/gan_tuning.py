"""The GANs' search space: code size, widths, both players' learning rates; ranked by FID."""

from keras_tuner import Objective

from zoo.tuning.space import FRECHET, Int, SearchSpace, generative_widths, learning_rate


def search_space(arguments):
    widths, derived = generative_widths(arguments, (64, 1024), (16, 128))
    # the papers' rates: WGAN-GP (it has `gp_weight`) 1e-4, DCGAN 2e-4
    rate = 1e-4 if "gp_weight" in arguments else 2e-4
    return SearchSpace(
        (Int("latent_dim", 16, 256, step=2, sampling="log"), *widths,
         learning_rate(1e-5, 1e-3, rate, name="d_learning_rate"),
         learning_rate(1e-5, 1e-3, rate, name="g_learning_rate")),
        derived=(derived,),
        # the players' losses do not rank generators; the Fréchet distance does
        objective=Objective("fid_fmnist", "min"),
        players=("d", "g"),
        evaluated=dict(FRECHET),
        notes="the objective fid_fmnist needs Fashion-MNIST and the published MLP features; "
              "elsewhere use objective frechet_distance with evaluation={'feature_model': ...}",
    )

"""One search space per family, keyed by family name (`zoo.model_info(name)["family"]`).

Each entry is `space(arguments) -> SearchSpace`, where `arguments` are the
model's resolved constructor arguments (its defaults, with what the user
fixed): a space reads them for the defaults of its hyperparameters, so the
default configuration of every space is the family's own default, and for
choices such as which widths the chosen `variant` uses. Families absent from
the registry are simply never asked for; nothing here imports a family.
"""

from keras_tuner import Objective

from zoo.tuning.space import Choice, Derived, Float, Int, SearchSpace, doubling, halving

SPACES = {}


def register_space(*families):
    """Declares `fn(arguments) -> SearchSpace` as the space of `families`."""

    def decorate(fn):
        for family in families:
            if family in SPACES:
                raise ValueError(f"A search space for family {family!r} is already registered.")
            SPACES[family] = fn
        return fn

    return decorate


def _learning_rate(low, high, default=1e-3, name="learning_rate"):
    return Float(name, low, high, sampling="log", default=default)


def _dropout(arguments, high=0.5):
    return [Float("dropout", 0.0, high, step=0.1, default=arguments["dropout"])] \
        if "dropout" in arguments else []


def _hidden_units(units_range=(16, 1024), layers_range=(1, 4), searched_layers=True):
    """`units` (first width, log grid of powers of two) and `num_layers`; widths halve."""

    def decompose(widths):
        widths = tuple(widths or ())
        return {"units": widths[0] if widths else None, "num_layers": len(widths)}

    hps = [Int("units", *units_range, step=2, sampling="log")]
    if searched_layers:
        hps.append(Int("num_layers", *layers_range))
        return hps, Derived("hidden_units", ("units", "num_layers"),
                            lambda v: halving(v["units"], v["num_layers"]), decompose)
    return hps, None


@register_space("perceptron")
def perceptron_space(arguments):
    return SearchSpace((_learning_rate(1e-4, 1.0),))


@register_space("mlp")
def mlp_space(arguments):
    widths, derived = _hidden_units()
    return SearchSpace(
        (*widths, *_dropout(arguments), _learning_rate(1e-4, 1e-2)),
        derived=(derived,),
    )


@register_space("alexnet", "vgg", "googlenet", "resnet", "densenet", "speednet")
def vision_space(arguments):
    hps = []
    if "width_multiplier" in arguments:
        hps.append(Float("width_multiplier", 0.25, 1.5, step=0.25))
    hps += _dropout(arguments)
    hps += [
        _learning_rate(1e-4, 1e-1),
        Choice("optimizer", ("adam", "sgd"), default="adam"),
        Choice("schedule", ("constant", "cosine"), default="constant"),
    ]
    return SearchSpace(tuple(hps))


@register_space("rnn_classifier")
def rnn_space(arguments):
    return SearchSpace((
        Int("embedding_dim", 16, 256, step=2, sampling="log"),
        Int("units", 16, 256, step=2, sampling="log"),
        Int("num_layers", 1, 3),
        *_dropout(arguments),
        _learning_rate(1e-4, 1e-2),
    ))


def _generative_widths(arguments, units_range, filters_range):
    """Widths the chosen `variant` uses: conv `filters` (doubling from `base_filters`)
    or dense `hidden_units` (halving from `units`), at the default depth."""
    if arguments.get("variant", "conv") == "conv":
        stages = len(arguments["filters"])

        def decompose(filters):
            return {"base_filters": tuple(filters)[0] if filters else None}

        return [Int("base_filters", *filters_range, step=2, sampling="log")], Derived(
            "filters", ("base_filters",), lambda v: doubling(v["base_filters"], stages), decompose
        )
    layers = len(arguments["hidden_units"])

    def decompose_units(widths):
        return {"units": tuple(widths)[0] if widths else None}

    return [Int("units", *units_range, step=2, sampling="log")], Derived(
        "hidden_units", ("units",), lambda v: halving(v["units"], layers), decompose_units
    )


@register_space("autoencoder")
def autoencoder_space(arguments):
    widths, derived = _generative_widths(arguments, (32, 1024), (8, 128))
    # the masking and dropout autoencoders: how much of the input is corrupted
    rate = ([Float("noise_rate", 0.0, 0.5, step=0.1, default=arguments["noise_rate"])]
            if arguments.get("noise") in ("masking", "dropout") else [])
    return SearchSpace(
        (Int("latent_dim", 2, 128, step=2, sampling="log"), *widths, *rate,
         _learning_rate(1e-4, 1e-2)),
        derived=(derived,),
        objective="val_loss",
        evaluated=dict(_RECONSTRUCTION),
    )


#: what the generative families' `evaluation_metrics` measure, and what each needs
_FRECHET = {"fid_fmnist": {"dataset": "fashion_mnist"}, "frechet_distance": {"feature_model": None}}
_RECONSTRUCTION = {"reconstruction_mse": {}, "reconstruction_bce": {}}


@register_space("vae")
def vae_space(arguments):
    widths, derived = _generative_widths(arguments, (32, 1024), (8, 128))
    return SearchSpace(
        (Int("latent_dim", 2, 64, step=2, sampling="log"), *widths,
         Float("beta", 0.25, 4.0, sampling="log"), _learning_rate(1e-4, 1e-2)),
        derived=(derived,),
        # the ELBO (beta = 1) compares trials of any beta; val_loss would favour small betas
        objective=Objective("elbo", "max"),
        evaluated={"elbo": {}, **_RECONSTRUCTION, **_FRECHET},
    )


@register_space("gan")
def gan_space(arguments):
    widths, derived = _generative_widths(arguments, (64, 1024), (16, 128))
    # the papers' rates: WGAN-GP (it has `gp_weight`) 1e-4, DCGAN 2e-4
    rate = 1e-4 if "gp_weight" in arguments else 2e-4
    return SearchSpace(
        (Int("latent_dim", 16, 256, step=2, sampling="log"), *widths,
         _learning_rate(1e-5, 1e-3, rate, name="d_learning_rate"),
         _learning_rate(1e-5, 1e-3, rate, name="g_learning_rate")),
        derived=(derived,),
        # the players' losses do not rank generators; the Fréchet distance does
        objective=Objective("fid_fmnist", "min"),
        players=("d", "g"),
        evaluated=dict(_FRECHET),
        notes="the objective fid_fmnist needs Fashion-MNIST and the published MLP features; "
              "elsewhere use objective frechet_distance with evaluation={'feature_model': ...}",
    )

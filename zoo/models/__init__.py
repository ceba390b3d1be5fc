"""Every family registers its names on import."""

from zoo.models import mlp, perceptron  # noqa: F401
from zoo.models import alexnet, densenet, googlenet, resnet, vgg  # noqa: F401
from zoo.models import rnn  # noqa: F401
from zoo.models import autoencoder, gan, vae  # noqa: F401
from zoo.models import speednet  # noqa: F401

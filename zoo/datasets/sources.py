"""Where each dataset's files are found, and how they are read into arrays.

No machine of this project reaches the internet: the packaged copies
(Debian `dataset-fashion-mnist`, `python3-pattern`) and the keras cache are
looked up first; `keras.datasets` downloads only where a network exists.
"""

import csv
import gzip
import os
from pathlib import Path

import numpy as np

from zoo.errors import UserFileNotFoundError, UserValueError

FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
PANG_LEE_FILES = {
    "documents": "polarity-en-pang&lee1.csv",
    "sentences": "polarity-en-pang&lee2.csv",
}


class DatasetNotFoundError(UserFileNotFoundError):
    """The dataset's files are nowhere on this machine and cannot be downloaded."""


def keras_home():
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))


def _data_dir():
    value = os.environ.get("ZOO_DATA_DIR")
    return Path(value) if value else None


def fashion_mnist_dirs():
    """Folders searched, in order, for the four Fashion-MNIST files."""
    dirs = []
    if _data_dir():
        dirs += [_data_dir() / "fashion-mnist", _data_dir()]
    dirs += [keras_home() / "datasets" / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist")]
    return dirs


def pang_lee_dirs():
    dirs = []
    if _data_dir():
        dirs += [_data_dir() / "pang-lee", _data_dir()]
    dirs += [
        keras_home() / "datasets" / "pang-lee",
        Path("/usr/share/doc/python3-pattern/test/corpora"),
    ]
    return dirs


def find(dirs, names):
    """First folder of `dirs` holding every file of `names`, or None."""
    for d in dirs:
        if all((d / n).is_file() for n in names):
            return d
    return None


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    array = np.frombuffer(data, dtype=np.uint8, offset=offset)
    if array.size != int(np.prod(dims)):
        raise UserValueError(f"{path} is truncated: {array.size} values for shape {dims}")
    return array.reshape(dims)


def load_fashion_mnist():
    """((x_train, y_train), (x_test, y_test)), uint8 images (N, 28, 28), and the source."""
    folder = find(fashion_mnist_dirs(), FASHION_FILES)
    if folder is not None:
        arrays = [_read_idx(folder / n) for n in FASHION_FILES]
        return ((arrays[0], arrays[1]), (arrays[2], arrays[3])), str(folder)
    return _keras_download(
        "fashion_mnist",
        lambda k: k.datasets.fashion_mnist.load_data(),
        where=fashion_mnist_dirs(),
        files=FASHION_FILES,
        fill="sudo apt-get install dataset-fashion-mnist  "
        "(or copy the four files into $ZOO_DATA_DIR)",
    )


def load_pang_lee(subset):
    """(texts, labels 0/1) of one Pang & Lee polarity set, and the source file."""
    name = PANG_LEE_FILES[subset]
    folder = find(pang_lee_dirs(), [name])
    if folder is None:
        raise DatasetNotFoundError(
            f"Pang & Lee movie reviews ({name}) not found. Looked in: "
            + ", ".join(str(d) for d in pang_lee_dirs())
            + ". Fill one with: apt-get download python3-pattern && dpkg-deb -x "
            "python3-pattern_*.deb /tmp/p && mkdir -p ~/.keras/datasets/pang-lee && cp "
            "/tmp/p/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang* "
            "~/.keras/datasets/pang-lee/   (or run `make data`)."
        )
    path = folder / name
    texts, labels = [], []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            if len(row) != 2:
                continue
            label, text = row
            texts.append(" ".join(text.split()))
            labels.append(1 if label.strip() == "1" else 0)
    return (np.array(texts, dtype=object), np.array(labels, dtype=np.int32)), str(path)


KERAS_FILES = {
    "mnist": ("mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"),
    "cifar10": ("cifar-10-batches-py/", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    "cifar100": ("cifar-100-python/", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
    "imdb": ("imdb.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"),
}


def load_keras(name, **kwargs):
    """A `keras.datasets` set, from the keras cache or the network."""
    import keras

    loader = getattr(keras.datasets, name)
    file, url = KERAS_FILES[name]
    return _keras_download(
        name,
        lambda k: loader.load_data(**kwargs),
        where=[keras_home() / "datasets"],
        files=[file],
        fill=f"download {url} into {keras_home() / 'datasets'} on a machine with a network",
    )


def _keras_download(name, load, where, files, fill):
    import keras

    try:
        return load(keras), f"keras.datasets.{name} ({keras_home() / 'datasets'})"
    except Exception as err:  # keras raises a bare Exception on URL failures
        raise DatasetNotFoundError(
            f"Dataset {name!r} is not on this machine and could not be downloaded ({err}). "
            f"Looked for {', '.join(files)} in: {', '.join(str(d) for d in where)}. "
            f"To fill it: {fill}."
        ) from None

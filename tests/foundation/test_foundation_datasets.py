import keras
import numpy as np
import pytest

import zoo
from zoo.datasets import DatasetNotFoundError, sources


@pytest.mark.slow
def test_fashion_mnist_offline_arrays():
    (xtr, ytr), (xte, yte) = zoo.datasets.load_arrays("fashion_mnist")
    assert xtr.shape == (60000, 28, 28, 1) and xte.shape == (10000, 28, 28, 1)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.int32
    assert set(np.unique(ytr)) == set(range(10))
    assert np.bincount(yte).tolist() == [1000] * 10


@pytest.mark.slow
def test_fashion_mnist_pipeline_batches_and_seeded_order():
    train, test = zoo.datasets.load("fashion_mnist", batch_size=100, seed=3)
    x, y = next(iter(train))
    assert tuple(x.shape) == (100, 28, 28, 1) and x.dtype.name == "float32"
    assert tuple(y.shape) == (100,) and y.dtype.name == "int32"
    assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
    again, _ = zoo.datasets.load("fashion_mnist", batch_size=100, seed=3)
    other, _ = zoo.datasets.load("fashion_mnist", batch_size=100, seed=4)
    np.testing.assert_array_equal(next(iter(again))[1], y)
    assert not np.array_equal(next(iter(other))[1], y)
    assert int(train.cardinality()) == 600 and int(test.cardinality()) == 100
    # the test split is not shuffled: its first labels are the file's first labels
    (_, _), (_, yte) = zoo.datasets.load_arrays("fashion_mnist")
    np.testing.assert_array_equal(next(iter(test))[1], yte[:100])


def test_fashion_mnist_from_zoo_data_dir(tmp_path, monkeypatch):
    import gzip

    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.array([1, 2, 3], dtype=np.uint8)
    for prefix, n in (("train", 3), ("t10k", 3)):
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write((2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (n, 28, 28)))
            f.write(images.tobytes())
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write((2049).to_bytes(4, "big") + n.to_bytes(4, "big") + labels.tobytes())
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    (xtr, ytr), _ = zoo.datasets.load_arrays("fashion_mnist")
    np.testing.assert_array_equal(xtr[..., 0], images)
    np.testing.assert_array_equal(ytr, [1, 2, 3])
    assert zoo.datasets.info("fashion_mnist")["source"] == str(folder)


def test_movie_reviews_split_is_fixed_and_seeded():
    (xtr, ytr), (xte, yte) = zoo.datasets.load_arrays("movie_reviews")
    assert len(xtr) == 3200 and len(xte) == 800
    assert set(np.unique(ytr)) == {0, 1}
    assert isinstance(xtr[0], str) and xtr[0]
    (xtr2, _), (xte2, _) = zoo.datasets.load_arrays("movie_reviews")
    np.testing.assert_array_equal(xte, xte2)
    assert not set(xtr) & set(xte) or len(set(xtr) & set(xte)) < 5  # duplicates in the corpus only
    (dtr, _), (dte, _) = zoo.datasets.load_arrays("movie_reviews", subset="documents")
    assert len(dtr) == 1200 and len(dte) == 300
    train, _ = zoo.datasets.load("movie_reviews", batch_size=16)
    x, y = next(iter(train))
    assert x.dtype.name == "string" and tuple(x.shape) == (16,)


def test_keras_datasets_offline_error_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure on https://example: no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(DatasetNotFoundError, match=r"mnist\.npz.*" + str(tmp_path)):
        zoo.datasets.load("mnist")


def test_pang_lee_missing_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "pang_lee_dirs", lambda: [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(DatasetNotFoundError) as err:
        zoo.datasets.load("movie_reviews")
    assert str(tmp_path / "a") in str(err.value) and "dpkg-deb" in str(err.value)


def test_info_and_bad_names():
    info = zoo.datasets.info("fashion_mnist")
    assert info["input_shape"] == (28, 28, 1) and info["num_classes"] == 10
    assert "cifar10" in zoo.datasets.list_datasets()
    with pytest.raises(ValueError, match=r"Received: name='fashion_mnst'.*'fashion_mnist'"):
        zoo.datasets.load("fashion_mnst")
    with pytest.raises(ValueError, match="batch_size"):
        zoo.datasets.load("fashion_mnist", batch_size=0)
    with pytest.raises(ValueError, match="subset"):
        zoo.datasets.load("movie_reviews", subset="tweets")

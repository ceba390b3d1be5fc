"""FID-FMNIST's pieces, ELBO helpers, reconstruction error, and the families' figures."""

import numpy as np
import pytest

import keras
import zoo
from zoo import evaluation
from zoo.evaluation import feature_statistics, frechet_distance

TINY = dict(input_shape=(8, 8, 1), latent_dim=3, hidden_units=(12,), filters=(4,), variant="dense")


def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_generative_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    s1, s2 = _spd(rng, 2), _spd(rng, 2)
    assert not np.allclose(s1 @ s2, s2 @ s1)  # the general, non-commuting case
    mu1, mu2 = rng.normal(size=2), rng.normal(size=2)
    # 2x2: Tr sqrt(M) = sqrt(Tr M + 2 sqrt(det M)) for M = S1 S2 (real, non-negative eigenvalues)
    m = s1 @ s2
    trace_sqrt = np.sqrt(np.trace(m) + 2 * np.sqrt(np.linalg.det(m)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    # diagonal covariances: sum of (sqrt(a) - sqrt(b))^2
    a, b = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 9.0])
    assert frechet_distance(np.zeros(3), a, np.zeros(3), b) == pytest.approx(2.0)
    # identical sets: 0; shifted sets: the squared shift
    x = rng.normal(size=(500, 5))
    stats = feature_statistics(x)
    assert frechet_distance(*stats, *stats) == pytest.approx(0, abs=1e-8)
    shifted = feature_statistics(x + np.arange(5.0))
    assert frechet_distance(*stats, *shifted) == pytest.approx(30.0, rel=1e-8)
    with pytest.raises(ValueError, match="Received"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="features"):
        feature_statistics(np.zeros((1, 3)))


def test_generative_elbo_and_reconstruction_helpers():
    x = np.array([[0.0, 1.0, 0.5, 0.25]])
    # logits 0: p = 1/2 for every pixel, log-likelihood 4 * log(1/2) whatever x
    log_likelihood = evaluation.bernoulli_log_likelihood
    assert log_likelihood(x, np.zeros((1, 4)))[0] == pytest.approx(4 * np.log(0.5))
    sure = np.array([[-30.0, 30.0]])
    assert log_likelihood(np.array([[0.0, 1.0]]), sure)[0] == pytest.approx(0, abs=1e-12)
    assert evaluation.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3))) == pytest.approx([0, 0])
    assert evaluation.gaussian_kl(np.array([[2.0]]), np.array([[0.0]]))[0] == pytest.approx(2.0)
    errors = evaluation.reconstruction_error(np.zeros((2, 2)), np.full((2, 2), 0.5))
    assert errors["reconstruction_mse"] == pytest.approx(0.25)
    assert errors["reconstruction_bce"] == pytest.approx(np.log(2))
    noise = evaluation.uniform_noise_images(100, (4, 4, 1), seed=1)
    assert noise.shape == (100, 4, 4, 1) and 0 <= noise.min() and noise.max() <= 1


def _feature_model():
    return zoo.create("mlp", input_shape=(8, 8, 1), num_classes=3, hidden_units=(16, 6))


def test_generative_penultimate_features_and_fid(tmp_path):
    mlp = _feature_model()
    x = np.random.default_rng(0).uniform(size=(40, 8, 8, 1)).astype("float32")
    feats = evaluation.penultimate_features(mlp, x, batch_size=16)
    manual = keras.ops.convert_to_numpy(mlp.hidden[1](mlp.hidden[0](mlp.flatten(x))))
    np.testing.assert_allclose(feats, manual, rtol=1e-5, atol=1e-6)
    assert feats.shape == (40, 6)
    mlp.save(tmp_path / "model.keras")  # a run directory holds model.keras
    assert evaluation.fid(x, x, feature_model=str(tmp_path)) == pytest.approx(0, abs=1e-6)
    noise = evaluation.uniform_noise_images(40, (8, 8, 1), seed=2) * 0.2
    assert evaluation.fid(noise, x, feature_model=mlp) > 0
    layers = keras.layers
    seq = keras.Sequential(
        [keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(5), layers.Dense(2)]
    )
    assert evaluation.penultimate_features(seq, x).shape == (40, 5)
    with pytest.raises(ValueError, match="feature_model"):
        evaluation.load_feature_model(str(tmp_path / "missing"))
    with pytest.raises(TypeError, match="feature_model"):
        evaluation.load_feature_model(3)
    with pytest.raises(ValueError, match="input shape"):
        evaluation.penultimate_features(mlp, np.zeros((2, 4, 4, 1)))


def test_generative_evaluation_metrics_of_each_kind():
    x = np.random.default_rng(0).uniform(size=(24, 8, 8, 1)).astype("float32")
    mlp = _feature_model()
    ae = zoo.create("autoencoder", **TINY)
    figures = ae.evaluation_metrics(x)
    expected = evaluation.reconstruction_error(x, ae.reconstruct(x))
    assert figures == pytest.approx(expected)

    vae = zoo.create("vae", **TINY)
    figures = evaluation.evaluate(vae, x, dataset="fashion_mnist", feature_model=mlp)
    assert set(figures) == {"elbo", "reconstruction_mse", "reconstruction_bce", "fid_fmnist"}
    assert figures["elbo"] < 0 and np.isfinite(figures["fid_fmnist"])
    # one sample of z per image: the ELBO estimate is the log-likelihood minus the KL
    elbo = vae.elbo(x, seed=5)
    assert elbo.shape == (24,) and np.all(elbo < 0)

    gan = zoo.create("wgan_gp", **TINY)
    gan.compile()
    figures = evaluation.evaluate(gan, x, dataset="cifar10", feature_model=mlp, num_samples=30)
    assert {"d_loss", "g_loss", "gp", "frechet_distance"} <= set(figures)
    assert "fid_fmnist" not in figures
    assert set(gan.evaluation_metrics(x)) == {"d_loss", "g_loss", "gp", "wasserstein"}
    fresh = zoo.create("dcgan", **TINY)  # not compiled: no players' losses to report
    figures = evaluation.evaluate(fresh, x, feature_model=mlp, num_samples=30)
    assert set(figures) == {"frechet_distance"}
    # the models themselves need no feature network (FID lives above them)
    assert set(vae.evaluation_metrics(x)) == {"elbo", "reconstruction_mse", "reconstruction_bce"}
    with pytest.raises(ValueError, match="feature_model"):
        evaluation.evaluate(ae, x, feature_model=mlp)

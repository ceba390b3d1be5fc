"""WGAN-GP's gradient penalty against its analytic value, and its second-order update."""

import numpy as np
import pytest

import keras
import zoo


def linear_wgan(w, gp_weight=1.0):
    """WGAN-GP whose critic is linear (D(x) = w.x + b) and whose generator outputs 0.5."""
    model = zoo.create(
        "wgan_gp", input_shape=(2, 2, 1), latent_dim=2, variant="dense", hidden_units=(),
        critic_steps=1, gp_weight=gp_weight, seed=0,
    )
    dense = model.critic.layers[-1]
    dense.kernel.assign(np.asarray(w, "float32").reshape(4, 1))
    dense.bias.assign(np.array([0.3], "float32"))
    out = model.generator.layers[0]
    out.kernel.assign(np.zeros(out.kernel.shape, "float32"))
    out.bias.assign(np.zeros(out.bias.shape, "float32"))  # sigmoid(0) = 0.5 everywhere
    return model


W = np.array([0.6, -1.2, 0.4, 0.8])  # ||w|| = 1.6125


@pytest.mark.jax
@pytest.mark.torch
def test_generative_gradient_penalty_of_linear_critic():
    model = linear_wgan(W)
    real = np.random.default_rng(0).uniform(size=(6, 2, 2, 1)).astype("float32")
    fake = np.random.default_rng(1).uniform(size=(6, 2, 2, 1)).astype("float32")
    expected = (np.linalg.norm(W) - 1.0) ** 2
    got = float(keras.ops.convert_to_numpy(model.gradient_penalty(real, fake)))
    assert got == pytest.approx(expected, rel=1e-5)
    # the evaluation step (jitted on JAX, under no_grad on torch) computes it too
    model.compile()
    results = model.evaluate(real, batch_size=6, return_dict=True, verbose=0)
    assert results["gp"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.jax
@pytest.mark.torch
def test_generative_gradient_penalty_is_differentiated_in_the_step():
    # d_loss = w.(mean fake - mean real) + gp_weight * (||w|| - 1)^2, so one SGD step gives
    # w - lr * (0.5 - mean real + 2 gp_weight (||w|| - 1) w / ||w||): the second term
    # exists only if the step differentiates the input gradient again.
    lr, gp_weight = 0.1, 2.0
    model = linear_wgan(W, gp_weight)
    model.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    real = np.random.default_rng(0).uniform(size=(6, 2, 2, 1)).astype("float32")
    model.train_on_batch(real, np.zeros(6))
    norm = np.linalg.norm(W)
    grad = (0.5 - real.reshape(6, 4).mean(0)) + 2 * gp_weight * (norm - 1) * W / norm
    w_new = keras.ops.convert_to_numpy(model.critic.layers[-1].kernel).reshape(4)
    np.testing.assert_allclose(w_new, W - lr * grad, rtol=1e-4, atol=1e-6)
    b_new = float(keras.ops.convert_to_numpy(model.critic.layers[-1].bias)[0])
    assert b_new == pytest.approx(0.3, abs=1e-6)  # b cancels in D(fake) - D(real)

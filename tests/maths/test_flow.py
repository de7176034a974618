"""The sample gradient of eq. 2 and the gradient flow: against finite differences of a SciPy W2, a Monge map
built with SciPy's sqrtm, the closed form of the flow, and TensorFlow's autodiff of the W2 loss."""

import numpy as np
import pytest
import scipy.linalg

from ot_style.maths.flow import monge_step, sample_w2_squared, w2_gradient_flow, w2_sample_gradient


def cloud_and_target(c, n, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, c)) @ rng.normal(size=(c, c)) + rng.normal(size=c)
    b = rng.normal(size=(c, c))
    return y, rng.normal(size=c), b @ b.T / c + 0.2 * np.eye(c)


def scipy_w2_squared(y, mean_s, cov_s):
    """Eq. 2 from the samples' eq. 1 moments, with np.cov (ddof=1) and scipy.linalg.sqrtm."""
    mean, cov = y.mean(axis=0), np.atleast_2d(np.cov(y.T, ddof=1))
    root = scipy.linalg.sqrtm(cov_s).real
    cross = np.trace(scipy.linalg.sqrtm(root @ cov @ root).real)
    return float(np.sum((mean - mean_s) ** 2) + np.trace(cov) + np.trace(cov_s) - 2 * cross)


def scipy_monge_matrix(cov, cov_s):
    root = scipy.linalg.sqrtm(cov).real
    inv_root = np.linalg.inv(root)
    return inv_root @ scipy.linalg.sqrtm(root @ cov_s @ root).real @ inv_root


def central_differences(f, y, h=1e-5):
    grad = np.zeros_like(y)
    for index in np.ndindex(y.shape):
        up, down = y.copy(), y.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (2 * h)
    return grad


@pytest.mark.parametrize("c, n", [(1, 6), (2, 12), (5, 30)])
def test_gradient_agrees_with_finite_differences_of_an_independent_w2(c, n):
    y, mean_s, cov_s = cloud_and_target(c, n, seed=c)
    assert sample_w2_squared(y, mean_s, cov_s) == pytest.approx(scipy_w2_squared(y, mean_s, cov_s), rel=1e-10)
    fd = central_differences(lambda z: scipy_w2_squared(z, mean_s, cov_s), y)
    grad = w2_sample_gradient(y, mean_s, cov_s)
    assert grad.shape == (n, c)
    assert np.max(np.abs(grad - fd)) <= 1e-6 * np.max(np.abs(fd))


@pytest.mark.parametrize("c, n", [(2, 50), (5, 40)])
def test_gradient_is_the_transport_arrow_with_the_mean_correction(c, n):
    y, mean_s, cov_s = cloud_and_target(c, n, seed=10 + c)
    mean, cov = y.mean(axis=0), np.cov(y.T)
    a = scipy_monge_matrix(cov, cov_s)
    arrow = y - (mean_s + (y - mean) @ a)                     # y_i - T(y_i)
    expected = 2 / (n - 1) * (arrow - (mean - mean_s) / n)
    assert np.allclose(w2_sample_gradient(y, mean_s, cov_s), expected, atol=1e-10)
    # the gradient sums to n times the mean term: the centred part has no net push
    assert np.allclose(w2_sample_gradient(y, mean_s, cov_s).sum(axis=0), 2 * (mean - mean_s), atol=1e-10)


def test_one_monge_step_lands_on_the_monge_image_and_matches_the_target_exactly():
    c, n = 3, 25
    y, mean_s, cov_s = cloud_and_target(c, n, seed=3)
    y = y - y.mean(axis=0) + mean_s                           # means agree
    a = scipy_monge_matrix(np.cov(y.T), cov_s)
    flow = w2_gradient_flow(y, mean_s, cov_s, step=monge_step(n), steps=1)
    assert monge_step(n) == (n - 1) / 2
    assert np.allclose(flow.path[1], mean_s + (y - mean_s) @ a, atol=1e-10)
    assert np.allclose(np.cov(flow.path[1].T), cov_s, atol=1e-10)
    assert flow.w2_squared[1] == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0, 1.4])
def test_the_flow_follows_the_straight_arrows_in_closed_form(t):
    # y_i(k) = mu_s + r^k (mu_y - mu_s) + A d_i + (1 - t)^k (I - A) d_i, with r = 1 - t (n - 1) / n.
    c, n, steps = 2, 40, 6
    y, mean_s, cov_s = cloud_and_target(c, n, seed=4)
    mean, cov = y.mean(axis=0), np.cov(y.T)
    a = scipy_monge_matrix(cov, cov_s)
    assert np.linalg.eigvalsh(a).min() > (t - 1) / t          # the overshooting steps stay on the line
    flow = w2_gradient_flow(y, mean_s, cov_s, step=t * (n - 1) / 2, steps=steps)
    d, r = y - mean, 1 - t * (n - 1) / n
    w2_centred = scipy_w2_squared(d, np.zeros(c), cov_s)      # W2^2 between the centred Gaussians
    for k in range(steps + 1):
        expected = mean_s + r**k * (mean - mean_s) + d @ a + (1 - t) ** k * (d - d @ a)
        assert np.allclose(flow.path[k], expected, atol=1e-9)
        predicted = r ** (2 * k) * np.sum((mean - mean_s) ** 2) + (1 - t) ** (2 * k) * w2_centred
        assert flow.w2_squared[k] == pytest.approx(predicted, rel=1e-8, abs=1e-10)
    if t <= 1:
        assert np.all(np.diff(flow.w2_squared) < 0)


def test_agrees_with_tensorflow_autodiff_of_the_w2_loss():
    tf = pytest.importorskip("tensorflow")
    from ot_style.losses.w2 import W2Loss
    from ot_style.maths.gaussian import sqrtm_psd

    y, mean_s, cov_s = cloud_and_target(4, 30, seed=5)
    target = (tf.constant(mean_s), tf.constant(cov_s), tf.constant(sqrtm_psd(cov_s)))
    variable = tf.Variable(y)
    with tf.GradientTape() as tape:
        value = W2Loss(["relu1_1"]).score(variable, target)
    grad = tape.gradient(value, variable).numpy()
    assert float(value) == pytest.approx(scipy_w2_squared(y, mean_s, cov_s), rel=1e-10)
    assert np.max(np.abs(grad - w2_sample_gradient(y, mean_s, cov_s))) <= 1e-9 * np.max(np.abs(grad))


def test_bad_inputs_are_refused_with_a_sentence():
    y, mean_s, cov_s = cloud_and_target(3, 10, seed=6)
    with pytest.raises(ValueError, match="more samples than dimensions"):
        w2_sample_gradient(y[:3], mean_s, cov_s)
    with pytest.raises(ValueError, match="target needs a mean of shape"):
        w2_sample_gradient(y, mean_s[:2], cov_s)
    with pytest.raises(ValueError, match="positive number"):
        w2_gradient_flow(y, mean_s, cov_s, step=0.0, steps=2)
    with pytest.raises(ValueError, match="whole number"):
        w2_gradient_flow(y, mean_s, cov_s, step=1.0, steps=1.5)
    with pytest.raises(ValueError, match="at least 2 samples"):
        monge_step(1)
    assert w2_gradient_flow(y, mean_s, cov_s, step=1.0, steps=0).path.shape == (1, 10, 3)

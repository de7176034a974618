"""Checks shared by the loss tests (not collected: the name starts with "_").

Random feature dicts, a loss's value and gradient on them, and the directional-derivative check
against central differences used by tests/test_losses.py and tests/test_w2_loss.py.
"""

import numpy as np
import pytest
import tensorflow as tf

LAYERS = ("relu1_1", "relu2_1")


def random_features(rng, h=6, channels=(5, 7), dtype=np.float64, layers=LAYERS, relu=False):
    """A feature dict layer -> (1, h_l, w_l, c) with the second layer at half resolution."""
    out = {}
    for i, (layer, c) in enumerate(zip(layers, channels)):
        side = max(1, h // (2**i))
        x = rng.standard_normal((1, side, side, c)) + rng.standard_normal(c)
        out[layer] = tf.constant(np.maximum(x, 0) if relu else x, dtype=dtype)
    return out


def evaluate(loss, features, target, image=None):
    return float(tf.add_n(list(loss(features, target, image).values())))


def gradient(loss, features, target, image=None):
    names = sorted(features)
    tensors = [features[k] for k in names]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        if image is not None:
            tape.watch(image)
        value = tf.add_n(list(loss(dict(zip(names, tensors)), target, image).values()))
    grads = tape.gradient(value, tensors + ([image] if image is not None else []))
    return dict(zip(names + (["image"] if image is not None else []), grads))


def check_directional_derivatives(loss, features, target, image=None, *, seed=0, h=1e-6, rtol=1e-5,
                                  directions=3):
    """<grad, v> against the central difference (L(x + h v) - L(x - h v)) / 2h, float64."""
    rng = np.random.default_rng(seed)
    grads = gradient(loss, features, target, image)
    for _ in range(directions):
        step = {k: rng.standard_normal(v.shape) for k, v in grads.items()}
        analytic = sum(float(np.sum(grads[k].numpy() * step[k])) for k in grads)

        def shifted(sign):
            f = {k: v + sign * h * step[k] for k, v in features.items()}
            img = None if image is None else image + sign * h * step["image"]
            return evaluate(loss, f, target, img)

        numeric = (shifted(1.0) - shifted(-1.0)) / (2 * h)
        assert analytic == pytest.approx(numeric, rel=rtol, abs=rtol * 1e-3 * max(1.0, abs(numeric)))


def flat(x):
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(-1, x.shape[-1])

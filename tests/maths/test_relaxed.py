"""STROTSS's NumPy building blocks against POT, SciPy, hand computations and their TensorFlow twins."""

import numpy as np
import pytest
from scipy.ndimage import map_coordinates
from scipy.spatial.distance import cdist

from ot_style.maths.emd import empirical_w2
from ot_style.maths.pot import import_pot
from ot_style.maths.relaxed import (cosine_cost, euclidean_cost, exact_emd, hypercolumns, relaxed_emd,
                                    sample_bilinear, self_similarity, self_similarity_loss, sqeuclidean_cost)


def _clouds(seed=0, n=40, m=55, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((m, d)) * 1.5 + 0.3


def test_cost_matrices_are_scipys():
    x, y = _clouds()
    np.testing.assert_allclose(sqeuclidean_cost(x, y), cdist(x, y, "sqeuclidean"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(euclidean_cost(x, y), cdist(x, y, "euclidean"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cosine_cost(x, y), cdist(x, y, "cosine"), rtol=1e-10, atol=1e-12)


def test_cosine_cost_sees_only_directions():
    x, y = _clouds(1)
    rng = np.random.default_rng(2)
    sx, sy = rng.uniform(0.1, 10.0, (len(x), 1)), rng.uniform(0.1, 10.0, (len(y), 1))
    np.testing.assert_allclose(cosine_cost(sx * x, sy * y), cosine_cost(x, y), atol=1e-12)
    assert cosine_cost(x, -x).diagonal() == pytest.approx(2.0)  # opposite directions: the largest cost
    # a dead (all-zero) feature vector is at cosine cost 1 from everything, not NaN
    zero = np.zeros((1, 3))
    assert cosine_cost(zero, y) == pytest.approx(np.ones((1, len(y))))


def test_relaxed_emd_by_hand():
    x = np.array([[0.0], [1.0]])
    y = np.array([[0.0], [0.0], [3.0]])
    r = relaxed_emd(euclidean_cost(x, y))
    # x: 0 -> 0 (cost 0), 1 -> 0 (cost 1): mean 1/2.  y: 0 -> 0, 0 -> 0, 3 -> 1 (cost 2): mean 2/3.
    assert (r.x_to_y, r.y_to_x, r.value) == pytest.approx((0.5, 2.0 / 3.0, 2.0 / 3.0))
    assert list(r.match_x) == [0, 0] and list(r.match_y) == [0, 0, 1]
    assert r.largest_share() == (2, 2)


@pytest.mark.parametrize("cost", [sqeuclidean_cost, euclidean_cost, cosine_cost])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_side_of_the_relaxed_emd_is_below_the_exact_emd(cost, seed):
    ot = import_pot()
    x, y = _clouds(seed)
    c = cost(x, y)
    exact = float(ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), c))
    r = relaxed_emd(c)
    assert r.x_to_y <= exact + 1e-12 and r.y_to_x <= exact + 1e-12 and r.value <= exact + 1e-12


def test_exact_emd_is_pots_and_its_plan_is_a_coupling():
    ot = import_pot()
    x, y = _clouds(3)
    c = sqeuclidean_cost(x, y)
    e = exact_emd(c)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    assert e.value == pytest.approx(float(ot.emd2(a, b, c)), rel=1e-10)
    assert np.sqrt(e.value) == pytest.approx(empirical_w2(x, y), rel=1e-9)  # squared Euclidean cost: W2^2
    np.testing.assert_allclose(e.plan.sum(axis=1), a, atol=1e-12)
    np.testing.assert_allclose(e.plan.sum(axis=0), b, atol=1e-12)
    i, j = e.arrows()
    assert len(i) >= max(len(x), len(y)) and np.all(e.plan[i, j] > 0)


def test_equal_sized_clouds_exact_plan_is_a_permutation_relaxed_is_not():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 2))
    y = 3.0 * rng.standard_normal((30, 2))
    e = exact_emd(sqeuclidean_cost(x, y))
    i, j = e.arrows()
    assert sorted(i) == list(range(30)) and sorted(j) == list(range(30))  # each point moves to one point
    assert max(relaxed_emd(sqeuclidean_cost(x, y)).largest_share()) > 1


def test_relaxed_emd_sees_supports_not_mass():
    x = np.random.default_rng(5).standard_normal((20, 2))
    heavier = np.concatenate([x, np.repeat(x[:3], 10, axis=0)])  # the first 3 points carry far more mass
    c = sqeuclidean_cost(x, heavier)
    assert relaxed_emd(c).value == 0.0
    assert exact_emd(c).value > 0.05
    assert relaxed_emd(sqeuclidean_cost(x, x[::-1])).value == 0.0
    assert relaxed_emd(sqeuclidean_cost(x, x + 0.1)).value > 0.0


def test_self_similarity_invariances_and_loss():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((25, 6))
    s = self_similarity(x)
    np.testing.assert_allclose(s.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.diag(s), 0.0, atol=1e-12)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    np.testing.assert_allclose(self_similarity(x @ q), s, atol=1e-12)
    np.testing.assert_allclose(self_similarity(4.0 * x), s, atol=1e-12)
    assert self_similarity_loss(3.0 * x @ q, x) == pytest.approx(0.0, abs=1e-12)
    assert self_similarity_loss(x + 2.0, x) > 1e-3  # not invariant to a translation
    by_hand = np.mean(np.abs(s - self_similarity(x[::-1])))
    assert self_similarity_loss(x, x[::-1]) == pytest.approx(by_hand)


def test_sample_bilinear_is_scipys_linear_interpolation_with_aligned_corners():
    rng = np.random.default_rng(7)
    fmap = rng.standard_normal((5, 7, 3))
    coords = np.concatenate([rng.uniform(0, 1, (50, 2)), [[0, 0], [1, 1], [0, 1], [0.5, 0.5]]])
    got = sample_bilinear(fmap, coords)
    rows, cols = coords[:, 0] * 4, coords[:, 1] * 6
    want = np.stack([map_coordinates(fmap[..., c], [rows, cols], order=1) for c in range(3)], axis=1)
    np.testing.assert_allclose(got, want, atol=1e-12)
    np.testing.assert_allclose(got[-4], fmap[0, 0]) and np.testing.assert_allclose(got[-3], fmap[4, 6])
    np.testing.assert_allclose(sample_bilinear(fmap[None], coords), got)


def test_hypercolumns_concatenate_layers_of_different_sizes():
    rng = np.random.default_rng(8)
    fine, coarse = rng.standard_normal((8, 8, 4)), rng.standard_normal((4, 4, 6))
    coords = rng.uniform(0, 1, (10, 2))
    h = hypercolumns([fine, coarse], coords)
    assert h.shape == (10, 10)
    np.testing.assert_allclose(h[:, :4], sample_bilinear(fine, coords))
    np.testing.assert_allclose(h[:, 4:], sample_bilinear(coarse, coords))


def test_inputs_are_refused_with_a_sentence():
    with pytest.raises(ValueError, match="same dimension"):
        sqeuclidean_cost(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        relaxed_emd(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="same N locations"):
        self_similarity_loss(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        sample_bilinear(np.zeros((3, 3, 1)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="at least one"):
        hypercolumns([], np.zeros((1, 2)))


# ------------------------------------------------------------------ the TensorFlow twins (losses.strotss)

def test_tensorflow_twins_agree_to_1e_6():
    tf = pytest.importorskip("tensorflow")
    from ot_style.losses import strotss

    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((30, 5)), rng.standard_normal((40, 5))
    for np_cost, tf_cost in [(cosine_cost, strotss.cosine_cost), (euclidean_cost, strotss.euclidean_cost)]:
        c_tf = tf_cost(tf.constant(x), tf.constant(y)).numpy()
        np.testing.assert_allclose(c_tf, np_cost(x, y), atol=1e-6)
        assert float(strotss.relaxed_emd(tf.constant(c_tf))) == pytest.approx(relaxed_emd(c_tf).value, abs=1e-6)
    np.testing.assert_allclose(strotss.self_similarity(tf.constant(x)).numpy(), self_similarity(x), atol=1e-6)
    fmap, coords = rng.standard_normal((1, 6, 9, 4)), rng.uniform(0, 1, (20, 2))
    np.testing.assert_allclose(strotss.sample_bilinear(tf.constant(fmap), tf.constant(coords)).numpy(),
                               sample_bilinear(fmap, coords), atol=1e-6)


def test_strotss_loss_terms_are_the_numpy_formulas_over_the_normaliser():
    tf = pytest.importorskip("tensorflow")
    from ot_style.losses.strotss import StrotssLoss, uniform_coords
    from ot_style.maths.gaussian import moment_distance
    from ot_style.maths.moments import feature_moments

    rng = np.random.default_rng(10)
    layers = ("relu1_1", "relu2_1")
    style = {"relu1_1": rng.random((1, 8, 8, 3)), "relu2_1": rng.random((1, 4, 4, 5))}
    image = {"relu1_1": rng.random((1, 8, 8, 3)), "relu2_1": rng.random((1, 4, 4, 5))}
    style_img, img = rng.random((8, 8, 3)), rng.random((8, 8, 3))
    alpha, n = 2.0, 30
    loss = StrotssLoss(layers, alpha=alpha, samples=n)
    as_tf = {k: tf.constant(v) for k, v in style.items()}
    target = loss.prepare([as_tf], [tf.constant(style_img)], seed=3)
    terms = {k: float(v) for k, v in loss({k: tf.constant(v) for k, v in image.items()}, target,
                                          tf.constant(img)).items()}
    # the same sample locations, drawn as prepare draws them (style first, then the image)
    gen = np.random.default_rng(3)
    style_coords, image_coords = uniform_coords(gen, n), uniform_coords(gen, n)
    hs = hypercolumns([style[k][0] for k in layers], style_coords)
    hx = hypercolumns([image[k][0] for k in layers], image_coords)
    z = 2.0 + alpha + 1.0 / alpha
    ms, mx = feature_moments(hs), feature_moments(hx)
    palette = relaxed_emd(euclidean_cost(sample_bilinear(img, image_coords),
                                         sample_bilinear(style_img, style_coords))).value
    assert terms["style/remd"] == pytest.approx(relaxed_emd(cosine_cost(hx, hs)).value / z, abs=1e-6)
    assert terms["style/moments"] == pytest.approx(moment_distance(mx.mean, mx.cov, ms.mean, ms.cov) / z, abs=1e-6)
    assert terms["style/colour"] == pytest.approx(palette / (alpha * z), abs=1e-6)

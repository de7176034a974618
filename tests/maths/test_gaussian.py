"""Eq. 2 (Gaussian W2), eq. 4 (Gram loss), the Monge map: against POT, SciPy and a 40-digit reference."""

import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from ot_style import gatys_style_loss, gaussian_monge_map, gaussian_w2
from ot_style.maths.pot import import_pot
from ot_style.maths.counterexamples import PAIRS
from ot_style.maths.gaussian import sqrtm_psd

SIZES = [1, 2, 3, 16, 64, 512]


def random_spd(rng, c, rank=None):
    r = c if rank is None else rank
    a = rng.normal(size=(c, r))
    return a @ a.T / r


def dead_channels(rng, c, dead):
    """A PSD covariance with exactly `dead` zero rows/columns (constant channels, e.g. dead ReLUs)."""
    a = rng.normal(size=(c - dead, c - dead))
    cov = np.zeros((c, c))
    cov[: c - dead, : c - dead] = a @ a.T / (c - dead)
    p = rng.permutation(c)
    return cov[p][:, p]


def w2_squared_40_digits(mx, cx, my, cy):
    """Eq. 2 evaluated with 40 significant digits (mpmath), from the float64 inputs taken as exact."""
    with mp.workdps(40):
        Cx, Cy = mp.matrix(cx.tolist()), mp.matrix(cy.tolist())
        lam_y, q = mp.eigsy(Cy)
        root_y = q * mp.diag([mp.sqrt(max(v, 0)) for v in lam_y]) * q.T
        middle = root_y * Cx * root_y
        lam = mp.eigsy((middle + middle.T) / 2, eigvals_only=True)
        cross = sum(mp.sqrt(max(v, 0)) for v in lam)
        shift = sum((mp.mpf(float(a)) - mp.mpf(float(b))) ** 2 for a, b in zip(mx, my))
        trace = sum(Cx[i, i] + Cy[i, i] for i in range(Cx.rows))
        return float(shift + trace - 2 * cross)


def scipy_w2_squared(mx, cx, my, cy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sqrtm warns on singular input
        root_y = scipy.linalg.sqrtm(cy)
        cross = np.trace(scipy.linalg.sqrtm(root_y @ cx @ root_y)).real
    return float(np.sum((mx - my) ** 2) + np.trace(cx) + np.trace(cy) - 2 * cross)


@pytest.mark.parametrize("c", SIZES)
def test_w2_agrees_with_pot_and_scipy_on_spd_pairs(c):
    rng = np.random.default_rng(c)
    cx, cy = random_spd(rng, c), random_spd(rng, c)
    mx, my = rng.normal(size=c), rng.normal(size=c)
    ot = import_pot()
    pot = float(ot.gaussian.bures_wasserstein_distance(mx, my, cx, cy))
    ours = gaussian_w2(mx, cx, my, cy)
    assert ours == pytest.approx(pot, rel=1e-10)
    assert ours**2 == pytest.approx(scipy_w2_squared(mx, cx, my, cy), rel=1e-10)
    assert gaussian_w2(mx, cx, my, cy, squared=True) == pytest.approx(ours**2, rel=1e-14)


@pytest.mark.parametrize("c, dead", [(2, 1), (3, 1), (8, 3), (16, 8), (24, 20)])
def test_w2_is_exact_for_singular_covariances_against_a_40_digit_reference(c, dead):
    # POT's sqrtm returns NaN on these (negative rounding eigenvalues); ours clamps them.
    rng = np.random.default_rng(100 + c)
    cx, cy = dead_channels(rng, c, dead), dead_channels(rng, c, dead)
    mx, my = rng.normal(size=c), rng.normal(size=c)
    ref = w2_squared_40_digits(mx, cx, my, cy)
    assert gaussian_w2(mx, cx, my, cy, squared=True) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("c, rank", [(64, 10), (512, 256)])
def test_w2_on_large_rank_deficient_pairs_agrees_with_scipy_sqrtm(c, rank):
    # relu5_1 at 256x256 has 256 samples for 512 channels: this is the normal case, not an edge case.
    # SciPy's Schur-based sqrtm loses ~8 digits on singular input, hence the looser tolerance.
    rng = np.random.default_rng(c + rank)
    cx, cy = random_spd(rng, c, rank), random_spd(rng, c, rank + 3)
    mx, my = rng.normal(size=c), rng.normal(size=c)
    ours = gaussian_w2(mx, cx, my, cy, squared=True)
    assert np.isfinite(ours)
    assert ours == pytest.approx(scipy_w2_squared(mx, cx, my, cy), rel=1e-7)


def test_w2_between_two_unit_normals_ten_apart_is_ten():
    assert gaussian_w2([0.0], [[1.0]], [10.0], [[1.0]]) == pytest.approx(10.0, rel=1e-15)
    assert gaussian_w2(0.0, 1.0, 10.0, 1.0) == pytest.approx(10.0, rel=1e-15)


def test_w2_of_the_wz_counterexample_is_sqrt_6_and_the_gram_loss_is_blind_to_both_pairs():
    wz = PAIRS["WZ"]
    assert gaussian_w2(wz.mean_x, wz.cov_x, wz.mean_y, wz.cov_y) == pytest.approx(np.sqrt(6.0), rel=1e-14)
    for p in PAIRS.values():
        assert gatys_style_loss(p.mean_x, p.cov_x, p.mean_y, p.cov_y) < 1e-28
        assert gaussian_w2(p.mean_x, p.cov_x, p.mean_y, p.cov_y) > 1.0


def test_gatys_loss_is_the_squared_frobenius_distance_of_raw_second_moments():
    rng = np.random.default_rng(5)
    cx, cy = random_spd(rng, 4), random_spd(rng, 4)
    mx, my = rng.normal(size=4), rng.normal(size=4)
    gx, gy = cx + np.outer(mx, mx), cy + np.outer(my, my)
    assert gatys_style_loss(mx, cx, my, cy) == pytest.approx(np.linalg.norm(gx - gy, "fro") ** 2, rel=1e-13)


def gaussians(c):
    floats = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
    mean = st.lists(floats, min_size=c, max_size=c).map(np.array)
    # a covariance from a random factor of random rank (rank 0 = a point mass)
    factor = st.integers(0, c).flatmap(
        lambda r: st.lists(floats, min_size=c * r, max_size=c * r).map(lambda v: np.array(v).reshape(c, r)))
    return st.tuples(mean, factor.map(lambda a: a @ a.T))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda c: st.tuples(gaussians(c), gaussians(c), gaussians(c))))
def test_w2_is_a_metric_symmetry_identity_triangle(triple):
    (ma, ca), (mb, cb), (mc, cc) = triple
    ab, ba = gaussian_w2(ma, ca, mb, cb), gaussian_w2(mb, cb, ma, ca)
    scale = 1.0 + np.trace(ca) + np.trace(cb) + np.trace(cc)
    assert ab == pytest.approx(ba, abs=1e-6 * scale)
    # Identity holds to rounding: W2^2 is exact to ~eps * scale, so W2 (its square root) only to about
    # sqrt(eps * scale) per tiny eigenvalue; hypothesis found C = diag(1, 1e-10), where W2(C, C) = 1.4e-5.
    assert gaussian_w2(ma, ca, ma, ca, squared=True) <= 1e-8 * scale
    assert gaussian_w2(ma, ca, ma, ca) <= 1e-4 * np.sqrt(scale)
    assert ab >= 0.0
    ac, cb_ = gaussian_w2(ma, ca, mc, cc), gaussian_w2(mc, cc, mb, cb)
    assert ab <= ac + cb_ + 1e-6 * scale


def test_the_gram_loss_breaks_the_identity_of_indiscernibles():
    p = PAIRS["XY"]
    assert not np.allclose(p.mean_x, p.mean_y)
    assert gatys_style_loss(p.mean_x, p.cov_x, p.mean_y, p.cov_y) == pytest.approx(0.0, abs=1e-28)


@pytest.mark.parametrize("c", [1, 3, 8])
def test_monge_map_pushes_samples_onto_the_target_moments_with_cost_w2_squared(c):
    rng = np.random.default_rng(c)
    cx, cy = random_spd(rng, c), random_spd(rng, c)
    mx, my = rng.normal(size=c), rng.normal(size=c)
    t = gaussian_monge_map(mx, cx, my, cy)
    np.testing.assert_allclose(t.matrix, t.matrix.T, atol=1e-12)
    assert np.linalg.eigvalsh(t.matrix).min() > -1e-10  # PSD: the gradient of a convex function
    # Exact push-forward of the moments: A Cx A = Cy and T(mx) = my.
    np.testing.assert_allclose(t.matrix @ cx @ t.matrix, cy, atol=1e-10)
    np.testing.assert_allclose(t(mx), my, atol=1e-12)
    # And on samples: whitened samples have exactly the source moments, so their image has the target's.
    z = rng.normal(size=(4000, c))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.atleast_2d(np.cov(z.T)))).T
    x = mx + z @ np.linalg.cholesky(cx).T
    y = t(x)
    np.testing.assert_allclose(y.mean(0), my, atol=1e-10)
    np.testing.assert_allclose(np.cov(y.T).reshape(c, c), cy, atol=1e-9)
    # Brenier: the squared displacement is W2^2 (the spread part counted with eq. 1's n - 1).
    shift = np.sum((mx - my) ** 2)
    spread = (np.mean(np.sum((x - y) ** 2, axis=1)) - shift) * 4000 / 3999
    assert shift + spread == pytest.approx(gaussian_w2(mx, cx, my, cy, squared=True), rel=1e-9)


def test_monge_map_matches_pot():
    rng = np.random.default_rng(9)
    cx, cy = random_spd(rng, 5), random_spd(rng, 5)
    mx, my = rng.normal(size=5), rng.normal(size=5)
    a, b = import_pot().gaussian.bures_wasserstein_mapping(mx, my, cx, cy)
    t = gaussian_monge_map(mx, cx, my, cy)
    x = rng.normal(size=(10, 5))
    np.testing.assert_allclose(t(x), x @ a + b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("c", [1, 4, 64])
def test_sqrtm_psd_squares_back_and_matches_scipy(c):
    rng = np.random.default_rng(c)
    cov = random_spd(rng, c)
    root = sqrtm_psd(cov)
    np.testing.assert_allclose(root @ root, cov, atol=1e-11 * c)
    np.testing.assert_allclose(root, scipy.linalg.sqrtm(cov).real, atol=1e-9)


@pytest.mark.parametrize("args, words", [
    (([0.0, 0.0], np.eye(2), [0.0], np.eye(1)), "different dimensions"),
    (([0.0, 0.0], np.ones((2, 3)), [0.0, 0.0], np.eye(2)), "square"),
])
def test_w2_refuses_mismatched_shapes_with_a_sentence(args, words):
    with pytest.raises(ValueError, match=words):
        gaussian_w2(*args)


def test_moment_distance_is_strotss_lm_and_a_metric_on_the_summaries():
    from ot_style.maths.gaussian import moment_distance

    rng = np.random.default_rng(3)
    m1, m2, m3 = rng.normal(size=(3, 4))
    a, b, c = (x @ x.T for x in rng.normal(size=(3, 4, 6)))
    # (1/C) |mu - mu'|_1 + (1/C^2) |S - S'|_1, written out entry by entry
    want = sum(abs(m1[i] - m2[i]) for i in range(4)) / 4 + sum(abs(a[i, j] - b[i, j])
                                                                for i in range(4) for j in range(4)) / 16
    assert moment_distance(m1, a, m2, b) == pytest.approx(want, rel=1e-14)
    assert moment_distance(m1, a, m1, a) == 0.0
    assert moment_distance(m1, a, m2, b) == moment_distance(m2, b, m1, a)
    assert moment_distance(m1, a, m3, c) <= moment_distance(m1, a, m2, b) + moment_distance(m2, b, m3, c)
    with pytest.raises(ValueError, match="different dimensions"):
        moment_distance(m1, a, m2[:3], b[:3, :3])

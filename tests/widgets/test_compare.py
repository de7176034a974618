"""Notebook 05's measures (``ot_style.widgets.compare.feature_measures``) against computations written out
here: STROTSS's l_m entry by entry, the Gram loss through eq. 1's covariance and its (n-1)/n, the moments loss
the optimiser minimises, and the scalings and invariances the notebook's exercises ask about."""

import numpy as np
import pytest

from ot_style.widgets.compare import MEASURES, feature_measures, gram_twin

RNG = np.random.default_rng(11)
X = np.maximum(RNG.normal(0.3, 1.0, size=(120, 4)), 0)                      # ReLU-like features
Y = np.maximum(RNG.normal(0.0, 1.5, size=(90, 4)) @ RNG.normal(size=(4, 4)), 0)


def _l_m_by_loops(x, y):
    # (1/C) sum_c |mu_x - mu_y|_c + (1/C^2) sum_{c,d} |Sigma_x - Sigma_y|_{cd}, eq. 1's covariances, in loops
    def moments(a):
        n, c = len(a), len(a[0])
        mean = [sum(row[k] for row in a) / n for k in range(c)]
        cov = [[sum((row[i] - mean[i]) * (row[j] - mean[j]) for row in a) / (n - 1) for j in range(c)]
               for i in range(c)]
        return mean, cov

    (mx, cx), (my, cy) = moments(x.tolist()), moments(y.tolist())
    c = len(mx)
    return (sum(abs(a - b) for a, b in zip(mx, my)) / c
            + sum(abs(cx[i][j] - cy[i][j]) for i in range(c) for j in range(c)) / c**2)


def test_the_moments_measure_is_strotss_l_m():
    assert feature_measures(X, Y)["moments"] == pytest.approx(_l_m_by_loops(X, Y), rel=1e-12)


def test_the_moments_measure_is_what_the_moments_loss_minimises():
    tf = pytest.importorskip("tensorflow")
    from ot_style.losses.moments import MomentsLoss

    target = (Y.mean(0), np.cov(Y, rowvar=False))
    loss = float(MomentsLoss(["relu1_1"]).score(tf.constant(X), target))
    assert loss == pytest.approx(feature_measures(X, Y)["moments"], rel=1e-9)


def test_the_gram_measure_uses_the_biased_covariance():
    # G = (1/n) F^T F = ((n-1)/n) Sigma + mu mu^T with eq. 1's Sigma: written out with np.cov
    def gram(a):
        n = len(a)
        return (n - 1) / n * np.cov(a, rowvar=False) + np.outer(a.mean(0), a.mean(0))

    want = np.sum((gram(X) - gram(Y)) ** 2)
    assert feature_measures(X, Y)["Gram (Gatys)"] == pytest.approx(want, rel=1e-12)
    # with eq. 1's covariance and no (n-1)/n the value is measurably different
    wrong = np.sum((np.cov(X, rowvar=False) + np.outer(X.mean(0), X.mean(0))
                    - np.cov(Y, rowvar=False) - np.outer(Y.mean(0), Y.mean(0))) ** 2)
    assert abs(wrong - want) > 1e-4 * want


def test_the_measures_scale_as_a_squared_distance_a_fourth_power_and_a_distance():
    base, doubled = feature_measures(X, Y), feature_measures(2 * X, 2 * Y)
    assert doubled["gaussian W2^2"] == pytest.approx(4 * base["gaussian W2^2"], rel=1e-9)
    assert doubled["Gram (Gatys)"] == pytest.approx(16 * base["Gram (Gatys)"], rel=1e-12)
    assert doubled["sliced W2"] == pytest.approx(2 * base["sliced W2"], rel=1e-9)
    assert 2 * base["moments"] < doubled["moments"] < 4 * base["moments"]


def test_a_common_translation_moves_only_the_gram_measure():
    base, moved = feature_measures(X, Y), feature_measures(X + 3.0, Y + 3.0)
    for name in ("gaussian W2^2", "moments", "sliced W2"):
        assert moved[name] == pytest.approx(base[name], rel=1e-7), name
    assert moved["Gram (Gatys)"] > 2 * base["Gram (Gatys)"]


def test_a_duplicated_cloud_differs_only_through_eq_1s_n_minus_1():
    n = len(X)
    twice = feature_measures(X, np.vstack([X, X]))
    c = 2 * (n - 1) / (2 * n - 1)  # the duplicated cloud's unbiased covariance is c times X's
    assert twice["Gram (Gatys)"] < 1e-24 and twice["sliced W2"] < 1e-6  # POT interpolates quantiles
    assert twice["gaussian W2^2"] == pytest.approx((1 - np.sqrt(c)) ** 2 * np.trace(np.cov(X, rowvar=False)),
                                                   rel=1e-4)
    assert twice["moments"] == pytest.approx((1 - c) * np.abs(np.cov(X, rowvar=False)).sum() / 16, rel=1e-9)


def test_every_measure_is_zero_between_a_cloud_and_itself_and_named_in_measures():
    same = feature_measures(X, X)
    assert set(same) == set(MEASURES)
    assert same["Gram (Gatys)"] == 0 and same["moments"] == 0 and same["sliced W2"] == pytest.approx(0, abs=1e-12)
    assert same["gaussian W2^2"] == pytest.approx(0, abs=1e-9)


def test_gram_twin_flips_the_sign_of_half_of_the_vectors():
    twin = gram_twin(X, seed=4)
    assert np.all(np.all(twin == X, axis=1) | np.all(twin == -X, axis=1))
    # exactly n // 2 rows change sign (an all-zero row looks unchanged either way)
    assert np.sum(np.all(twin == -X, axis=1)) >= len(X) // 2 >= np.sum(~np.all(twin == X, axis=1)) > 0
    np.testing.assert_allclose(twin.T @ twin, X.T @ X, atol=1e-12)


# ------------------------------------------------------------------ shuffle_sensitivity (notebook 07)
def test_shuffle_sensitivity_is_the_ratio_of_two_w2_distances():
    pytest.importorskip("tensorflow")
    from ot_style.network.vgg import FeatureExtractor
    from ot_style.pixels.images import read_image, resize
    from ot_style.pixels.texture_scale import tile_shuffle
    from ot_style.widgets.compare import shuffle_sensitivity

    picture = resize(read_image("swirls.png", max_size=64), (32, 32))
    layers = ("relu1_1", "relu3_1")
    extractor = FeatureExtractor(layers, weights="random", seed=0)
    got = shuffle_sensitivity(picture, layers, (4, 8, 32), extractor=extractor, seed=5)

    def gaussian(array, layer):
        f = extractor(array[None].astype(np.float32))[layer].numpy()[0]
        f = f.reshape(-1, f.shape[-1]).astype(np.float64)
        return f.mean(0), np.cov(f, rowvar=False)

    def psd_sqrt(m):
        values, vectors = np.linalg.eigh(0.5 * (m + m.T))
        return (vectors * np.sqrt(values.clip(0))) @ vectors.T

    def w2_squared(a, b, layer):  # eq. 2 written out (deep covariances are singular here: POT's sqrtm is not)
        (ma, ca), (mb, cb) = gaussian(a, layer), gaussian(b, layer)
        root = psd_sqrt(cb)
        cross = np.trace(psd_sqrt(root @ ca @ root))
        return float(np.sum((ma - mb) ** 2) + np.trace(ca) + np.trace(cb) - 2 * cross)

    for layer in layers:
        scale = w2_squared(tile_shuffle(picture, 1, seed=5), picture, layer)
        want = w2_squared(tile_shuffle(picture, 8, seed=5), picture, layer) / scale
        assert got[layer][1] == pytest.approx(want, rel=1e-3, abs=1e-6)
        assert got[layer][2] == pytest.approx(0.0, abs=1e-9)  # one tile: the picture itself
    # the 3 px layer barely notices 8 px tiles; the 24 px layer does, much more
    assert got["relu1_1"][1] < 0.2 < got["relu3_1"][1]


def test_the_measures_table_has_readable_headers_padded_cells_and_the_best_in_bold():
    from ot_style.widgets.compare import MEASURE_LABELS, LossComparison

    measures = {"start": dict(zip(MEASURES, (4.0, 9.0, 3.0, 2.0))),
                "w2": dict(zip(MEASURES, (1.0, 5.0, 2.5, 1.5))),
                "gram": dict(zip(MEASURES, (2.0, 1.0, 2.0, 1.75)))}
    comparison = LossComparison(images={}, seconds={"w2": 1.25, "gram": 2.0}, measures=measures)
    assert comparison.best_by_measure() == {"gaussian W2^2": "w2", "Gram (Gatys)": "gram", "moments": "gram",
                                            "sliced W2": "w2"}
    html = comparison.table_html()
    assert set(MEASURE_LABELS) == set(MEASURES) and "W2^2" not in html and "Gaussian W2²" in html
    assert html.count("padding") == 4 * (2 + len(MEASURES)) and "border-collapse" in html
    assert ">1.2 s<" in html and ">-<" in html        # the start image took no time
    assert html.count("<b>") == 4 and "<b>1.5</b>" in html and "<b>2</b>" in html

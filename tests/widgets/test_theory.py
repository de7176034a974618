"""The logic behind the theory notebooks' widgets (01-03), driven without a browser.

Sliders are set programmatically; the numbers they show are checked against closed forms
(1-D W2 is a Euclidean distance in the (mean, std) plane; eq. 4 is blind on a circle) and against
the library's own references (gaussian_w2, POT's Bures-Wasserstein distance, emd_cost).
"""

import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from ot_style import plotting  # noqa: E402
from ot_style.maths.counterexamples import PAIRS  # noqa: E402
from ot_style.maths.gaussian import gatys_style_loss, gaussian_w2  # noqa: E402
from ot_style.widgets import theory  # noqa: E402


def shown(html_value: str) -> dict[str, float]:
    """The numbers an ``ot-style-numbers`` HTML widget shows, by their data-quantity."""
    return {k: float(v) for k, v in re.findall(r'data-quantity="(\w+)">([-0-9.e]+)<', html_value)}


# ------------------------------------------------------------------ notebook 01

def test_counterexamples_gram_blind_w2_not():
    rows = {r.name: r for r in theory.counterexample_losses(n=20_000, seed=1)}
    for r in rows.values():
        assert r.gram_loss < 1e-24
        assert r.w2 > 1.0
        # sampled moments approach the analytic ones: the sampled losses are near the exact ones
        assert r.sampled_gram_loss < 0.02
        assert r.sampled_w2 == pytest.approx(r.w2, rel=0.03)
    assert rows["WZ"].w2 == pytest.approx(np.sqrt(6.0), abs=1e-12)
    assert rows["XY"].w2 == pytest.approx(1.5135220191046239, abs=1e-6)  # the theory notebook's value


def test_ring_and_its_gaussian_twin_share_the_two_moments():
    ring, twin = theory.ring_and_gaussian(20_000, radius=2.0, seed=3)
    assert np.allclose(np.linalg.norm(ring, axis=1), 2.0)
    for cloud in (ring, twin):  # mean 0 and covariance r^2/2 I = 2 I, up to sampling error
        assert np.allclose(cloud.mean(axis=0), 0.0, atol=0.05)
        assert np.allclose(np.cov(cloud.T), 2.0 * np.eye(2), atol=0.1)
    assert plotting.figure_png(theory.clouds_figure([("ring", ring[:200]), ("twin", twin[:200])]))[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="positive radius"):
        theory.ring_and_gaussian(10, radius=0.0)


def test_metric_axioms_w2_holds_and_gram_is_only_a_pseudometric():
    w2 = theory.metric_axioms(gaussian_w2, trials=60, seed=3)
    assert w2.symmetry < 1e-10 and w2.identity < 1e-5 and w2.triangle < 1e-9
    assert w2.smallest_distinct > 0.1
    gram = theory.metric_axioms(theory.gram_distance, trials=60, seed=3)
    assert gram.symmetry < 1e-12 and gram.identity < 1e-12 and gram.triangle < 1e-9
    # ...but it fails the identity of indiscernibles: distinct Gaussians at distance 0
    for p in PAIRS.values():
        assert theory.gram_distance(p.mean_x, p.cov_x, p.mean_y, p.cov_y) < 1e-12
        assert not np.allclose(p.mean_x, p.mean_y)


def test_mean_variance_losses_are_the_1d_closed_forms():
    ex = theory.MeanVarianceExplorer(target_mean=0.5, target_variance=0.04)
    for m, v in [(0.2, 0.02), (-0.7, 0.3), (0.5, 0.04), (0.0, 0.0)]:
        ex.set_mean(m)
        ex.set_variance(v)
        losses = ex.losses()
        assert losses["w2"] == pytest.approx(np.hypot(m - 0.5, np.sqrt(v) - 0.2), abs=1e-9)
        assert losses["gram"] == pytest.approx((m * m + v - 0.29) ** 2, abs=1e-12)


def test_keep_gram_moves_along_the_blind_circle():
    ex = theory.MeanVarianceExplorer(target_mean=0.5, target_variance=0.04)
    ex.set_keep_gram(True)
    seen_w2 = []
    for m in (0.5, 0.3, 0.0, -0.4):
        ex.set_mean(m)
        assert ex.mean ** 2 + ex.variance == pytest.approx(0.29, abs=1e-12)
        assert ex.losses()["gram"] < 1e-24
        seen_w2.append(ex.losses()["w2"])
    assert seen_w2[0] == pytest.approx(0.0, abs=1e-7)  # only the target itself has W2 = 0
    assert np.all(np.diff(seen_w2) > 0.05)
    ex.set_mean(5.0)  # clipped to the circle
    assert ex.mean == pytest.approx(np.sqrt(0.29)) and ex.variance == pytest.approx(0.0, abs=1e-12)
    ex.set_variance(0.25)  # the mean follows, keeping its sign
    assert ex.mean == pytest.approx(0.2)
    with pytest.raises(ValueError, match="non-negative"):
        ex.set_variance(-1.0)


def test_mean_variance_ui_sliders_update_numbers_and_picture():
    ui = theory.mean_variance_explorer()
    assert (ui.mean.description, ui.variance.description, ui.keep_gram.description) == (
        "Mean of X", "Variance of X", "Keep the Gram matrix fixed")
    before, png_before = shown(ui.numbers.value), ui.plot.value
    ui.mean.value = -0.3
    after = shown(ui.numbers.value)
    assert after["w2"] != pytest.approx(before["w2"]) and after["gram"] != pytest.approx(before["gram"])
    assert ui.plot.value != png_before
    ui.keep_gram.value = True
    assert shown(ui.numbers.value)["gram"] == 0.0
    w2_on_circle = shown(ui.numbers.value)["w2"]
    ui.mean.value = 0.1  # the variance slider follows; eq. 4 stays blind, W2 moves
    assert ui.variance.value == pytest.approx(0.29 - 0.01, abs=1e-9)
    assert shown(ui.numbers.value)["gram"] == 0.0
    assert abs(shown(ui.numbers.value)["w2"] - w2_on_circle) > 0.05


# ------------------------------------------------------------------ notebook 02

def test_w2_step_by_step_matches_library_and_pot():
    from ot_style.maths.pot import import_pot

    ot = import_pot()
    rng = np.random.default_rng(0)
    for dim in (1, 2, 5):
        a, b = rng.standard_normal((2, dim, dim))
        mx, my = rng.standard_normal((2, dim))
        s = theory.w2_step_by_step(mx, a @ a.T, my, b @ b.T)
        assert s.w2 == pytest.approx(gaussian_w2(mx, a @ a.T, my, b @ b.T), rel=1e-10)
        assert s.w2 == pytest.approx(float(ot.gaussian.bures_wasserstein_distance(mx, my, a @ a.T, b @ b.T)),
                                     rel=1e-7)
        assert s.mean_term + s.trace_x + s.trace_y - 2 * s.cross_term == pytest.approx(s.w2_squared, abs=1e-10)
        np.testing.assert_allclose(s.root_y @ s.root_y, b @ b.T, atol=1e-10)


def test_gaussian_2d_and_its_ellipse():
    mean, cov = theory.gaussian_2d(1.0, -2.0, 4.0, 1.0, 0.5)
    np.testing.assert_array_equal(mean, [1.0, -2.0])
    np.testing.assert_allclose(cov, [[4.0, 1.0], [1.0, 1.0]])
    e = plotting.ellipse_parameters(*theory.gaussian_2d(0, 0, 4.0, 1.0, 0.0), n_std=2.0)
    assert (e.width, e.height, e.angle) == pytest.approx((8.0, 4.0, 0.0))
    e = plotting.ellipse_parameters(*theory.gaussian_2d(0, 0, 1.0, 1.0, 1.0), n_std=1.0)
    assert (e.width, e.height, e.angle) == pytest.approx((2 * np.sqrt(2.0), 0.0, 45.0), abs=1e-7)
    e = plotting.ellipse_parameters([0, 0], [[1.0, 0.0], [0.0, 9.0]], n_std=1.0)
    assert (e.width, e.height, e.angle) == pytest.approx((6.0, 2.0, 90.0))
    with pytest.raises(ValueError, match="correlation"):
        theory.gaussian_2d(0, 0, 1, 1, 1.5)


def test_gaussian_2d_explorer_w2_follows_the_sliders():
    ui = theory.gaussian_2d_explorer(n=4000)
    labels = [s.description for s in ui.sliders.values()]
    assert labels[:5] == ["X: mean 1", "X: mean 2", "X: variance 1", "X: variance 2", "X: correlation"]
    assert labels[5:] == [lab.replace("X:", "Y:") for lab in labels[:5]]
    png = ui.plot.value
    # equal covariances: W2 is the distance between the means, eq. 4 is not
    for param in ("variance1", "variance2", "correlation"):
        ui.sliders[("y", param)].value = ui.sliders[("x", param)].value
    ui.sliders[("x", "mean1")].value, ui.sliders[("x", "mean2")].value = 0.0, 0.0
    ui.sliders[("y", "mean1")].value, ui.sliders[("y", "mean2")].value = 3.0, 0.0
    n = shown(ui.numbers.value)
    assert n["w2"] == pytest.approx(3.0, abs=1e-4)
    assert ui.plot.value != png
    # moving both means by the same vector: W2 unchanged, the Gram loss changes
    ui.sliders[("x", "mean2")].value, ui.sliders[("y", "mean2")].value = 2.0, 2.0
    moved = shown(ui.numbers.value)
    assert moved["w2"] == pytest.approx(3.0, abs=1e-4)
    assert abs(moved["gram"] - n["gram"]) > 1.0
    # the Monge map's mean squared arrow length estimates W2^2
    assert moved["map_cost"] == pytest.approx(9.0, rel=1e-3)


def test_monge_map_arrows_cost_w2_squared_on_general_gaussians():
    ex = theory.Gaussian2DExplorer(n=20_000, seed=2)
    numbers = ex.numbers()
    assert numbers["w2"] == pytest.approx(gaussian_w2(*ex.gaussians()), rel=1e-12)
    assert numbers["gram"] == pytest.approx(gatys_style_loss(*ex.gaussians()), rel=1e-12)
    assert numbers["map_cost"] == pytest.approx(numbers["w2"] ** 2, rel=0.03)
    with pytest.raises(ValueError, match="Unknown parameter"):
        ex.set("x", mean3=1.0)
    with pytest.raises(ValueError, match="'x' or 'y'"):
        ex.set("z", mean1=1.0)


def test_explorer_frame_holds_both_ellipses_and_every_arrow_tip():
    ex = theory.Gaussian2DExplorer(n=300, seed=1)
    (x0, x1), (y0, y1) = ex.limits()["xlim"], ex.limits()["ylim"]
    assert x0 <= -5.0 and x1 >= 5.0 and y0 <= -4.0 and y1 >= 4.0     # never smaller than the sliders' frame
    ex.set("x", mean1=2.0, mean2=-1.0, variance1=1.0, variance2=0.5, correlation=0.3)
    ex.set("y", mean1=5.0, mean2=3.0, variance1=1.0, variance2=0.5, correlation=0.3)  # beyond the default frame
    mx, cx, my, cy = ex.gaussians()
    x = ex.samples_x()
    tips = x + (my - mx)                           # equal covariances: the Monge map is this translation
    ax = ex.figure().axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for points in (x, tips):
        assert np.all((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1))
    for m, c in ((mx, cx), (my, cy)):              # the 2-std ellipse's bounding box: m +- 2 sqrt(diag c)
        half = 2 * np.sqrt(np.diag(c))
        assert x0 <= m[0] - half[0] and m[0] + half[0] <= x1 and y0 <= m[1] - half[1] and m[1] + half[1] <= y1


def test_explorer_shows_w2_squared_next_to_the_mean_squared_arrow():
    ui = theory.gaussian_2d_explorer(n=4000)
    n = shown(ui.numbers.value)
    w2 = gaussian_w2(*ui.model.gaussians())
    assert n["w2"] == pytest.approx(w2, abs=1e-4) and n["w2_squared"] == pytest.approx(w2**2, abs=1e-4)
    assert n["map_cost"] == pytest.approx(w2**2, rel=0.05)


def test_geodesic_figure_draws_the_barycentres():
    mx, cx = theory.gaussian_2d(0, 0, 2.0, 0.05, 0.0)
    my, cy = theory.gaussian_2d(0, 0, 0.05, 2.0, 0.0)
    fig = theory.geodesic_figure(mx, cx, my, cy, ts=(0.0, 0.5, 1.0))
    geodesic, averaged = fig.axes[:2]
    assert len(geodesic.patches) == len(averaged.patches) == 3
    # the midpoint of the geodesic: standard deviations average, (sqrt 2 + sqrt 0.05) / 2 on both axes
    expected = 2 * 2 * (np.sqrt(2.0) + np.sqrt(0.05)) / 2  # full width of the 2-std ellipse
    assert geodesic.patches[1].width == pytest.approx(expected)
    assert averaged.patches[1].width == pytest.approx(2 * 2 * np.sqrt(1.025))


def test_empirical_w2_approaches_the_closed_form():
    mx, cx, my, cy = theory.Gaussian2DExplorer().gaussians()
    result = theory.empirical_convergence(mx, cx, my, cy, [16, 512], trials=3, seed=0)
    assert result.closed_form == pytest.approx(gaussian_w2(mx, cx, my, cy))
    err = result.relative_error
    assert err[-1] < 0.08
    assert err[-1] < err[0]
    assert result.spread[-1] < result.spread[0]


# ------------------------------------------------------------------ notebook 03

def test_cost_table_reproduces_the_theory_notebook():
    table = theory.cost_table_html(224)
    assert '<td data-layer="relu1_1">644.5 GB</td>' in table
    assert "126.3 T" in table and "10.1 GB" in table
    ui = theory.cost_table_explorer(224)
    assert ui.size.description == "Image size (px)"
    ui.size.value = 448  # n grows 4x, the pairwise tensor 16x
    assert '<td data-layer="relu1_1">10.3 TB</td>' in ui.table.value
    ui.size.value = 32  # relu5_1 at 32 px: 2x2 positions, 512 channels
    assert "<td>relu5_1</td><td>4</td><td>512</td>" in ui.table.value


def test_timing_runs_each_method_on_the_same_samples():
    result = theory.time_w2_methods([200, 400], dim=1, repeats=1)
    assert set(result.seconds) == {"exact EMD", "sliced W2", "Gaussian closed form"}
    for name, seconds in result.seconds.items():
        assert seconds.shape == (2,) and np.all(seconds > 0)
    # in one dimension sliced W2 is exact (every direction is +-1)
    np.testing.assert_allclose(result.values["sliced W2"], result.values["exact EMD"], rtol=1e-9)
    # the three agree on a unit shift of 1-D standard normals (W2 = 1) up to sampling error
    for values in result.values.values():
        assert np.all(np.abs(values - 1.0) < 0.3)
    assert set(result.slopes()) == set(result.seconds)


def test_sinkhorn_explorer_blurs_the_plan_as_epsilon_grows():
    from ot_style.maths.pot import import_pot

    ot = import_pot()
    ex = theory.SinkhornExplorer(n=40, epsilon=0.05)
    n = len(ex.x)
    a = np.full(n, 1.0 / n)
    assert ex.exact_cost == pytest.approx(float(ot.emd2(a, a, ot.dist(ex.x, ex.y))), rel=1e-9)
    seen = []
    for eps in (0.05, 0.2, 1.0):
        ex.set_epsilon(eps)
        seen.append(ex.numbers())
    costs, entropies = [s["sinkhorn"] for s in seen], [s["entropy"] for s in seen]
    assert np.all(np.diff(costs) > 0) and np.all(np.diff(entropies) > 0)
    assert costs[0] >= ex.exact_cost - 1e-9
    assert np.log(n) - 1e-9 <= entropies[0] and entropies[-1] <= 2 * np.log(n) + 1e-9
    np.testing.assert_allclose(ex.result.plan.sum(axis=1), a, atol=1e-6)


def test_sinkhorn_ui_slider_updates_numbers_and_picture():
    ui = theory.sinkhorn_explorer(n=30, epsilon=0.1)
    assert ui.epsilon.description == "Epsilon (ε)"
    before, png = shown(ui.numbers.value), ui.plot.value
    ui.epsilon.value = 1.0
    after = shown(ui.numbers.value)
    assert after["exact"] == pytest.approx(before["exact"])
    assert after["sinkhorn"] > before["sinkhorn"] and after["entropy"] > before["entropy"]
    assert ui.plot.value != png


def test_sinkhorn_accuracy_against_exact_and_closed_form():
    from ot_style.maths.pot import import_pot

    ot = import_pot()
    x, y = theory.two_clouds(60, seed=1)
    sweep = theory.sinkhorn_accuracy(x, y, [1.0, 0.1, 0.03])
    a = np.full(60, 1.0 / 60)
    assert sweep.exact_cost == pytest.approx(float(ot.emd2(a, a, ot.dist(x, y))), rel=1e-9)
    expected = gaussian_w2(x.mean(0), np.cov(x.T), y.mean(0), np.cov(y.T), squared=True)
    assert sweep.gaussian_cost == pytest.approx(expected, rel=1e-9)
    assert np.all(np.diff(sweep.costs) < 0) and np.all(sweep.costs >= sweep.exact_cost - 1e-9)
    assert sweep.costs[-1] - sweep.exact_cost <= 0.03 * (sweep.entropies[-1] - np.log(60))
    assert sweep.seconds.shape == (3,) and sweep.converged.all()
    assert plotting.figure_png(theory.sinkhorn_sweep_figure(sweep))[:4] == b"\x89PNG"


# ------------------------------------------------------------------ plotting helpers

def test_plotting_helpers():
    patch = plotting.samples_to_patch(np.linspace(-1, 2, 300 * 3).reshape(300, 3))
    assert patch.shape == (17, 17, 3) and patch.min() == 0.0 and patch.max() == 1.0
    assert plotting.samples_to_patch(np.full(4, 0.25)).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="needs 25 samples"):
        plotting.samples_to_patch(np.zeros((10, 3)), side=5)
    ns = np.array([10, 20, 40, 80])
    assert plotting.loglog_slope(ns, 3e-9 * ns**3) == pytest.approx(3.0)
    assert plotting.format_bytes(644.5e9) == "644.5 GB" and plotting.format_count(126.3e12) == "126.3 T"
    assert plotting.figure_png(theory.counterexample_patches(n=100))[:8] == b"\x89PNG\r\n\x1a\n"


def test_importing_plotting_and_the_package_stays_light():
    code = ("import sys, ot_style, ot_style.plotting; "
            "print(any(m in sys.modules for m in ('matplotlib', 'ipywidgets', 'tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

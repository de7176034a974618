"""The EMD cost estimate (the theory notebook's numbers), exact and sliced W2 against closed forms."""

import numpy as np
import pytest

from ot_style import emd_cost, empirical_w2, gaussian_w2, sliced_w2
from ot_style.maths.emd import MAX_EMD_ENTRIES, emd_cost_table


def test_emd_cost_reproduces_the_theory_notebooks_644_5_gb_and_126_3_t():
    cost = emd_cost(224, 224, "relu1_1")
    assert (cost.samples, cost.channels) == (224 * 224, 64)
    assert f"{cost.pairwise_bytes / 1e9:4.1f}" == "644.5"
    assert f"{cost.assignment_ops / 1e12:4.1f}" == "126.3"
    assert cost.pairwise_bytes == 64 * (224 * 224) ** 2 * 4
    assert cost.distance_matrix_bytes == (224 * 224) ** 2 * 4  # what a solver really needs: 10.1 GB
    assert cost.distance_matrix_gb == pytest.approx(10.07, abs=0.01)
    assert cost.speedup > 1e5  # the closed form is five orders of magnitude cheaper


def test_emd_cost_follows_the_pooling_of_vgg19_and_the_dtype():
    rows = {r.layer: r for r in emd_cost_table(224, 224)}
    assert rows["relu2_1"].samples == 112 * 112 and rows["relu2_1"].channels == 128
    assert rows["relu5_1"].samples == 14 * 14 and rows["relu5_1"].channels == 512
    assert emd_cost(224, 224, dtype_bytes=8).pairwise_bytes == 2 * emd_cost(224, 224).pairwise_bytes
    # odd sizes: VGG's 2x2 pooling floors
    assert emd_cost(225, 99, "relu3_1").samples == (225 // 4) * (99 // 4)
    # the closed form's cost: covariances 4nc^2 plus O(c^3) linear algebra
    r = rows["relu1_1"]
    assert r.gaussian_ops == 4 * r.samples * 64**2 + 9 * 64**3 + 4 * 64**3 + (4 * 64**3) // 3


@pytest.mark.parametrize("args, words", [((224, 224, "relu9_9"), "relu1_1"), ((0, 224), "positive"),
                                         ((8, 8, "relu5_1"), "no spatial positions")])
def test_emd_cost_refuses_bad_input_with_a_sentence(args, words):
    with pytest.raises(ValueError, match=words):
        emd_cost(*args)


def test_empirical_w2_of_two_point_clouds_is_the_assignment_cost():
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    y = np.array([[1.0, 1.0], [0.0, 1.0]])
    # the best matching moves each point straight up by 1
    assert empirical_w2(x, y) == pytest.approx(1.0, rel=1e-12)
    assert empirical_w2(x, x) == pytest.approx(0.0, abs=1e-12)


def test_sliced_w2_equals_empirical_w2_in_one_dimension():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=300), rng.gamma(2.0, size=300)
    exact = empirical_w2(x, y)
    # in 1-D every direction is +-1 and W2 of sorted samples is exact
    assert sliced_w2(x, y, n_projections=7, seed=3) == pytest.approx(exact, rel=1e-10)
    assert exact == pytest.approx(np.sqrt(np.mean((np.sort(x) - np.sort(y)) ** 2)), rel=1e-10)


def test_empirical_w2_converges_to_the_gaussian_closed_form_as_n_grows():
    rng = np.random.default_rng(1)
    mx, my = np.array([0.0, 1.0]), np.array([2.0, -1.0])
    cx = np.array([[1.0, 0.6], [0.6, 1.0]])
    cy = np.array([[2.0, -0.3], [-0.3, 0.5]])
    truth = gaussian_w2(mx, cx, my, cy)
    errors = []
    for n in (50, 400, 1600):
        err = np.mean([abs(empirical_w2(rng.multivariate_normal(mx, cx, n), rng.multivariate_normal(my, cy, n))
                           - truth) for _ in range(3)])
        errors.append(err)
    assert errors[-1] < errors[0]
    assert errors[-1] < 0.05 * truth


def test_sliced_w2_is_seeded_and_below_the_exact_distance():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + [1.0, 0.0, 0.0]
    a = sliced_w2(x, y, n_projections=50, seed=4)
    assert a == sliced_w2(x, y, n_projections=50, seed=4)
    # projections never increase distances, so SW2 <= W2 for any set of directions
    assert 0.0 < a <= empirical_w2(x, y) + 1e-12


def test_empirical_w2_refuses_an_image_scale_problem_before_allocating_it():
    big = np.zeros((int(np.sqrt(MAX_EMD_ENTRIES)) + 1, 2))
    with pytest.raises(ValueError, match="notebook 03"):
        empirical_w2(big, big)


def test_sample_arguments_are_checked():
    with pytest.raises(ValueError, match="same dimension"):
        empirical_w2(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        sliced_w2(np.full((3, 2), np.nan), np.zeros((3, 2)))

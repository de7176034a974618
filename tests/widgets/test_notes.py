"""The weights banner: said once, styled, and the fallback warning silenced after it (not before)."""

import warnings

import pytest

from ot_style.network.weights import RandomWeightsWarning, resolve_weights
from ot_style.widgets import notes


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No ImageNet weights anywhere: ``auto`` falls back to random ones."""
    monkeypatch.delenv("OT_STYLE_WEIGHTS", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_the_banner_says_random_in_red_and_then_the_warning_is_quiet(offline):
    with warnings.catch_warnings():  # the test's own filter state, restored afterwards
        warnings.simplefilter("always")
        with pytest.warns(RandomWeightsWarning, match="RANDOM"):
            resolve_weights("auto")  # before the banner: the warning, as in a script
        banner = notes.weights_banner("auto")
        assert "RANDOM VGG weights" in banner.value and "color:#a00" in banner.value
        with warnings.catch_warnings(record=True) as caught:
            resolve_weights("auto")
        assert not [w for w in caught if issubclass(w.category, RandomWeightsWarning)]


def test_the_note_for_real_weights_is_plain_and_silences_nothing(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"not read: resolving only looks at the name")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        banner = notes.weights_banner(str(path))
        assert "RANDOM" not in banner.value and "Network weights" in banner.value
        assert ("ignore", None, RandomWeightsWarning) not in [(f[0], f[1], f[2]) for f in warnings.filters]


def test_the_note_itself_never_warns(offline):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text, is_random = notes.weights_note("auto")
    assert is_random and "RANDOM" in text and caught == []

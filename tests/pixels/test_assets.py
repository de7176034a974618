"""The bundled pictures: each is listed with its licence, documented in assets/README.md, shipped as
package data, small, and (for the generated ones) exactly what assets/make_assets.py draws."""

from __future__ import annotations

import fnmatch
import importlib.util
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ot_style.pixels.assets import ASSETS, asset_path, list_assets
from ot_style.pixels.images import load_image

ROOT = Path(__file__).resolve().parents[2]
ASSET_DIR = ROOT / "ot_style" / "assets"


def _make_assets():
    spec = importlib.util.spec_from_file_location("make_assets", ROOT / "assets" / "make_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_file_is_registered_and_every_entry_exists():
    on_disk = sorted(p.name for p in ASSET_DIR.iterdir() if p.suffix in (".png", ".jpg"))
    assert on_disk == sorted(asset.name for asset in ASSETS)
    for asset in ASSETS:
        assert asset_path(asset.name).is_file()
        assert asset.role in ("content", "style") and asset.licence


def test_roles_and_unknown_names():
    assert {a.role for a in list_assets("content")} == {"content"}
    assert len(list_assets("content")) >= 1 and len(list_assets("style")) >= 3
    with pytest.raises(ValueError, match="Unknown bundled image 'mona_lisa.png'; available: "):
        asset_path("mona_lisa.png")
    with pytest.raises(ValueError, match="role must be"):
        list_assets("texture")


def test_readme_documents_each_picture_with_its_licence():
    readme = (ROOT / "assets" / "README.md").read_text()
    for asset in ASSETS:
        assert f"`{asset.name}`" in readme, asset.name
    assert "public domain" in readme.lower() and "CC0" in readme


def test_total_size_is_small_and_pictures_load():
    sizes = [asset_path(a.name).stat().st_size for a in ASSETS]
    assert sum(sizes) < 1_000_000
    for asset in ASSETS:
        image = load_image(asset_path(asset.name))
        assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) >= 200
        assert image.std() > 0.05  # a picture, not a flat fill


def test_package_data_patterns_ship_every_picture():
    # A wheel contains what [tool.setuptools.package-data] matches; check every file is matched.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["ot_style"]
    for asset in ASSETS:
        assert any(fnmatch.fnmatch(f"assets/{asset.name}", p) for p in patterns), asset.name


def test_generated_pictures_are_reproduced_by_the_script():
    make_assets = _make_assets()
    assert set(make_assets.GENERATED) == {a.name for a in ASSETS if "generated" in a.licence}
    for name, render in make_assets.GENERATED.items():
        committed = np.asarray(Image.open(ASSET_DIR / name))
        fresh = render()
        assert fresh.dtype == np.uint8 and fresh.shape == committed.shape
        # identical pixels; one grey level of slack for floating-point differences across CPUs
        assert np.abs(fresh.astype(int) - committed.astype(int)).max() <= 1, name
        assert np.mean(fresh != committed) < 1e-3, name


def test_photograph_is_matplotlibs_file_byte_for_byte():
    make_assets = _make_assets()
    assert make_assets.sha256(ASSET_DIR / "grace_hopper.jpg") == make_assets.GRACE_HOPPER_SHA256

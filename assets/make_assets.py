"""Regenerate the bundled pictures in ``ot_style/assets/`` (see ``assets/README.md``).

    python assets/make_assets.py            # rewrites ot_style/assets/*
    python assets/make_assets.py --check    # exit 1 if a committed picture differs from a fresh render

Every generated picture is drawn with NumPy from a fixed seed (no fonts, no Pillow drawing, whose
rasterisation may change between versions), so the same pixels come out on every machine; Pillow only
encodes the PNG. The one photograph is copied byte for byte from matplotlib's sample data.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parent.parent / "ot_style" / "assets"
# sha256 of matplotlib's mpl-data/sample_data/grace_hopper.jpg (checked with matplotlib 3.11.2).
GRACE_HOPPER_SHA256 = "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"
SIZE = 256


def _blur(field: np.ndarray, passes: int) -> np.ndarray:
    """Cheap separable box blur with wrap-around, repeated (approaches a Gaussian)."""
    for _ in range(passes):
        field = (np.roll(field, 1, 0) + field + np.roll(field, -1, 0)) / 3.0
        field = (np.roll(field, 1, 1) + field + np.roll(field, -1, 1)) / 3.0
    return field


def _bilinear(image: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Sample a (h, w) or (h, w, c) array at float coordinates, wrapping around the edges."""
    h, w = image.shape[:2]
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = y - y0, x - x0
    if image.ndim == 3:
        fy, fx = fy[..., None], fx[..., None]
    y0, x0, y1, x1 = y0 % h, x0 % w, (y0 + 1) % h, (x0 + 1) % w
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def swirls(size: int = SIZE, seed: int = 1) -> np.ndarray:
    """Brush-stroke swirls: colour blobs smeared along a swirling flow field (line integral
    convolution), in a night-sky palette of blues and yellows."""
    rng = np.random.default_rng(seed)
    potential = _blur(rng.normal(size=(size, size)), 150)
    potential /= potential.std()
    # The flow follows the level lines of a smooth random potential (a divergence-free field): swirls.
    gy, gx = np.gradient(potential)
    norm = np.hypot(gx, gy) + 1e-9
    vy, vx = gx / norm, -gy / norm
    palette = np.array([[0.07, 0.12, 0.35], [0.13, 0.28, 0.62], [0.35, 0.55, 0.85],
                        [0.95, 0.85, 0.35], [0.98, 0.65, 0.15], [0.92, 0.95, 0.98]])
    index = _blur(rng.random((size, size)), 25)
    index = (index - index.min()) / (np.ptp(index) + 1e-12)
    colour_field = palette[np.minimum((index * len(palette)).astype(int), len(palette) - 1)]
    speckle = rng.random((size, size)) ** 3  # sparse bright dabs, smeared into strokes below
    colour_field = colour_field * (0.55 + 0.45 * speckle[..., None]) + 0.3 * speckle[..., None]
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    accum = np.zeros((size, size, 3))
    for direction in (1.0, -1.0):
        y, x = yy.copy(), xx.copy()
        for _ in range(20):
            accum += _bilinear(colour_field, y, x)
            y += direction * _bilinear(vy, y, x)
            x += direction * _bilinear(vx, y, x)
    image = accum / 40.0
    image = (image - image.min()) / (np.ptp(image) + 1e-12)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def mosaic(size: int = SIZE, seed: int = 2, tiles: int = 180) -> np.ndarray:
    """A Voronoi tile mosaic: each tile one glazed colour with a soft highlight, grey grout between."""
    rng = np.random.default_rng(seed)
    centres = rng.random((tiles, 2)) * size
    palette = np.array([[0.72, 0.18, 0.12], [0.90, 0.62, 0.20], [0.15, 0.40, 0.55],
                        [0.85, 0.80, 0.65], [0.25, 0.50, 0.30], [0.10, 0.15, 0.30]])
    colours = palette[rng.integers(0, len(palette), tiles)] * rng.uniform(0.8, 1.15, (tiles, 1))
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    dist = np.hypot(yy[..., None] - centres[:, 0], xx[..., None] - centres[:, 1])
    order = np.argsort(dist, axis=2)
    nearest, second = order[..., 0], order[..., 1]
    d1 = np.take_along_axis(dist, nearest[..., None], 2)[..., 0]
    d2 = np.take_along_axis(dist, second[..., None], 2)[..., 0]
    image = colours[nearest] * (1.1 - 0.35 * (d1 / (d1 + d2 + 1e-9)))[..., None]
    grout = np.clip((d2 - d1) / 2.5, 0, 1)[..., None]  # 0 on the boundary between two tiles
    image = image * grout + np.array([0.55, 0.53, 0.50]) * (1 - grout)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def glyph_rain(size: int = SIZE, seed: int = 3, cell: int = 8) -> np.ndarray:
    """Columns of random 5x7 bitmap glyphs falling on a dark background, bright at each column's
    head and fading behind it."""
    rng = np.random.default_rng(seed)
    rows, cols = size // cell, size // cell
    image = np.zeros((size, size, 3))
    image[:] = [0.01, 0.04, 0.03]
    for c in range(cols):
        for _ in range(rng.integers(1, 3)):
            head, length = rng.integers(0, rows), rng.integers(6, rows)
            for k in range(length):
                r = head - k
                if r < 0:
                    break
                glyph = rng.random((7, 5)) < 0.45
                glyph[:, 2] |= rng.random() < 0.5  # a vertical stem on some, more letter-like
                fade = 1.0 if k == 0 else 0.85 * (1 - k / length)
                colour = np.array([0.85, 1.0, 0.9]) if k == 0 else np.array([0.1, 0.9, 0.35]) * fade
                y, x = r * cell + 1, c * cell + 1
                image[y:y + 7, x:x + 5][glyph] = colour
    image = 0.75 * image + 0.25 * _blur(image, 1)  # a faint glow
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def houses(width: int = 320, height: int = 240, seed: int = 4) -> np.ndarray:
    """A content picture with clear structure: sky, sun, hills and a street of houses with roofs,
    doors and windows (flat colours and straight edges that a style transfer visibly repaints)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(float)
    image = np.empty((height, width, 3))
    t = (yy / height)[..., None]
    image[:] = np.array([0.35, 0.6, 0.9]) * (1 - t) + np.array([0.85, 0.92, 0.98]) * t
    sun = np.hypot(yy - 45, xx - 255) < 22
    image[sun] = [1.0, 0.85, 0.3]
    hill = yy > 150 - 25 * np.sin(xx / 55.0) - 10 * np.cos(xx / 23.0)
    image[hill] = [0.30, 0.55, 0.25]
    x = 12
    while x < width - 50:
        w, h = int(rng.integers(40, 62)), int(rng.integers(45, 75))
        base = 205
        top = base - h
        wall = np.array([[0.85, 0.75, 0.55], [0.8, 0.35, 0.25], [0.9, 0.9, 0.85],
                         [0.55, 0.65, 0.75]])[rng.integers(0, 4)]
        image[top:base, x:x + w] = wall
        roof_h = int(rng.integers(18, 30))
        roof = (yy >= top - roof_h) & (yy < top) & (np.abs(xx - (x + w / 2)) <= (yy - (top - roof_h))
                                                     * (w / 2 + 4) / roof_h)
        image[roof] = [0.45, 0.15, 0.12]
        image[base - 22:base, x + w // 2 - 5:x + w // 2 + 5] = [0.3, 0.2, 0.12]  # door
        for wy in range(top + 8, base - 28, 18):
            for wx in (x + 6, x + w - 16):
                image[wy:wy + 10, wx:wx + 10] = [0.95, 0.9, 0.55]
                image[wy + 4:wy + 6, wx:wx + 10] = [0.2, 0.2, 0.2]
        x += w + int(rng.integers(6, 14))
    image[205:] = [0.42, 0.42, 0.45]  # street
    image[218:221, ::24] = [0.95, 0.95, 0.9]
    image[218:221] = np.where((xx[218:221] % 24 < 12)[..., None], [0.95, 0.95, 0.9], image[218:221])
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


GENERATED = {"swirls.png": swirls, "mosaic.png": mosaic, "glyph_rain.png": glyph_rain,
             "houses.png": houses}


def grace_hopper_source() -> Path:
    """matplotlib's copy of the photograph (``mpl-data/sample_data/grace_hopper.jpg``)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_all(out_dir: Path = OUT_DIR) -> list[Path]:
    """Render every generated picture and copy the photograph into ``out_dir``."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in GENERATED.items():
        Image.fromarray(render()).save(out_dir / name, optimize=True)
        written.append(out_dir / name)
    source = grace_hopper_source()
    if sha256(source) != GRACE_HOPPER_SHA256:
        raise SystemExit(f"{source} is not the photograph this script expects (sha256 differs).")
    shutil.copyfile(source, out_dir / "grace_hopper.jpg")
    written.append(out_dir / "grace_hopper.jpg")
    return written


def check(out_dir: Path = OUT_DIR) -> list[str]:
    """Names of committed pictures whose pixels differ from a fresh render (empty when all agree)."""
    from PIL import Image

    bad = []
    for name, render in GENERATED.items():
        path = out_dir / name
        if not path.exists() or not np.array_equal(np.asarray(Image.open(path)), render()):
            bad.append(name)
    if not (out_dir / "grace_hopper.jpg").exists() or \
            sha256(out_dir / "grace_hopper.jpg") != GRACE_HOPPER_SHA256:
        bad.append("grace_hopper.jpg")
    return bad


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args()
    if args.check:
        differing = check(args.out)
        print("all bundled pictures match" if not differing else f"differ: {', '.join(differing)}")
        sys.exit(1 if differing else 0)
    for path in write_all(args.out):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")

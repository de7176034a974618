"""A small ICC v2 matrix/TRC display profile written byte by byte (ICC.1:2001-04), for the loader's tests:
Pillow can create only sRGB, LAB and XYZ profiles, and the machine ships none."""

from __future__ import annotations

import struct

# Adobe RGB (1998) primaries adapted to the D50 profile connection space, and its gamma 563/256.
ADOBE_RGB = {"rXYZ": (0.6097, 0.3111, 0.0195), "gXYZ": (0.2053, 0.6257, 0.0609),
             "bXYZ": (0.1492, 0.0632, 0.7446)}
D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(triple) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in triple)


def _curve(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def matrix_profile(description: str = "Adobe RGB (1998) test profile", primaries=None,
                   gamma: float = 563 / 256) -> bytes:
    """The bytes of an RGB display profile with the given primaries (default Adobe RGB) and gamma."""
    primaries = ADOBE_RGB if primaries is None else primaries
    tags = [(b"desc", _description(description)), (b"wtpt", _xyz(D50))]
    tags += [(name.encode(), _xyz(xyz)) for name, xyz in primaries.items()]
    tags += [(name, _curve(gamma)) for name in (b"rTRC", b"gTRC", b"bTRC")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table.append(struct.pack(">4sII", signature, offset + len(data), len(body)))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8
              + b"\0" * 8 + struct.pack(">I", 0) + b"".join(_s15(v) for v in D50) + b"\0" * 4 + b"\0" * 16
              + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data

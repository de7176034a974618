"""Settings for every test, including the notebooks that nbmake executes.

- ``OT_STYLE_FAST=1``: small images and few steps (the notebook kernels inherit it).
- No test may open a network connection: every non-loopback ``connect`` raises. Loopback stays open
  because Jupyter kernels and the browser tests talk to local servers.
- TensorFlow is kept quiet and on the CPU.
"""

import ipaddress
import os
import socket

os.environ["OT_STYLE_FAST"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")
# POT would otherwise import TensorFlow to register a backend when it is installed.
os.environ.setdefault("POT_BACKEND_DISABLE_TENSORFLOW", "1")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkBlocked(RuntimeError):
    """Raised when a test tries to reach beyond this machine."""


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_local(address):
        raise NetworkBlocked(f"test tried to connect to {address!r}; tests must stay offline")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise NetworkBlocked(f"test tried to connect to {address!r}; tests must stay offline")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex


def pytest_collection_modifyitems(config, items):
    """The notebooks (run by nbmake) are lessons executed end to end: marked ``notebook`` and ``slow``, so
    ``pytest -m "not slow and not browser"`` is the quick subset for development."""
    import pytest

    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)

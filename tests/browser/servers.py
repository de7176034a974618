"""Start and stop the local servers the browser tests drive (JupyterLab and Voila).

Each server runs in its own isolated Jupyter configuration under the test's temporary folder, listens
on 127.0.0.1 only, on a free port, and is stopped by its own process id: SIGTERM first, then SIGKILL
after a timeout. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0

# urllib would honour *_proxy variables; the servers are on loopback, so never use a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port that was free a moment ago (bind to port 0 and let the OS choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def isolated_env(base: Path) -> dict[str, str]:
    """Environment for a server whose Jupyter state lives under ``base`` (nothing from ``~``)."""
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "workspaces",
        "TMPDIR": base / "tmp",
        "IPYTHONDIR": base / "ipython",
        "MPLCONFIGDIR": base / "matplotlib",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    settings = dirs["JUPYTERLAB_SETTINGS_DIR"]
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    # Render every cell (no virtual scrolling), so the tests see every prompt and output.
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    env = dict(os.environ)
    env.update({name: str(path) for name, path in dirs.items()})
    env["OT_STYLE_FAST"] = "1"
    # A student's kernel uses the inline backend; the test runner's Agg would hide plt.show() figures.
    env.pop("MPLBACKEND", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@dataclass
class Server:
    """A running local server: its process, address and log file."""

    name: str
    process: subprocess.Popen
    port: int
    log_path: Path
    token: str = ""
    _log_file: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def request(self, method: str, path: str, body=None, timeout: float = 30.0):
        """A JSON request to the server's REST API (token added); returns the decoded reply or None."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with _OPENER.open(req, timeout=timeout) as reply:
            raw = reply.read()
        return json.loads(raw) if raw else None

    def stop(self) -> None:
        """SIGTERM to the server's own PID, then SIGKILL after a timeout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        if self._log_file is not None:
            self._log_file.close()


def _spawn(name: str, cmd: list[str], env: dict, cwd: Path, log_path: Path, port: int,
           token: str) -> Server:
    log_file = open(log_path, "ab")
    process = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    return Server(name=name, process=process, port=port, log_path=log_path, token=token,
                  _log_file=log_file)


def _wait_until(server: Server, ready, what: str, timeout: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with code {server.process.returncode} before "
                               f"{what}:\n{server.log_tail()}")
        if ready():
            return
        time.sleep(0.25)
    server.stop()
    raise TimeoutError(f"{server.name} did not reach '{what}' within {timeout:.0f} s:\n"
                       f"{server.log_tail()}")


def start_jupyterlab(root: Path, state: Path) -> Server:
    """JupyterLab serving ``root`` on a free loopback port with a random token."""
    env = isolated_env(state)
    token = secrets.token_hex(16)
    for attempt in range(3):  # the free port can be taken between choosing and binding
        port = free_port()
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
               "--LabApp.news_url=", "--ServerApp.log_level=INFO",
               # window.jupyterapp lets the tests read the notebook model: JupyterLab 4 renders an
               # error output with the stderr MIME type, so the DOM alone cannot tell the two apart.
               "--LabApp.expose_app_in_browser=True"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")  # jupyter refuses to start as root otherwise
        server = _spawn("JupyterLab", cmd, env, root, state / f"jupyterlab-{port}.log", port, token)

        def status_ok() -> bool:
            try:
                server.request("GET", "/api/status", timeout=2.0)
                return True
            except (urllib.error.URLError, OSError, ValueError):
                return False

        try:
            _wait_until(server, status_ok, "GET /api/status answers")
            return server
        except RuntimeError:
            if attempt == 2 or "already in use" not in server.log_tail():
                raise
    raise AssertionError("unreachable")


def start_voila_command(cmd: list[str], *, state: Path, cwd: Path, port: int,
                        timeout: float = STARTUP_TIMEOUT_S) -> Server:
    """Run a command that starts Voila on ``port``; wait only for the port to open.

    A ``GET /`` would start a kernel and run the notebook, so readiness is the open port.
    """
    env = isolated_env(state)
    server = _spawn("Voila", cmd, env, cwd, state / f"voila-{port}.log", port, "")
    _wait_until(server, lambda: port_is_open(port), f"port {port} open", timeout)
    return server

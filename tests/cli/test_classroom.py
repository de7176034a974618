"""Classroom mode without a server: which notebook, which command, which cells a class sees.

The served app itself (the page renders widgets without code, Run gives a picture) is tested in
``tests/browser/test_classroom.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ot_style.cli import classroom

REPO = Path(__file__).resolve().parents[2]


def _option(command: list[str], name: str) -> str:
    values = [arg.split("=", 1)[1] for arg in command if arg.startswith(f"{name}=")]
    assert len(values) == 1, (name, command)
    return values[0]


def test_default_notebook_is_the_playground_of_this_checkout():
    assert classroom.find_notebook() == (REPO / "notebooks" / classroom.PLAYGROUND).resolve()
    # a bare name is looked up among the package's notebooks too
    assert classroom.find_notebook(classroom.PLAYGROUND) == classroom.find_notebook()


def test_command_runs_voila_on_loopback_with_a_bounded_cell_timeout():
    command = classroom.voila_command(port=8899, open_browser=False, cell_timeout=42, python="py")
    assert command[:4] == ["py", "-m", "voila", str(classroom.find_notebook())]
    assert _option(command, "--port") == "8899"
    assert _option(command, "--Voila.ip") == "127.0.0.1"
    assert _option(command, "--strip_sources") == "True"
    assert _option(command, "--VoilaExecutor.timeout") == "42"
    assert _option(command, "--VoilaExecutor.interrupt_on_timeout") == "True"
    assert "--no-browser" in command
    assert "--no-browser" not in classroom.voila_command(port=8899)


def test_command_parses_with_voila_itself():
    # Voila must accept every option (a typo in a trait name would only warn at start-up).
    voila_app = pytest.importorskip("voila.app")
    app = voila_app.Voila()
    command = classroom.voila_command(port=8899, open_browser=False, cell_timeout=42)
    app.parse_command_line(command[3:])
    assert app.port == 8899 and app.ip == "127.0.0.1" and app.open_browser is False
    assert app.config.VoilaExecutor.timeout == 42
    # config accepts any name: check that the executor really has these settings
    executor = pytest.importorskip("voila.execute").VoilaExecutor
    assert {"timeout", "interrupt_on_timeout", "startup_timeout"} <= set(executor.class_trait_names(config=True))
    assert app.config.VoilaExecutor.interrupt_on_timeout is True
    assert app.extra_args == [command[3]]  # the notebook to serve


def test_port_none_picks_a_free_port():
    port = int(_option(classroom.voila_command(open_browser=False), "--port"))
    assert 0 < port < 65536


@pytest.mark.parametrize("bad", [0, 70000, -1, "8866"])
def test_bad_port_is_refused_in_one_sentence(bad):
    with pytest.raises(ValueError, match=r"^The port must be a whole number from 1 to 65535"):
        classroom.voila_command(port=bad)


@pytest.mark.parametrize("bad", [0, -5, None])
def test_unbounded_or_bad_cell_timeout_is_refused(bad):
    with pytest.raises(ValueError, match="cell timeout must be a positive number"):
        classroom.voila_command(port=8866, cell_timeout=bad)


def test_missing_or_wrong_notebook_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        classroom.find_notebook(tmp_path / "nope.ipynb")
    with pytest.raises(FileNotFoundError, match="Could not find the notebook 'nope.ipynb'"):
        classroom.find_notebook("nope.ipynb")
    with pytest.raises(ValueError, match=r"a Jupyter notebook \(\.ipynb\)"):
        classroom.find_notebook(tmp_path / "picture.png")
    with pytest.raises(FileNotFoundError):
        classroom.serve(tmp_path / "nope.ipynb", open_browser=False)


def _notebook(tmp_path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_code_cell("ui = 1", execution_count=3,
                                          outputs=[nbformat.v4.new_output("stream", text="x")]),
                nbformat.v4.new_markdown_cell("## Checks\n\nFor the test suite."),
                nbformat.v4.new_code_cell("assert ui == 1")]
    path = tmp_path / "app.ipynb"
    nbformat.write(nb, path)
    return path


def test_classroom_copy_ends_before_the_checks_and_has_no_outputs(tmp_path):
    nb = classroom.classroom_notebook(_notebook(tmp_path))
    assert [c.source for c in nb.cells] == ["# Title", "ui = 1"]
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    nbformat.validate(nb)


def test_classroom_copy_moves_the_kernel_to_the_teachers_folder(tmp_path):
    workdir = tmp_path / "class room"
    workdir.mkdir()
    nb = classroom.classroom_notebook(_notebook(tmp_path), workdir=workdir)
    first = nb.cells[0]
    assert first.cell_type == "code" and len(nb.cells) == 3
    # The cell really moves a Python process there (run it as code, not by reading it).
    script = first.source + "\nimport os\nprint(os.getcwd())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path, check=True).stdout.strip()
    assert Path(out) == workdir


def test_playground_copy_keeps_the_playground_and_drops_its_checks():
    source = nbformat.read(classroom.find_notebook(), as_version=4)
    nb = classroom.classroom_notebook(classroom.find_notebook())
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("playground(" in src for src in code)
    assert not any("assert" in src for src in code)
    assert len(nb.cells) < len(source.cells)


def test_the_settings_turn_the_host_check_back_on_cull_idle_kernels_and_cap_them():
    settings = classroom.classroom_settings(3)
    assert settings["Voila"]["tornado_settings"]["allow_remote_access"] is False  # a real False, not "False"
    assert settings["MappingKernelManager"]["cull_idle_timeout"] == classroom.CULL_IDLE_S > 0
    assert settings["CappedKernelManager"]["max_kernels"] == 3
    module, name = settings["VoilaConfiguration"]["multi_kernel_manager_class"].rsplit(".", 1)
    import importlib

    assert getattr(importlib.import_module(module), name).max_kernels.default_value == 0
    with pytest.raises(ValueError, match="at least one page"):
        classroom.classroom_settings(0)
    command = classroom.voila_command(port=8899, token="abc")
    assert _option(command, "--token") == "abc"


def test_the_default_cap_is_what_the_available_memory_holds():
    kernel, reserve = classroom.KERNEL_BYTES, classroom.RESERVE_BYTES
    assert classroom.default_max_kernels(reserve + 5.5 * kernel) == 5
    assert classroom.default_max_kernels(reserve / 2) == 1  # a small machine still serves one page
    assert classroom.default_max_kernels(1e15) == classroom.MAX_KERNELS_LIMIT
    assert classroom.default_max_kernels(None) >= 1


def test_the_capped_manager_refuses_the_kernel_beyond_the_cap_with_a_sentence():
    import asyncio

    from tornado.web import HTTPError

    from ot_style.cli.kernel_cap import CappedKernelManager

    started = []

    async def scenario():
        manager = CappedKernelManager(max_kernels=2)
        manager.list_kernel_ids = lambda: list(started)

        async def fake_start(self, *, kernel_id=None, path=None, **kwargs):
            await asyncio.sleep(0.01)  # two pages arriving together both count while they start
            started.append(f"k{len(started)}")
            return started[-1]

        import jupyter_server.services.kernels.kernelmanager as km

        original = km.AsyncMappingKernelManager.start_kernel
        km.AsyncMappingKernelManager.start_kernel = fake_start
        try:
            first = await asyncio.gather(manager.start_kernel(), manager.start_kernel(),
                                         manager.start_kernel(), return_exceptions=True)
        finally:
            km.AsyncMappingKernelManager.start_kernel = original
        return first

    # In its own thread: after the browser suite, Playwright's event loop may still run in this one.
    import threading

    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("results", asyncio.run(scenario())))
    worker.start()
    worker.join(timeout=60)
    results = box["results"]
    assert results[:2] == ["k0", "k1"]
    assert isinstance(results[2], HTTPError) and results[2].status_code == 503
    assert results[2].reason.startswith("The classroom is full (2 pages open, the most this machine serves")


@pytest.mark.slow
def test_a_request_without_the_token_or_from_another_host_or_beyond_the_cap_is_refused(tmp_path):
    """Voila served by ``serve``: the tokenised address works, a missing token or a DNS-rebinding Host
    header does not, and with a cap of one the second page says the classroom is full (plain HTTP;
    the browser suite opens the page itself)."""
    import http.client
    import os
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = ("import sys\nfrom ot_style.cli.classroom import serve\n"
            f"sys.exit(serve(port={port}, open_browser=False, token='sesame', max_kernels=1))")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, OT_STYLE_FAST="1"))
    try:
        deadline = time.monotonic() + 120  # a bound, not a measurement
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)

        def fetch(path, host=f"127.0.0.1:{port}"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=240)
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            connection.close()
            return response.status, response.getheader("Location") or "", body

        def status(path, host=f"127.0.0.1:{port}"):
            return fetch(path, host)[:2]

        # (Voila answers an unknown path with a redirect to its files; without a token, to the login page.)
        with_token, no_token = status("/api/kernels?token=sesame"), status("/api/kernels")
        assert with_token[0] in (200, 302) and "login" not in with_token[1]
        assert no_token[0] == 302 and "/login" in no_token[1]
        assert status("/api/kernels?token=sesame", host=f"rebound.example:{port}")[0] == 403
        first = fetch("/?token=sesame")  # renders the playground: one kernel, kept for its widgets
        assert first[0] == 200 and "Run" in first[2]
        second = fetch("/?token=sesame")
        assert second[0] == 503 and "503: The classroom is full (1 page open" in second[2]
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=60)
    assert f"classroom mode: open http://127.0.0.1:{port}/?token=sesame" in out

"""Classroom mode: the playground notebook served as an app without code cells, by Voila.

``ot-style classroom`` (:mod:`ot_style.cli.commands`) calls :func:`serve`. What it runs is :func:`voila_command` (a plain argv, so it
is tested without starting a server), on a copy of the notebook made by :func:`classroom_notebook`:

- the notebook is found in a source checkout (``notebooks/`` next to the package) or in an installed
  package (``<prefix>/share/ot-style/notebooks``, see ``[tool.setuptools.data-files]``);
- the copy ends before the ``## Checks`` section: those cells are the notebook's asserts for the test
  suite (full transfers waited for in the foreground), which would keep a class waiting at a blank
  page, since Voila shows the page only after every cell has run;
- a first, silent cell moves the kernel to the folder the teacher started from, so *Save* writes
  there and not into the temporary copy's folder;
- every cell has a time limit (``--VoilaExecutor.timeout``; Voila's default waits forever) and a cell
  that runs out of time is interrupted, so the page still renders (nbclient issue 312 can stall a
  cell that writes into an Output widget).

The browser suite (``tests/browser/test_classroom.py``) starts :func:`serve` and presses Run.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["PLAYGROUND", "CELL_TIMEOUT_S", "find_notebook", "classroom_notebook", "voila_command", "serve"]

PLAYGROUND = "04_style_transfer_playground.ipynb"
# Seconds one cell may run before Voila interrupts it. The playground's cells only build widgets
# (a run starts in a background thread when Run is pressed), so this is generous.
CELL_TIMEOUT_S = 300
# The heading from which a notebook holds checks for the test suite, not for a class.
CHECKS_HEADING = "## Checks"
STOP_TIMEOUT_S = 15
# Seconds a kernel may sit idle before it is shut down (a tab left open holds about a gigabyte).
CULL_IDLE_S = 1800
# Memory one playground kernel is given when the default cap is worked out: TensorFlow, VGG19 and a
# default run measure about 1.1 GB at their peak (benchmarks/README.md, "Memory"), plus headroom.
KERNEL_BYTES = 1.5e9
# Memory kept back for the server, the teacher's browser and the rest of the machine.
RESERVE_BYTES = 1.0e9
MAX_KERNELS_LIMIT = 64


def _notebook_folders() -> list[Path]:
    package = Path(__file__).resolve().parent.parent
    folders = [package.parent / "notebooks"]  # a source checkout or an editable install
    for prefix in {sys.prefix, sysconfig.get_paths()["data"]}:  # a wheel's data-files
        folders.append(Path(prefix) / "share" / "ot-style" / "notebooks")
    return folders


def find_notebook(notebook: str | os.PathLike | None = None) -> Path:
    """The notebook to serve: ``notebook`` if given, else the playground (notebook 04).

    A bare file name (``"05_losses_side_by_side.ipynb"``) is also looked up among the package's
    notebooks.

    Raises
    ------
    FileNotFoundError
        When the notebook does not exist, with the places that were searched.
    ValueError
        When the path is not a ``.ipynb`` file.
    """
    if notebook is not None:
        path = Path(notebook).expanduser()
        if path.suffix != ".ipynb":
            raise ValueError(f"Classroom mode serves a Jupyter notebook (.ipynb), not {str(path)!r}.")
        if path.is_file():
            return path.resolve()
        if path.parent != Path("."):
            raise FileNotFoundError(f"The notebook {str(path)!r} does not exist.")
    name = PLAYGROUND if notebook is None else Path(notebook).name
    folders = _notebook_folders()
    for folder in folders:
        if (folder / name).is_file():
            return (folder / name).resolve()
    searched = ", ".join(str(f) for f in folders)
    raise FileNotFoundError(f"Could not find the notebook {name!r} (looked in the current folder and {searched}).")


def classroom_notebook(source: str | os.PathLike, *, workdir: str | os.PathLike | None = None):
    """The notebook as a class sees it: without its ``## Checks`` section, without outputs.

    Parameters
    ----------
    source : path
        The notebook to read.
    workdir : path, optional
        Folder the kernel moves to first (a silent cell), so relative paths such as *Save to*
        ``stylized.png`` land there; ``None`` leaves the kernel where Voila starts it.

    Returns
    -------
    nbformat.NotebookNode
    """
    import nbformat

    nb = nbformat.read(os.fspath(source), as_version=4)
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith(CHECKS_HEADING):
            break
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        kept.append(cell)
    if workdir is not None:
        chdir = nbformat.v4.new_code_cell(f"import os as _os\n_os.chdir({os.fspath(workdir)!r})\ndel _os")
        kept.insert(0, chdir)
    nb.cells = kept
    return nb


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def voila_command(notebook: str | os.PathLike | None = None, *, port: int | None = None,
                  open_browser: bool = True, cell_timeout: int = CELL_TIMEOUT_S,
                  python: str | None = None, token: str | None = None) -> list[str]:
    """The command that serves ``notebook`` (default: the playground) with Voila.

    Parameters
    ----------
    notebook : path, optional
        Found with :func:`find_notebook`.
    port : int, optional
        Port on 127.0.0.1; ``None`` picks a free one.
    open_browser : bool
        Whether Voila opens the page in the default browser.
    cell_timeout : int
        Seconds each cell may run before it is interrupted (must be positive: never an unbounded wait).
    python : str, optional
        The interpreter (default: the running one).
    token : str, optional
        The token every request must carry (``?token=...`` once; a cookie afterwards). :func:`serve`
        always passes a random one.

    Returns
    -------
    list of str
        The argv, e.g. ``[python, "-m", "voila", path, "--port=8866", ...]``.
    """
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        raise ValueError(f"The port must be a whole number from 1 to 65535, not {port!r}.")
    if not (isinstance(cell_timeout, int) and cell_timeout > 0):
        raise ValueError(f"The cell timeout must be a positive number of seconds, not {cell_timeout!r}.")
    path = find_notebook(notebook)
    command = [python or sys.executable, "-m", "voila", str(path),
               f"--port={port if port is not None else _free_port()}",
               "--Voila.ip=127.0.0.1",          # the teacher's machine only
               "--strip_sources=True",          # no code cells: an app, not a notebook
               "--show_tracebacks=True",        # a student sees what went wrong, not a generic line
               "--progressive_rendering=False",
               f"--VoilaExecutor.timeout={cell_timeout}",
               "--VoilaExecutor.interrupt_on_timeout=True",
               "--VoilaExecutor.startup_timeout=120"]
    if token is not None:
        command.append(f"--token={token}")
    if not open_browser:
        command.append("--no-browser")
    return command


def default_max_kernels(available: float | None = None) -> int:
    """How many playground kernels this machine can hold at once: its available memory, less
    :data:`RESERVE_BYTES`, over :data:`KERNEL_BYTES` (at least 1, at most :data:`MAX_KERNELS_LIMIT`;
    4 where the available memory is unknown)."""
    from ..engine.plan import available_memory

    available = available_memory() if available is None else available
    if available is None:
        return 4
    return int(min(MAX_KERNELS_LIMIT, max(1, (available - RESERVE_BYTES) // KERNEL_BYTES)))


#: Voila's settings that the command line cannot carry (traitlets passes Dict values as strings, and
#: "False" is true): written as voila.json where Voila looks first, its working folder.
def classroom_settings(max_kernels: int) -> dict:
    """``voila.json`` for classroom mode: Host check on, idle kernels culled, at most ``max_kernels``
    kernels at once, websocket messages up to 64 MiB.

    Voila 0.5 turns jupyter_server's Host check off (``allow_remote_access=True``), which lets a page
    on another site reach the server through DNS rebinding; ``tornado_settings`` are applied after,
    so they turn it back on. A student's tab left open keeps a kernel (TensorFlow and VGG19, about a
    gigabyte): kernels idle for :data:`CULL_IDLE_S` are shut down, and a page beyond the cap gets a
    page saying the classroom is full (:mod:`ot_style.cli.kernel_cap`). The websocket limit is above
    the playground's own upload limit, so a too-large upload reaches the kernel and is refused there
    with a message instead of dropping the connection.
    """
    if int(max_kernels) < 1:
        raise ValueError(f"The classroom must serve at least one page at once, not {max_kernels!r}.")
    return {"Voila": {"tornado_settings": {"allow_remote_access": False,
                                           "local_hostnames": ["localhost", "127.0.0.1"],
                                           "websocket_max_message_size": 64 * 1024 * 1024}},
            "VoilaConfiguration": {"multi_kernel_manager_class": "ot_style.cli.kernel_cap.CappedKernelManager"},
            "CappedKernelManager": {"max_kernels": int(max_kernels)},
            "MappingKernelManager": {"cull_idle_timeout": CULL_IDLE_S, "cull_interval": 60,
                                     "cull_connected": False}}


def serve(notebook: str | os.PathLike | None = None, *, port: int | None = None,
          open_browser: bool = True, cell_timeout: int = CELL_TIMEOUT_S, token: str | None = None,
          max_kernels: int | None = None) -> int:
    """Serve the playground (or ``notebook``) as an app until stopped; returns Voila's exit code.

    Blocks. Ctrl-C or SIGTERM stops Voila (SIGTERM, then a kill after a timeout) and returns 0.
    The notebook is served from a temporary copy made by :func:`classroom_notebook`, with
    :func:`classroom_settings`, and only to requests that carry ``token`` (a random one by default):
    the page's address with the token is printed, and opened in the browser if ``open_browser``.
    At most ``max_kernels`` pages run at once (default: :func:`default_max_kernels`).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`find_notebook` and :func:`voila_command`, before anything starts.
    ModuleNotFoundError
        When Voila is not installed (``pip install 'ot-style[classroom]'``).
    """
    import importlib.util

    import nbformat

    source = find_notebook(notebook)
    if importlib.util.find_spec("voila") is None:
        raise ModuleNotFoundError("Classroom mode needs Voila: pip install 'ot-style[classroom]'.",
                                  name="voila")
    token = secrets.token_urlsafe(24) if token is None else str(token)
    port = _free_port() if port is None else port
    max_kernels = default_max_kernels() if max_kernels is None else int(max_kernels)
    settings = classroom_settings(max_kernels)
    with tempfile.TemporaryDirectory(prefix="ot-style-classroom-") as folder:
        app = Path(folder) / source.name
        nbformat.write(classroom_notebook(source, workdir=Path.cwd()), os.fspath(app))
        (Path(folder) / "voila.json").write_text(json.dumps(settings, indent=1))
        command = voila_command(app, port=port, open_browser=False, cell_timeout=cell_timeout, token=token)
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, cwd=folder)
        url = f"http://127.0.0.1:{port}/?token={token}"
        # the command line's own output
        print(f"classroom mode: open {url}\n(at most {max_kernels} pages at once; idle pages close after "
              f"{CULL_IDLE_S // 60} minutes)", flush=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        previous = None
        if _in_main_thread():  # SIGTERM (e.g. from a test or a service manager) stops Voila too
            previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            return process.wait()
        except KeyboardInterrupt:
            return _stop(process)
        finally:
            if process.poll() is None:
                _stop(process)
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    return 0

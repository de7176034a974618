"""A kernel manager for classroom mode that holds at most a set number of kernels.

Voila starts one kernel per open page, and each playground kernel holds TensorFlow and VGG19 (about
a gigabyte). Without a cap, a class opening the page, or one student reloading it, can exhaust the
teacher's machine. :class:`CappedKernelManager` refuses the page beyond ``max_kernels`` with a 503
page that says why and what to do; kernels of closed pages are shut down by Voila, and idle ones are
culled (see :func:`ot_style.cli.classroom.classroom_settings`), which frees places again.

Voila loads this class by name (``VoilaConfiguration.multi_kernel_manager_class``) in its own
process; nothing else in ot-style imports it, so the package does not need jupyter_server.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.web import HTTPError
from traitlets import Integer

__all__ = ["CappedKernelManager", "FULL_MESSAGE"]

# Shown as the page's heading ("503: The classroom is full ..."): Voila's error page shows the
# reason, not the message, so the sentence is the reason (one line, ASCII, as a status line needs).
FULL_MESSAGE = ("The classroom is full ({count} {pages} open, the most this machine serves at once): close a "
                "tab you no longer use, or wait a few minutes and reload")


class CappedKernelManager(AsyncMappingKernelManager):
    """``AsyncMappingKernelManager`` that refuses to start a kernel beyond ``max_kernels``."""

    max_kernels = Integer(0, config=True, help="Most kernels running at once (0: no cap).")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting = 0  # kernels being started now (not yet in list_kernel_ids)

    async def start_kernel(self, *, kernel_id=None, path=None, **kwargs):
        if kernel_id is None and self.max_kernels > 0:
            count = len(self.list_kernel_ids()) + self._starting
            if count >= self.max_kernels:
                self.log.warning("classroom full: %d kernels, refusing another", count)
                message = FULL_MESSAGE.format(count=count, pages="page" if count == 1 else "pages")
                raise HTTPError(503, message.replace("%", "%%"), reason=message)
        self._starting += 1
        try:
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        finally:
            self._starting -= 1

"""What the theory UIs share: a box to display and numbers a browser test can read one by one."""

from __future__ import annotations

import html


def numbers_html(items) -> str:
    # <b data-quantity=...> lets a browser test read one number without parsing the sentence.
    return " &nbsp;|&nbsp; ".join(
        f'{html.escape(label)}: <b data-quantity="{key}">{value:.4f}</b>' for key, label, value in items)


class UI:
    """Common part of the UIs: ``.widget`` is the box to display, the controls are attributes."""

    widget = None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

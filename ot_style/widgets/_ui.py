"""What the UIs share: a box to display, numbers a browser test can read one by one, and a placeholder
picture for an image widget that has nothing to show yet."""

from __future__ import annotations

import html
import io


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


def placeholder_png(text: str, width: int = 320, height: int = 240) -> bytes:
    """A light-grey PNG with ``text`` in the middle: what an image widget shows before it has a picture
    (an empty ``ipywidgets.Image`` is drawn by the browser as a broken-image icon)."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGB", (int(width), int(height)), (238, 238, 238))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(10, int(height) // 16))
    box = draw.multiline_textbbox((0, 0), text, font=font, align="center")
    x = (int(width) - (box[2] - box[0])) / 2
    y = (int(height) - (box[3] - box[1])) / 2
    draw.multiline_text((x, y), text, fill=(110, 110, 110), font=font, align="center")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()

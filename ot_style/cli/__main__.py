"""``python -m ot_style.cli``: the same as the ``ot-style`` command."""

import sys

from .commands import main

sys.exit(main())

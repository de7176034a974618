"""``python -m ot_style`` runs the ``ot-style`` command line (see :mod:`ot_style.cli`)."""

import sys

from .cli import main

sys.exit(main())

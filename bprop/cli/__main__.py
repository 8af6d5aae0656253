"""``python -m bprop.cli``: the ``bprop`` command, for where its console script is not on PATH."""

import sys

from bprop.cli import main

sys.exit(main())

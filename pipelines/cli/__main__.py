"""``python -m pipelines.cli``: the ``newsflow`` command without the installed script."""

import sys

from pipelines.cli import main

sys.exit(main())

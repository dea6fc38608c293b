"""``python -m heron.cli``: the same as the ``heron`` console script."""

import sys

from heron.cli.main import main

sys.exit(main())

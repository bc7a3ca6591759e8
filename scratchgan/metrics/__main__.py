"""``python -m scratchgan.metrics [RUN_DIR ...] [--baselines DATASET ...]``: evaluate, then update
docs/RESULTS.md."""

import sys

from .report import main

sys.exit(main())

"""`python -m helpers.runner run -f params/default.yaml`: the runner's command line."""

import sys

from helpers.runner.cli import main

sys.exit(main())

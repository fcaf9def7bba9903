"""`python -m helpers.pipeline ...`: the runner's former name, kept working (helpers.runner)."""

import sys

from helpers.runner.cli import main

if __name__ == "__main__":
    sys.exit(main())

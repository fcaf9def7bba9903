"""`python -m helpers.serving --run-dir DIR`: serve a run's model as a REST API and web page."""

import sys

from helpers.serving.app import main

sys.exit(main())

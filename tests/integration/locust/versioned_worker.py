"""Debian's Locust worker with a version: Debian's python3-locust 2.12.1 reports an empty
__version__, so its workers' client_ready is refused as "pre 2.0" by any master (Locust's own
too). This sets the version it is, then runs `locust` with the given arguments."""
import sys

import locust.runners
from locust.main import main

locust.runners.__version__ = "2.12.1"
sys.argv[0] = "locust"
sys.exit(main())

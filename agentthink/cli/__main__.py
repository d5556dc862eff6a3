"""``python -m agentthink.cli``."""

import sys

from agentthink.cli import main

sys.exit(main())

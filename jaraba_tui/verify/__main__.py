"""``python -m jaraba_tui.verify [--profile P] [--pre|--post] [--json]``."""

import sys

from jaraba_tui.verify.cli import main

raise SystemExit(main(sys.argv[1:], profile_name=None))

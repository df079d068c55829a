#!/usr/bin/env python3
"""The jaraba lab: the seed's HA stack as real servers on loopback.

    python3 lab/labctl.py up | status | down | reset | fault ... | start C | stop C

Stdlib only; the ProxySQL stand-in is the one part that needs the project's Python
packages (mysql-mimic, pymysql), and runs with the interpreter that runs this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

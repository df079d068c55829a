"""``python -m lab.proxysql_standin`` (see :mod:`lab.proxysql_standin.cli`)."""

from __future__ import annotations

import sys

from lab.proxysql_standin.cli import main

sys.exit(main())

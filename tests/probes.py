"""Which modules a fresh interpreter imports: ``from tests.probes import imported_after``.

The import-weight tests (``--help``, the profile layer, the console's first frame, verify's
parser) each run a few lines in a new ``python -c`` and ask which of some modules are then
in ``sys.modules``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Sequence

from tests.labutil import REPO


def imported_after(code: str, modules: Sequence[str]) -> tuple[list[str], str]:
    """(those of ``modules`` imported once ``code`` has run in a new interpreter, sorted;
    what ``code`` printed). The probe's own last line is the list."""
    wanted = tuple(modules)
    probe = f"{code}\nimport sys as _s\nprint(sorted(m for m in {wanted!r} if m in _s.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    printed, _, last = out.stdout.rstrip("\n").rpartition("\n")
    found = ast.literal_eval(last)
    assert isinstance(found, list), out.stdout + out.stderr
    return [str(m) for m in found], printed

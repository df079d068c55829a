"""Shared fixtures. Lab helpers live in tests/labutil.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.labutil import LAB_DIR


@pytest.fixture
def lab_dir() -> Path:
    return LAB_DIR

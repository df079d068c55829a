"""Fixtures of the action tests. Lab tests restore what they change in their teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jaraba_tui.actions import ActionContext
from tests.actions.labkit import lab_context


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.log"


@pytest.fixture
async def lab_ctx(audit_path: Path) -> AsyncIterator[ActionContext]:
    ctx = lab_context(audit_path)
    try:
        yield ctx
    finally:
        await ctx.aclose()

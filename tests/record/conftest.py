"""Replay tests run in UTC so recorded times render the same everywhere."""

from __future__ import annotations

from tests.utc import utc  # noqa: F401  (autouse: these tests run in UTC)

"""Fixtures of the lesson tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lesson.clusters import cli


@pytest.fixture
def own_state(tmp_path: Path) -> Iterator[Path]:
    """A state directory of its own, so a practice cluster of its own (lessons share the cluster's namespace:
    no leftovers of another lesson); the cluster is stopped after the test."""
    state = tmp_path / "state"
    yield state
    cli(state, "cluster", "down")

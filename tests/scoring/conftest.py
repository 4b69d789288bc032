"""Fixtures for the numeric-core tests."""

from __future__ import annotations

import pytest
from scoring_panels import biased_panel


@pytest.fixture
def panel_data():
    return biased_panel()

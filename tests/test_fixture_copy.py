"""The vendored payload fixtures are the shared ones, byte for byte, when those are here."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, SHARED_FIXTURES


def test_the_vendored_fixtures_match_the_shared_ones() -> None:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"{SHARED_FIXTURES} is not on this machine")
    shared = {path.name: path.read_bytes() for path in SHARED_FIXTURES.iterdir()}
    vendored = {path.name: path.read_bytes() for path in FIXTURES.iterdir()}
    assert vendored == shared, "copy ../shared/fixtures/payloads into tests/fixtures/payloads"

"""The vendored htmx files are exactly the versions VENDORED.md names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "console" / "static"


def test_every_vendored_file_matches_its_recorded_sha256() -> None:
    rows = re.findall(
        r"^\| (\S+) \| .+ \| ([0-9a-f]{64}) \|$", (STATIC / "VENDORED.md").read_text(), re.M
    )
    assert {name for name, _ in rows} == {"htmx-2.0.4.min.js", "htmx-ext-sse-2.2.2.js"}
    for name, digest in rows:
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name

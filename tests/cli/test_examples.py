"""The shipped examples: the CSV the README points at imports cleanly with `fireline ingest`,
and every `examples/...` file the README names exists."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from core.settings import REPO_ROOT
from tests.cli.test_ingest_cli import fireline_ingest, stored_incidents

EXAMPLE_CSV = REPO_ROOT / "examples" / "incidents.csv"
README = REPO_ROOT / "README.md"


def example_rows() -> list[dict[str, str]]:
    with EXAMPLE_CSV.open(encoding="utf-8", newline="") as lines:
        return list(csv.DictReader(lines))


async def test_the_example_csv_imports_every_row_without_errors(tmp_path: Path) -> None:
    rows = example_rows()
    data_dir = tmp_path / "data"

    result = fireline_ingest(str(EXAMPLE_CSV), data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == (
        f"{EXAMPLE_CSV}: {len(rows)} row(s): {len(rows)} created, 0 updated, 0 unchanged, "
        "0 with errors"
    )
    stored = {ref: status for _, ref, status in await stored_incidents(data_dir)}
    assert stored.keys() == {row["sourceRef"] for row in rows}
    resolved = {row["sourceRef"] for row in rows if row["resolvedAt"]}
    assert {ref for ref, status in stored.items() if status == "RESOLVED"} == resolved


def test_the_example_csv_shows_the_list_and_resolve_columns() -> None:
    """It teaches by example: `;`-separated tags and at least one resolved incident."""
    rows = example_rows()
    assert len(rows) >= 3
    assert any(";" in row["tags"] for row in rows)
    assert any(row["resolvedAt"] for row in rows)


def test_every_example_the_readme_names_exists() -> None:
    named = set(re.findall(r"(?<![\w/])examples/[\w./-]*\w", README.read_text(encoding="utf-8")))
    assert "examples/incidents.csv" in named
    missing = sorted(path for path in named if not (REPO_ROOT / path).is_file())
    assert missing == [], f"README.md names example files that do not exist: {missing}"

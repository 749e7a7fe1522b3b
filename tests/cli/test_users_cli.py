"""`fireline users add`: the password from standard input, or generated and printed;
refusals name the field; the first admin of `make up` keeps one password. `fireline
users remove`: the person can no longer sign in; an unknown one is refused by name."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from cli.users import FIRST_ADMIN_FILE, ensure_first_admin
from core.settings import Settings
from services.users import UserService
from store.db import Database
from tests.cli.test_ingest_cli import FIRELINE

PASSWORD = "long-enough-password-7"


def users_add(data_dir: Path, *args: str, stdin: str | None) -> subprocess.CompletedProcess[str]:
    return users(data_dir, "add", *args, stdin=stdin)


def users(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env.update({"NO_COLOR": "1", "FIRELINE_DATA_DIR": str(data_dir)})
    return subprocess.run(
        [str(FIRELINE), "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir.parent,
        timeout=120,
        check=False,
    )


async def signs_in(data_dir: Path, email: str, password: str) -> bool:
    db = Database(f"sqlite+aiosqlite:///{data_dir / 'fireline.db'}")
    try:
        return await UserService(db).authenticate(email, password) is not None
    finally:
        await db.dispose()


async def test_a_piped_password_is_used_and_never_printed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    added = users_add(
        data_dir,
        "--org",
        "acme",
        "--role",
        "SRE_LEAD",
        "--email",
        "lead@acme.io",
        stdin="piped-password-123\n",
    )

    assert added.returncode == 0, added.stderr
    assert "piped-password-123" not in added.stdout + added.stderr
    assert await signs_in(data_dir, "lead@acme.io", "piped-password-123")


async def test_without_a_password_one_is_generated_and_printed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    added = users_add(
        data_dir, "--org", "acme", "--role", "VIEWER", "--email", "v@acme.io", stdin=""
    )

    assert added.returncode == 0, added.stderr
    [line] = [line for line in added.stdout.splitlines() if line.startswith("password: ")]
    assert await signs_in(data_dir, "v@acme.io", line.removeprefix("password: "))


def test_a_bad_role_or_a_taken_email_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    base = ("--org", "acme", "--email", "x@acme.io")
    bad = users_add(data_dir, *base, "--role", "EMPEROR", stdin="long-enough-password")
    first = users_add(data_dir, *base, "--role", "VIEWER", stdin="long-enough-password")
    again = users_add(data_dir, *base, "--role", "VIEWER", stdin="long-enough-password")

    assert bad.returncode == 1 and "role" in bad.stderr
    assert first.returncode == 0
    assert again.returncode == 1 and "already has an account" in again.stderr


def test_the_first_admin_keeps_one_password_across_starts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    email, first = ensure_first_admin(settings)
    _, second = ensure_first_admin(settings)

    assert first is not None and first == second
    assert asyncio.run(signs_in(settings.resolved_data_dir, email, first))
    assert (settings.resolved_data_dir / FIRST_ADMIN_FILE).stat().st_mode & 0o077 == 0


async def test_a_removed_user_cannot_sign_in_and_an_unknown_one_is_refused(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    for email in ("gone@acme.io", "stays@acme.io"):
        added = users_add(
            data_dir, "--org", "acme", "--role", "VIEWER", "--email", email, stdin=PASSWORD
        )
        assert added.returncode == 0, added.stderr

    removed = users(data_dir, "remove", "--org", "acme", "--email", "Gone@acme.io")
    again = users(data_dir, "remove", "--org", "acme", "--email", "gone@acme.io")
    other_org = users(data_dir, "remove", "--org", "globex", "--email", "stays@acme.io")

    assert removed.returncode == 0 and "removed gone@acme.io from org acme" in removed.stdout
    assert again.returncode == 1
    assert "gone@acme.io has no account in this org" in again.stderr
    assert other_org.returncode == 1
    assert not await signs_in(data_dir, "gone@acme.io", PASSWORD)
    assert await signs_in(data_dir, "stays@acme.io", PASSWORD)

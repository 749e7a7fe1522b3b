"""`fireline users add` and `remove`: the people who sign in to the console."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console
from rich.markup import escape

from core.errors import FirelineError
from core.settings import Settings
from services.users import UserService
from store.db import Database

T = TypeVar("T")
EXIT_OK, EXIT_REFUSED = 0, 1
FIRST_ADMIN = "admin@fireline.local"
FIRST_ADMIN_ORG = "default"
FIRST_ADMIN_FILE = "console-admin.txt"  # its password, in the data dir beside the secret key


def add_command(*, org: str, role: str, email: str) -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    password = _piped_password()
    try:
        generated = asyncio.run(_add(Settings(), org, role, email, password))
    except FirelineError as error:
        err.print(escape(f"users add: {error}"))
        return EXIT_REFUSED
    print(f"added {email.strip().lower()} to org {org} as {role}")
    if generated is not None:
        print(f"password: {generated}")
    return EXIT_OK


def remove_command(*, org: str, email: str) -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        asyncio.run(_with_users(Settings(), lambda users: users.remove(org_id=org, email=email)))
    except FirelineError as error:
        err.print(escape(f"users remove: {error}"))
        return EXIT_REFUSED
    print(f"removed {email.strip().lower()} from org {org}")
    return EXIT_OK


def _piped_password() -> str | None:
    """What standard input holds when it is not a terminal; None for nothing."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    return sys.stdin.read().rstrip("\r\n") or None


async def _add(
    settings: Settings, org: str, role: str, email: str, password: str | None
) -> str | None:
    async def add(users: UserService) -> str | None:
        _, generated = await users.add(org_id=org, email=email, role=role, password=password)
        return generated

    return await _with_users(settings, add)


async def _with_users(settings: Settings, work: Callable[[UserService], Awaitable[T]]) -> T:
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        return await work(UserService(db))
    finally:
        await db.dispose()


def ensure_first_admin(settings: Settings) -> tuple[str, str | None]:
    """The embedded platform's first admin (org "default"), created on the first `make up`
    with a generated password kept in the data dir (mode 0600) so the banner can show it."""
    saved = settings.resolved_data_dir / FIRST_ADMIN_FILE
    if saved.exists():
        return FIRST_ADMIN, saved.read_text().strip()
    try:
        generated = asyncio.run(_add(settings, FIRST_ADMIN_ORG, "ORG_ADMIN", FIRST_ADMIN, None))
    except FirelineError:  # added before, and its password file was removed
        return FIRST_ADMIN, None
    assert generated is not None
    saved.touch(mode=0o600)
    saved.write_text(generated + "\n")
    return FIRST_ADMIN, generated

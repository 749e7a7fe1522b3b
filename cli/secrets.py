"""`fireline secrets rotate`: re-encrypt every stored secret with the newest key."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.markup import escape

from core.errors import FirelineError
from core.secretbox import SecretBox
from core.settings import Settings
from services.secret_rotation import rotate_stored_secrets
from store.db import Database

EXIT_OK, EXIT_REFUSED = 0, 1


def rotate_command() -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        count = asyncio.run(_rotate(Settings()))
    except (FirelineError, ValueError) as error:  # ValueError: an unusable key setting
        err.print(escape(f"secrets rotate: {error}; nothing was changed"))
        return EXIT_REFUSED
    print(f"re-encrypted {count} stored secrets with the first FIRELINE_SECRET_KEY key")
    return EXIT_OK


async def _rotate(settings: Settings) -> int:
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        return await rotate_stored_secrets(db, SecretBox(settings.effective_secret_key()))
    finally:
        await db.dispose()

"""Re-encrypt every stored secret with the newest FIRELINE_SECRET_KEY key, so an old key
can be dropped from the list: all of them in one transaction, or none."""

from __future__ import annotations

from core.secretbox import SecretBox
from store.db import Database
from store.secret_columns import reencrypt_all


async def rotate_stored_secrets(db: Database, box: SecretBox) -> int:
    """How many secrets were re-encrypted; SecretDecryptionError (naming the table and
    org, never the secret) when a stored one cannot be read, and nothing changes."""
    async with db.session() as session:
        return await reencrypt_all(session, box.rotate)

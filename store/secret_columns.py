"""Every column that holds a Fernet ciphertext (core.secretbox), for re-encryption."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.secretbox import SecretDecryptionError
from store.models import ConnectionModel, WebhookConfigModel

WEBHOOK_CIPHERTEXTS = ("secret_ciphertext",)
CONNECTION_CIPHERTEXTS = ("credential_ciphertext", "credential_passphrase_ciphertext")


async def reencrypt_all(session: AsyncSession, rotate: Callable[[str], str]) -> int:
    """Replace every stored ciphertext with `rotate(ciphertext)`; the number replaced.
    A `rotate` that fails leaves the session to roll back: nothing is half rotated."""
    count = 0
    for hook in (await session.scalars(select(WebhookConfigModel))).all():
        where = f"webhook {hook.source!r} of org {hook.org_id!r}"
        count += _rotate_columns(hook, WEBHOOK_CIPHERTEXTS, rotate, where)
    for connection in (await session.scalars(select(ConnectionModel))).all():
        where = f"connection {connection.name!r} of org {connection.org_id!r}"
        count += _rotate_columns(connection, CONNECTION_CIPHERTEXTS, rotate, where)
    return count


def _rotate_columns(
    row: object, columns: tuple[str, ...], rotate: Callable[[str], str], where: str
) -> int:
    rotated = 0
    for column in columns:
        value = getattr(row, column)
        if value is None:
            continue
        try:
            setattr(row, column, rotate(value))
        except SecretDecryptionError as err:
            raise SecretDecryptionError(f"{err}: {where}") from None
        rotated += 1
    return rotated

"""Symmetric encryption for secrets kept in the database (Fernet, FIRELINE_SECRET_KEY)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from core.errors import FirelineError

GENERATE_KEY_HINT = (
    "generate one with `python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'`"
)


class SecretDecryptionError(FirelineError):
    """A stored secret cannot be decrypted with the current key."""


class SecretBox:
    """Encrypts with one Fernet key; errors never quote the key, the secret or the token."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            # `from None`: the underlying error may carry the key's text.
            raise ValueError(
                "FIRELINE_SECRET_KEY is not a valid Fernet key (32 bytes, url-safe base64); "
                + GENERATE_KEY_HINT
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except (InvalidToken, ValueError, TypeError):
            raise SecretDecryptionError(
                "a stored secret cannot be decrypted: FIRELINE_SECRET_KEY may have changed "
                "since it was saved, or the stored value is corrupted; restore the previous "
                "key or configure the secret again"
            ) from None

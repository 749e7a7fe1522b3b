"""Symmetric encryption for secrets kept in the database (Fernet, FIRELINE_SECRET_KEY)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import FirelineError

GENERATE_KEY_HINT = (
    "generate one with `python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'`"
)


class SecretDecryptionError(FirelineError):
    """A stored secret cannot be decrypted with the current key."""


class SecretBox:
    """Encrypts with the first of its Fernet keys and decrypts with any of them, so a key
    can be rotated: `FIRELINE_SECRET_KEY=new,old` reads what the old key wrote while
    every secret saved from then on uses the new one. Errors never quote a key, a secret
    or a token."""

    def __init__(self, keys: str) -> None:
        try:
            self._fernet = MultiFernet([Fernet(key.strip()) for key in keys.split(",")])
        except (ValueError, TypeError):
            # `from None`: the underlying error may carry the key's text.
            raise ValueError(
                "FIRELINE_SECRET_KEY is not a valid Fernet key (32 bytes, url-safe base64; "
                "several keys are separated by commas, the newest first); " + GENERATE_KEY_HINT
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def rotate(self, token: str) -> str:
        """The same secret encrypted with the newest key (SecretDecryptionError if no key
        reads it); the secret itself never leaves this method."""
        try:
            return self._fernet.rotate(token).decode("ascii")
        except (InvalidToken, ValueError, TypeError):
            raise SecretDecryptionError(
                "a stored secret cannot be decrypted with any FIRELINE_SECRET_KEY key"
            ) from None

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except (InvalidToken, ValueError, TypeError):
            raise SecretDecryptionError(
                "a stored secret cannot be decrypted: FIRELINE_SECRET_KEY may have changed "
                "since it was saved, or the stored value is corrupted; restore the previous "
                "key or configure the secret again"
            ) from None

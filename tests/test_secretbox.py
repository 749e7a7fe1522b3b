"""Secrets encrypted at rest with FIRELINE_SECRET_KEY (Fernet)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core.errors import FirelineError
from core.secretbox import SecretBox, SecretDecryptionError

SECRET = "pd-subscription-secret-\u00e9"


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_a_secret_survives_the_round_trip_and_is_not_readable_in_the_token() -> None:
    box = SecretBox(new_key())
    token = box.encrypt(SECRET)
    assert box.decrypt(token) == SECRET
    assert "pd-subscription-secret" not in token
    # Fernet uses a fresh IV: the same secret never gives the same token twice.
    assert box.encrypt(SECRET) != token


def test_another_key_cannot_decrypt_and_the_message_names_the_setting_not_the_secret() -> None:
    key, other_key = new_key(), new_key()
    token = SecretBox(key).encrypt(SECRET)
    with pytest.raises(SecretDecryptionError) as caught:
        SecretBox(other_key).decrypt(token)
    message = str(caught.value)
    assert isinstance(caught.value, FirelineError)
    assert "cannot be decrypted" in message
    assert "FIRELINE_SECRET_KEY" in message
    for leaked in (SECRET, key, other_key, token):
        assert leaked not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("corrupt", ["", "not-a-token", "gAAAAA" + "A" * 80, "\u00e9\u00e9"])
def test_a_corrupted_value_is_the_same_clear_error(corrupt: str) -> None:
    with pytest.raises(SecretDecryptionError, match="FIRELINE_SECRET_KEY may have changed"):
        SecretBox(new_key()).decrypt(corrupt)


def test_a_flipped_character_in_a_token_is_refused() -> None:
    box = SecretBox(new_key())
    token = box.encrypt(SECRET)
    index = len(token) // 2
    tampered = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    with pytest.raises(SecretDecryptionError):
        box.decrypt(tampered)


@pytest.mark.parametrize("bad_key", ["", "short", "x" * 44, Fernet.generate_key().decode()[:-4]])
def test_an_invalid_key_is_refused_at_construction_naming_the_setting(bad_key: str) -> None:
    with pytest.raises(ValueError, match="FIRELINE_SECRET_KEY is not a valid Fernet key") as err:
        SecretBox(bad_key)
    if bad_key:
        assert bad_key not in str(err.value)


def test_a_rotated_key_reads_what_the_old_one_wrote_and_writes_with_the_new_one() -> None:
    old, new = new_key(), new_key()
    written_before = SecretBox(old).encrypt(SECRET)

    rotating = SecretBox(f"{new}, {old}")

    assert rotating.decrypt(written_before) == SECRET
    written_now = rotating.encrypt(SECRET)
    assert SecretBox(new).decrypt(written_now) == SECRET  # the old key is no longer needed
    with pytest.raises(SecretDecryptionError):
        SecretBox(old).decrypt(written_now)


def test_one_bad_key_in_a_rotation_list_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="several keys are separated by commas") as err:
        SecretBox(f"{new_key()},not-a-key")
    assert "not-a-key" not in str(err.value)

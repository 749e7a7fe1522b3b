"""`fireline secrets rotate` in a subprocess: with FIRELINE_SECRET_KEY=NEW,OLD it
re-encrypts every stored secret so that NEW alone reads them; a secret no key reads
stops it with the row named, the secret never printed, and nothing changed."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from core.secretbox import SecretBox
from services.connection_rules import ConnectionSpec, Credential
from services.connections import ConnectionService
from services.webhook_config import WebhookConfigService
from store.db import Database
from tests.cli.test_ingest_cli import Result, run_fireline

PASSWORD = "snow-password-rotated-17"
HOOK_SECRET = "hook-secret-rotated-29"


def rotate(data_dir: Path, keys: str) -> Result:
    return run_fireline(
        "secrets", "rotate", data_dir=data_dir, settings={"FIRELINE_SECRET_KEY": keys}
    )


async def _stored(data_dir: Path, key: str) -> Database:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite+aiosqlite:///{data_dir / 'fireline.db'}")
    await db.migrate()
    box = SecretBox(key)
    spec = ConnectionSpec(kind="servicenow", host="acme.service-now.example", username="bot")
    await ConnectionService(db, box).create(
        org_id="acme", name="snow", spec=spec, credential=Credential("password", PASSWORD)
    )
    await WebhookConfigService(db, box, "https://fireline.example").configure(
        org_id="acme", source="grafana", kind="bearer", secret=HOOK_SECRET
    )
    return db


async def _readable_with(db: Database, key: str) -> bool:
    view = await ConnectionService(db, SecretBox(key)).resolve_servicenow("acme", "snow")
    return view.password.get_secret_value() == PASSWORD


async def test_after_a_rotation_the_new_key_alone_reads_every_secret(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    db = await _stored(tmp_path / "data", old)
    try:
        rotated = rotate(tmp_path / "data", f"{new},{old}")

        assert rotated.returncode == 0, rotated.stderr
        assert "re-encrypted 2 stored secrets" in rotated.stdout
        assert await _readable_with(db, new)
        assert PASSWORD not in rotated.stdout + rotated.stderr
    finally:
        await db.dispose()


async def test_a_secret_no_key_reads_stops_the_rotation_and_changes_nothing(
    tmp_path: Path,
) -> None:
    old, new, unrelated = (Fernet.generate_key().decode() for _ in range(3))
    db = await _stored(tmp_path / "data", old)
    try:
        refused = rotate(tmp_path / "data", f"{new},{unrelated}")

        assert refused.returncode == 1
        assert "cannot be decrypted" in refused.stderr and "nothing was changed" in refused.stderr
        assert "of org 'acme'" in refused.stderr
        assert HOOK_SECRET not in refused.stderr and PASSWORD not in refused.stderr
        assert await _readable_with(db, old)  # still as it was
    finally:
        await db.dispose()


async def test_an_unusable_key_setting_is_named_without_a_traceback(tmp_path: Path) -> None:
    old = Fernet.generate_key().decode()
    db = await _stored(tmp_path / "data", old)
    try:
        refused = rotate(tmp_path / "data", f"{old},not-a-key")

        assert refused.returncode == 1
        assert "FIRELINE_SECRET_KEY is not a valid Fernet key" in refused.stderr
        assert "Traceback" not in refused.stderr and "not-a-key" not in refused.stderr
        assert await _readable_with(db, old)
    finally:
        await db.dispose()

"""People who sign in to the console: added with a role, checked by email and password.

Passwords are hashed with bcrypt and never stored or logged; a failed sign-in says only
that the email or password is wrong, and costs the same time whether the email exists."""

from __future__ import annotations

import asyncio
import secrets

import bcrypt
from sqlalchemy.exc import IntegrityError

from core.errors import ConflictError, InvalidInputError, NotFoundError
from dsl.runbook_plan import FIRELINE_ROLES
from store import users
from store.db import Database
from store.users import UserRecord

MIN_PASSWORD = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further
_EMAIL_CHARS = 320
# Checked against when the email is unknown, so both failures take as long.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt()).decode()


class UserService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, *, org_id: str, email: str, role: str, password: str | None
    ) -> tuple[UserRecord, str | None]:
        """The user, and the password generated for them when none was given."""
        email = _checked_email(email)
        if role not in FIRELINE_ROLES:
            raise InvalidInputError(f"role: must be one of {', '.join(FIRELINE_ROLES)}")
        generated = None if password else secrets.token_urlsafe(18)
        chosen = password or generated or ""
        if not MIN_PASSWORD <= len(chosen.encode()) <= MAX_PASSWORD_BYTES:
            raise InvalidInputError(
                f"password: {MIN_PASSWORD} characters to {MAX_PASSWORD_BYTES} bytes"
            )
        hashed = await asyncio.to_thread(_hash, chosen)
        try:
            async with self._db.session() as session:
                user = await users.add_user(
                    session, email=email, org_id=org_id, role=role, password_hash=hashed
                )
        except IntegrityError:
            raise ConflictError(f"email: {email} already has an account") from None
        return user, generated

    async def list(self, *, org_id: str) -> list[UserRecord]:
        async with self._db.read_session() as session:
            return await users.list_users(session, org_id)

    async def remove(self, *, org_id: str, email: str, by: str | None = None) -> None:
        """Remove a person: they cannot sign in again, and a console page they have open
        sends them to sign in. Nobody removes themselves (an org keeps its admin); `by`
        None is an operator at the command line."""
        email = email.strip().lower()
        if by is not None and email == by.strip().lower():
            raise InvalidInputError("email: you cannot remove yourself; ask another admin")
        async with self._db.session() as session:
            removed = await users.remove_user(session, org_id, email)
        if not removed:
            raise NotFoundError(f"email: {email} has no account in this org")

    async def still_holds(self, *, org_id: str, email: str, roles: frozenset[str]) -> bool:
        """Whether the account a console session was signed in with is still there, in
        that org and with that role."""
        async with self._db.read_session() as session:
            user = await users.get_user(session, email)
        return user is not None and user.org_id == org_id and roles == {user.role}

    async def authenticate(self, email: str, password: str) -> UserRecord | None:
        async with self._db.read_session() as session:
            user = await users.get_user(session, email.strip().lower()[:_EMAIL_CHARS])
        hashed = user.password_hash if user is not None else _DUMMY_HASH
        matches = await asyncio.to_thread(_matches, password, hashed)
        return user if matches and user is not None else None


def _checked_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > _EMAIL_CHARS or email.count("@") != 1 or email.startswith("@"):
        raise InvalidInputError("email: an address like oncall@example.com")
    return email


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def _matches(password: str, hashed: str) -> bool:
    encoded = password.encode()
    return len(encoded) <= MAX_PASSWORD_BYTES and bcrypt.checkpw(encoded, hashed.encode())

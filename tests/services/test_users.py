"""Console users: added with a role and a bcrypt-hashed password (or a generated one);
bad input is refused naming the field, and nothing is stored."""

from __future__ import annotations

import pytest

from core.errors import ConflictError, InvalidInputError
from services.users import UserService
from store import users
from store.db import Database

PASSWORD = "long-enough-password-1"


async def test_a_user_signs_in_with_the_right_password_only(db: Database) -> None:
    service = UserService(db)
    added, generated = await service.add(
        org_id="acme", email=" Oncall@Example.COM ", role="SRE_LEAD", password=PASSWORD
    )

    assert (added.email, added.role, generated) == ("oncall@example.com", "SRE_LEAD", None)
    assert PASSWORD not in added.password_hash
    assert await service.authenticate("ONCALL@example.com", PASSWORD) == added
    assert await service.authenticate("oncall@example.com", "wrong-password-here") is None
    assert await service.authenticate("nobody@example.com", PASSWORD) is None


async def test_without_a_password_one_is_generated_and_works(db: Database) -> None:
    service = UserService(db)
    _, generated = await service.add(org_id="acme", email="a@b.c", role="VIEWER", password=None)
    assert generated is not None and len(generated) >= 12
    assert await service.authenticate("a@b.c", generated) is not None


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"role": "GOD"}, "role"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 73}, "password"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    db: Database, fields: dict[str, str], named: str
) -> None:
    values = {"org_id": "acme", "email": "e@x.io", "role": "VIEWER", "password": PASSWORD}
    with pytest.raises(InvalidInputError, match=named):
        await UserService(db).add(**{**values, **fields})
    async with db.read_session() as session:
        assert await users.list_users(session, "acme") == []


async def test_an_email_has_one_account(db: Database) -> None:
    service = UserService(db)
    await service.add(org_id="acme", email="e@x.io", role="VIEWER", password=PASSWORD)
    with pytest.raises(ConflictError, match=r"e@x\.io"):
        await service.add(org_id="globex", email="E@x.io", role="ORG_ADMIN", password=PASSWORD)

"""Console users: added with a role and a bcrypt-hashed password (or a generated one);
bad input is refused naming the field, and nothing is stored."""

from __future__ import annotations

import pytest

from core.errors import ConflictError, InvalidInputError, NotFoundError
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


async def test_a_removed_person_cannot_sign_in_and_their_session_no_longer_holds(
    db: Database,
) -> None:
    service = UserService(db)
    await service.add(org_id="acme", email="gone@x.io", role="SRE_LEAD", password=PASSWORD)
    await service.add(org_id="acme", email="stays@x.io", role="VIEWER", password=PASSWORD)
    lead = frozenset({"SRE_LEAD"})
    assert await service.still_holds(org_id="acme", email="gone@x.io", roles=lead)

    await service.remove(org_id="acme", email=" Gone@x.io ", by="admin@x.io")

    assert await service.authenticate("gone@x.io", PASSWORD) is None
    assert not await service.still_holds(org_id="acme", email="gone@x.io", roles=lead)
    assert await service.authenticate("stays@x.io", PASSWORD) is not None


async def test_a_session_holds_only_with_its_own_org_and_role(db: Database) -> None:
    service = UserService(db)
    await service.add(org_id="acme", email="e@x.io", role="VIEWER", password=PASSWORD)
    viewer = frozenset({"VIEWER"})
    assert not await service.still_holds(org_id="globex", email="e@x.io", roles=viewer)
    assert not await service.still_holds(
        org_id="acme", email="e@x.io", roles=frozenset({"ORG_ADMIN"})
    )


@pytest.mark.parametrize(
    ("org", "email", "error", "message"),
    [
        ("acme", "admin@x.io", InvalidInputError, "cannot remove yourself"),
        ("globex", "e@x.io", NotFoundError, r"e@x\.io has no account in this org"),
        ("acme", "nobody@x.io", NotFoundError, r"nobody@x\.io has no account"),
    ],
    ids=["themselves", "another-orgs-person", "unknown"],
)
async def test_a_refused_removal_says_why_and_removes_nobody(
    db: Database, org: str, email: str, error: type[Exception], message: str
) -> None:
    service = UserService(db)
    await service.add(org_id="acme", email="admin@x.io", role="ORG_ADMIN", password=PASSWORD)
    await service.add(org_id="acme", email="e@x.io", role="VIEWER", password=PASSWORD)

    with pytest.raises(error, match=message):
        await service.remove(org_id=org, email=email, by="admin@x.io")

    async with db.read_session() as session:
        kept = [user.email for user in await users.list_users(session, "acme")]
    assert kept == ["admin@x.io", "e@x.io"]

"""Form versions: admins saving at the same moment each get their own version number."""

from __future__ import annotations

import asyncio

from services.form_schema import FormField, FormSchema
from services.forms import FormService
from store.db import Database


def form(name: str) -> FormSchema:
    return FormSchema(name=name, fields=[FormField(name="team", label="Team", type="text")])


async def test_concurrent_saves_get_distinct_versions_and_the_last_is_current(
    db: Database,
) -> None:
    service = FormService(db)
    saved = await asyncio.gather(
        *(service.save(org_id="acme", actor=f"admin-{n}", schema=form(f"v{n}")) for n in range(5))
    )
    versions = sorted(current.version.version for current, _ in saved)
    assert versions == [1, 2, 3, 4, 5]
    assert [created for _, created in saved].count(True) == 1
    newest = max(saved, key=lambda pair: pair[0].version.version)[0]
    assert (await service.current(org_id="acme")).schema.name == newest.schema.name
    assert [v.version for v in await service.history(org_id="acme")] == [5, 4, 3, 2, 1]

"""Fireline's own changes coming back through a vendor's webhook: echoes, to be ignored.

When Fireline changes a vendor's ticket (a workflow step, a session's outcome), the
vendor's webhook posts that change back. A delivery whose `changed_by` is an account
Fireline signs in to the vendor as is such an echo: applying it would only repeat what
Fireline did, and could start the same workflows again. Those accounts are the
`username` of each connection whose type is the webhook source's name (`servicenow`):
in the providers file, and in the org's own connection store.
"""

from __future__ import annotations

from pathlib import Path

from core.connections import Connections
from services.connection_rules import ConnectionKind
from services.connections import ConnectionService


class OwnAccounts:
    """Read when a delivery names an account: an edited providers file or a new connection
    applies to the next delivery, without a restart."""

    def __init__(
        self, providers_file: Path | None, connections: ConnectionService | None = None
    ) -> None:
        self._providers_file = providers_file
        self._connections = connections

    async def includes(self, org_id: str, source: str, account: str) -> bool:
        """Whether `account` is one Fireline signs in to `source` as, for `org_id` (any
        case: vendors compare user names that way)."""
        wanted = account.strip().casefold()
        if wanted in _folded(self._from_providers_file(source)):
            return True
        return wanted in _folded(await self._from_org_connections(org_id, source))

    def _from_providers_file(self, source: str) -> list[str]:
        if self._providers_file is None:
            return []
        return Connections.load(self._providers_file).usernames(source)

    async def _from_org_connections(self, org_id: str, source: str) -> list[str]:
        if self._connections is None or source not in set(ConnectionKind):
            return []
        views = await self._connections.list(org_id=org_id)
        return [view.username for view in views if view.kind == source and view.username]


def _folded(names: list[str]) -> set[str]:
    return {name.strip().casefold() for name in names}

"""The `notify` provider: store a notification for the org's live stream."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from store.notifications import add_notification
from workflows.models import ProviderCallInput


class NotifyActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="provider.notify")
    async def notify(self, call: ProviderCallInput) -> dict[str, Any]:
        params = call.params
        async with self._deps.db.session() as session:
            notification_id = await add_notification(
                session,
                org_id=call.org,
                message=str(params["message"]),
                title=params.get("title"),
                severity=params.get("severity"),
                links=[_link(link) for link in params.get("links") or []],
                incident_id=call.incident_id,
                source=call.run_id,
                dedup_key=call.idempotency_key,
            )
        return {"notification_id": notification_id}


def _link(link: Any) -> dict[str, Any]:
    if isinstance(link, str):
        return {"text": link, "url": link, "external": True}
    url = str(link.get("url", ""))
    return {
        "text": str(link.get("text") or url),
        "url": url,
        "external": bool(link.get("external", url.startswith("http"))),
    }

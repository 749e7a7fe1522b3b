"""The org's settings in the console: execution mode and threshold, triage (close
threshold, pause, per-severity start thresholds, caps, cooldown, match weights, LLM), and
the incident list's enrichment columns. Anyone sees them;
an ORG_ADMIN changes them, and a value the services refuse is shown, with nothing saved."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.dependencies import OrgSettingsServiceDep, TriageSettingsServiceDep
from console.pages import ADMINS, Person, render
from console.session import CSRF_FIELD, check_csrf, checked_form
from core.errors import FieldErrors, InvalidInputError, describe_validation_error
from services.org_settings import ExecutionMode
from services.triage_settings import TriageSettings

router = APIRouter(include_in_schema=False)
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
WEIGHTS = ("criteria", "text", "success", "recency")


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    me: Person,
    org_settings: OrgSettingsServiceDep,
    triage_settings: TriageSettingsServiceDep,
) -> Response:
    return await _page(request, me, org_settings, triage_settings)


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    me: Person,
    org_settings: OrgSettingsServiceDep,
    triage_settings: TriageSettingsServiceDep,
) -> Response:
    posted = await checked_form(request)
    if not me.has_any_role(ADMINS):
        return render(request, "not_found.html", 404)
    try:
        current = await triage_settings.get(org_id=me.org)
        triage = TriageSettings.model_validate(_triage_values(posted, current))
        threshold = float(posted.get("auto_threshold", ""))
        await org_settings.set_execution_mode(
            org_id=me.org, mode=ExecutionMode(posted.get("mode", "")), auto_threshold=threshold
        )
        await triage_settings.put(org_id=me.org, settings=triage)
    except ValidationError as refused:
        error = describe_validation_error(refused)
        return await _page(request, me, org_settings, triage_settings, error=error)
    except (ValueError, InvalidInputError) as refused:
        return await _page(request, me, org_settings, triage_settings, error=str(refused))
    return RedirectResponse("/settings", status_code=303)


def _triage_values(posted: dict[str, str], current: TriageSettings) -> dict[str, Any]:
    """The posted triage fields over the current settings (maintenance windows are kept:
    the API edits them). A severity's threshold: blank for the org's, `never` for none."""
    thresholds: dict[str, str | None] = {}
    for severity in SEVERITIES:
        raw = posted.get(f"threshold_{severity}", "").strip()
        if raw:
            thresholds[severity] = None if raw.lower() == "never" else raw
    weights = {name: posted.get(f"weight_{name}", "") for name in WEIGHTS}
    return current.model_dump() | {
        "close_threshold": posted.get("close_threshold", ""),
        "paused": "paused" in posted,
        "severity_thresholds": thresholds,
        "max_auto_sessions": posted.get("max_auto_sessions", ""),
        "max_auto_sessions_per_service": posted.get("max_auto_sessions_per_service", ""),
        "cooldown_minutes": posted.get("cooldown_minutes", ""),
        "weights": weights,
        "llm_connection": posted.get("llm_connection", "").strip() or None,
    }


@router.post("/settings/list-columns", response_class=HTMLResponse)
async def save_list_columns(
    request: Request,
    me: Person,
    org_settings: OrgSettingsServiceDep,
    triage_settings: TriageSettingsServiceDep,
    columns: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if not me.has_any_role(ADMINS):
        return render(request, "not_found.html", 404)
    keys = [key.strip() for key in columns.split(",") if key.strip()]
    try:
        await org_settings.set_list_columns(org_id=me.org, columns=keys)
    except FieldErrors as refused:
        error = "; ".join(message for _, message in refused.problems)
        return await _page(request, me, org_settings, triage_settings, error=error)
    return RedirectResponse("/settings", status_code=303)


async def _page(
    request: Request,
    me: Person,
    org_settings: OrgSettingsServiceDep,
    triage_settings: TriageSettingsServiceDep,
    error: str | None = None,
) -> Response:
    execution = await org_settings.get_execution_mode(org_id=me.org)
    triage = await triage_settings.get(org_id=me.org)
    return render(
        request,
        "settings.html",
        200 if error is None else 422,
        execution=execution,
        triage=triage,
        list_columns=await org_settings.list_columns(org_id=me.org),
        severities=SEVERITIES,
        weights=WEIGHTS,
        error=error,
        can_change=me.has_any_role(ADMINS),
    )

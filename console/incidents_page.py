"""The incidents page: the org's incidents with its enrichment columns, filtered, sorted
and paged from the URL, refreshed live; and the create-incident dialog with the org's form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal
from api.dependencies import FormServiceDep, IncidentServiceDep, OrgSettingsServiceDep
from console.incident_form import enrichment_values, field_errors
from console.incident_list import (
    BADGE_COLUMNS,
    PAGE_SIZES,
    SEVERITIES,
    SORTS,
    STATUSES,
    ListView,
    column_heading,
)
from console.pages import WRITERS, Person, render
from console.session import checked_form
from core.errors import FieldErrors, InvalidInputError, NotFoundError
from services.incidents import IncidentService
from services.org_settings import OrgSettingsService
from store.enums import Severity
from store.records import IncidentPage

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def incidents_page(
    request: Request, me: Person, incidents: IncidentServiceDep, settings: OrgSettingsServiceDep
) -> Response:
    view, problems = ListView.of(request.query_params)
    if not problems and request.url.query != view.query():
        # The filter form sends every field, empty or not: keep the address short to share.
        return RedirectResponse(f"/?{view.query()}" if view.query() else "/", status_code=303)
    return await _list(request, me, incidents, settings, "incidents.html", view, problems)


@router.get("/fragments/incidents", response_class=HTMLResponse)
async def incidents_rows(
    request: Request, me: Person, incidents: IncidentServiceDep, settings: OrgSettingsServiceDep
) -> Response:
    view, problems = ListView.of(request.query_params)
    return await _list(request, me, incidents, settings, "_incident_rows.html", view, problems)


@router.get("/fragments/create-incident", response_class=HTMLResponse)
async def create_incident_form(request: Request, me: Person, forms: FormServiceDep) -> Response:
    return render(request, "_create_incident.html", fields=await _form_fields(forms, me), values={})


@router.post("/incidents", response_class=HTMLResponse)
async def create_incident(
    request: Request, me: Person, incidents: IncidentServiceDep, forms: FormServiceDep
) -> Response:
    posted = await checked_form(request)
    fields = await _form_fields(forms, me)
    if not me.has_any_role(WRITERS):
        errors = {"title": "your role may not create incidents"}
    else:
        errors = await _created_or_errors(incidents, me, fields, posted)
    if errors:
        return render(request, "_create_incident.html", fields=fields, values=posted, errors=errors)
    return Response(status_code=204, headers={"HX-Trigger": "incident-created"})


async def _list(
    request: Request,
    me: Principal,
    incidents: IncidentService,
    settings: OrgSettingsService,
    template: str,
    view: ListView,
    problems: list[str],
) -> Response:
    try:
        page = await _page(incidents, me, view, view.cursor)
    except InvalidInputError as refused:  # a cursor from another view or a mangled one
        problems.append(str(refused))
        page = await _page(incidents, me, view, "")
    columns = await settings.list_columns(org_id=me.org)
    return render(
        request,
        template,
        incidents=page.items,
        next_cursor=page.next_cursor,
        view=view,
        problems=problems,
        columns=[(key, column_heading(key), key in BADGE_COLUMNS) for key in columns],
        statuses=STATUSES,
        severities=SEVERITIES,
        sorts=SORTS,
        page_sizes=PAGE_SIZES,
    )


async def _page(
    incidents: IncidentService, me: Principal, view: ListView, cursor: str
) -> IncidentPage:
    return await incidents.list(
        org_id=me.org,
        filters=view.filters(),
        limit=int(view.per_page),
        cursor=cursor or None,
        sort=view.sort,
    )


async def _form_fields(forms: Any, me: Principal) -> list[Any]:
    try:
        return list((await forms.current(org_id=me.org)).schema.fields)
    except NotFoundError:  # the org has no form: the standard fields only
        return []


async def _created_or_errors(
    incidents: Any, me: Principal, fields: list[Any], posted: dict[str, str]
) -> dict[str, str]:
    if not posted.get("title", "").strip():
        return {"title": "a title is required"}
    try:
        await incidents.create(
            org_id=me.org,
            actor=me.sub,
            title=posted["title"].strip()[:500],
            severity=Severity(posted.get("severity") or "SEV3"),
            service=posted.get("service") or None,
            description=posted.get("description") or None,
            enrichments=enrichment_values(fields, posted) or None,
        )
    except FieldErrors as problems:
        return field_errors(problems.problems)
    except (InvalidInputError, ValueError) as problem:
        return {"title": str(problem)}
    return {}

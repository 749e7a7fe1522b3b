"""The console's pages: sign in and out, incidents (live), one incident with its triage.

Like the API's routes, each parses, calls a service, renders. A page for something the
signed-in person may not see is the same 404 page as for something that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.auth import Principal, Role
from api.dependencies import (
    ApprovalServiceDep,
    TicketServiceDep,
)
from api.errors import validation_handler
from console.session import (
    CSRF_FIELD,
    check_csrf,
    check_same_origin,
    csrf_token,
    end_session,
    signed_in,
    start_session,
    state_of,
)
from core.errors import ConflictError, ForbiddenError, NotFoundError
from core.ids import utcnow
from services.users import UserService
from store.enums import IncidentStatus
from store.records import IncidentFilters

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
ADMINS = (Role.ORG_ADMIN,)
WRITERS = (Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER, Role.ANALYST)
STATUS_CHANGERS = (Role.ORG_ADMIN, Role.SRE_LEAD, Role.ONCALL_ENGINEER)  # as the API's
PAGE_SIZE = 50
API_PREFIX = "/v1/"  # the API answers its own refusals, in JSON

router = APIRouter(include_in_schema=False)


def web_url(url: object) -> str:
    """`url` when it is a web address or a path of this console, else "#": a link from
    an incident's data must not run script (`javascript:`) when someone clicks it."""
    if isinstance(url, str) and url.startswith(("https://", "http://", "/")):
        return "#" if url.startswith("//") else url
    return "#"


TEMPLATES.env.filters["web_url"] = web_url


class SignInNeeded(Exception):
    """The page needs a signed-in person: go to /login."""


async def person(request: Request) -> Principal:
    """The signed-in person, while their account lasts: a person removed (or given another
    role) is sent to sign in again, whatever their cookie still says."""
    principal = signed_in(request)
    if principal is None:
        raise SignInNeeded
    users = UserService(state_of(request).db)
    if not await users.still_holds(
        org_id=principal.org, email=principal.sub, roles=principal.roles
    ):
        raise SignInNeeded
    return principal


Person = Annotated[Principal, Depends(person)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    principal = signed_in(request)
    context |= {"me": principal, "csrf": csrf_token(request) if principal else ""}
    context["can_write"] = principal is not None and principal.has_any_role(WRITERS)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


@router.get("/login")
async def login_page(request: Request) -> Response:
    if signed_in(request) is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html")


@router.post("/login")
async def login(
    request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    check_same_origin(request)
    user = await UserService(state_of(request).db).authenticate(email, password)
    if user is None:
        return render(request, "login.html", 401, error="Wrong email or password.", email=email)
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, org=user.org_id, role=user.role, email=user.email)
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response


@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(
    request: Request,
    me: Person,
    tickets: TicketServiceDep,
    q: str = "",
    classification: str = "",
) -> Response:
    """The documents' Tickets tab: cards with classification and session status."""
    known = ("false_positive", "true_positive", "uncertain")
    chosen = (classification,) if classification in known else ()
    filters = IncidentFilters(text=q or None, classifications=chosen)
    page = await tickets.list(
        org_id=me.org, filters=filters, limit=PAGE_SIZE, cursor=None, sort="-created_at"
    )
    return render(
        request,
        "tickets.html",
        tickets=page.items,
        q=q,
        classification=classification,
        statuses=[s.value for s in IncidentStatus],
        can_change_status=me.has_any_role(STATUS_CHANGERS),
    )


@router.get("/approvals", response_class=HTMLResponse)
async def approvals_page(request: Request, me: Person, approvals: ApprovalServiceDep) -> Response:
    """The agent dashboard: the steps waiting for a decision, oldest first."""
    pending = await approvals.pending(me.org, me)
    return render(request, "approvals.html", pending=pending, now=utcnow())


@router.get("/fragments/approvals-count", response_class=HTMLResponse)
async def approvals_count(request: Request, me: Person, approvals: ApprovalServiceDep) -> Response:
    waiting = [p for p in await approvals.pending(me.org, me) if p.can_decide]
    return render(request, "_approvals_count.html", count=len(waiting))


@router.post("/approvals/{session_id}/{step}")
async def decide_step(
    request: Request,
    session_id: str,
    step: str,
    me: Person,
    approvals: ApprovalServiceDep,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        await approvals.decide(me.org, session_id, step, decision == "approve", me, note or None)
    except (NotFoundError, ForbiddenError, ConflictError) as refused:
        pending = await approvals.pending(me.org, me)
        return render(
            request, "approvals.html", 409, pending=pending, now=utcnow(), error=str(refused)
        )
    return RedirectResponse("/approvals", status_code=303)


def sign_in_redirect(request: Request, exc: Exception) -> Response:
    """To the sign-in page, dropping the cookie: one that got here no longer signs in."""
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response


async def invalid_request(request: Request, exc: Exception) -> Response:
    """A console form the browser would not have sent (a value over its limit, a field
    missing): the refused page naming the fields. The API keeps its JSON answer."""
    if request.url.path.startswith(API_PREFIX):
        return await validation_handler(request, exc)
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in exc.errors())
    return render(request, "refused.html", 422, reason=f"The form was refused: {problems}")


def _field(location: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in location[1:]) or str(location[0])


def csrf_refused(request: Request, exc: Exception) -> Response:
    return render(request, "refused.html", 403, reason=str(exc))

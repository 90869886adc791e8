"""The support page's routes: search, a customer's story, an incident's customers and their CSV.

Every page is a GET on a read-only warehouse connection opened for that request (so a run or an
approval is never held up for long); any other method is refused (405). Every value is escaped by
the templates' autoescape, so a customer named `<script>` or `=HYPERLINK(...)` reads as text (a
control or format character as `?`); the CSV download is the spreadsheet-safe CSV of `credits
customers --format csv`. With a token, every request must carry it: `Authorization: Bearer
TOKEN`, or `?token=TOKEN` once (then a cookie).
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from transforms.errors import ConfigError, CreditsError, InputError
from transforms.pages import visible
from transforms.serving import answers, filters, names, pasted, support, views

TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "support_token"
PAGE_SIZE = 200  # customer lines per page of an incident's list (the CSV has them all)
# The page when nothing answers: its heading, what to do, its HTTP status.
NOT_FOUND = (
    "Not affected, or not found",
    "Check the id (ids are case-sensitive), or search by e-mail address, payment id or name.",
    404,
)
NOT_A_FILTER = (
    "Not a filter of this list",
    "Pick a segment and a status this incident's list has, or show all of it.",
    400,
)
NO_ANSWER_YET = (
    "No answer yet for this incident",
    "Nobody can say yet who gets what: finance runs it again once its input is fixed.",
    404,
)
# No script, no frame, nothing from elsewhere: the pages are text, a form and links.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Unreadable(CreditsError):
    """The warehouse could not be opened for a request (moved, busy, not a warehouse): every
    page says so (503), never "not found", which support would read as "not affected"."""


class _AnyId(PathConvertor):
    """A customer id in a path, whatever it holds: `path`'s pattern (`.*`) stops at a line feed,
    and an id from a hostile table may hold one (its page was a bare 404)."""

    regex = r"[\s\S]*"


register_url_convertor("id", _AnyId())


def create(warehouse: Path, token: str | None = None) -> Starlette:
    """The app over `warehouse` (read-only); with `token`, every request must carry it."""
    templates = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            finalize=_shown,
        )
    )
    templates.env.filters["money"] = views.amount
    templates.env.filters["when"] = answers.time_shown
    templates.env.filters["url"] = lambda value: quote(str(value), safe="")

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
        response.headers.update(HEADERS)
        return response

    def missing(request: Request, query: str, error: CreditsError) -> Response:
        """The page for a search, an id or a list that finds no answer, headed by why."""
        if isinstance(error, ConfigError):  # a filter of an incident's list
            heading, advice, status = NOT_A_FILTER
        elif isinstance(error, support.NoAnswerYet):
            heading, advice, status = NO_ANSWER_YET
        else:
            heading, advice, status = NOT_FOUND
        message = str(error).removeprefix("--")
        return page(
            request,
            "not_found.html",
            status,
            query=query,
            message=message,
            heading=heading,
            advice=advice,
        )

    def read(action):
        try:
            con = support.connect(warehouse)
        except CreditsError as error:  # gone, busy, not a warehouse: no answer about anyone
            raise Unreadable(str(error)) from error
        with con:
            return action(con)

    def home(request: Request) -> Response:
        query = request.query_params.get("q", "")  # trimmed by the search, unless a known id
        if not query.strip():
            runs, waiting = read(lambda con: (support.answering_runs(con), support.unanswered(con)))
            return page(request, "home.html", runs=runs, unanswered=waiting)
        try:
            found = read(lambda con: support.search(con, query))
        except pasted.SharedEmail as shared:  # a business's billing address: pick one
            return page(request, "several.html", shared=shared, query=query)
        except names.SeveralNamed as named:  # a name several customers have: pick one
            return page(request, "named.html", named=named, near=False, query=query)
        except names.NearlyNamed as near:  # a name one typo off some customers': pick one
            return page(request, "named.html", 404, named=near, near=True, query=query)
        except support.IncidentGiven as given:  # an incident's id: its list of customers
            return RedirectResponse(f"/incidents/{quote(given.incident_id, safe='')}", 303)
        except InputError as error:
            return missing(request, query, error)
        return page(request, "customer.html", found=found, views=views, query=query)

    def customer(request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        if not customer_id.strip():  # `/customers/`: the search box is where one starts
            return RedirectResponse("/", 303)
        try:
            found = read(lambda con: support.lookup(con, customer_id))
        except InputError as error:
            return missing(request, customer_id, error)
        return page(request, "customer.html", found=found, views=views, query=customer_id)

    def incident(request: Request) -> Response:
        incident_id = request.path_params["incident_id"]
        segment, status = _filters(request)
        wanted = _int(request.query_params.get("page"), 1)
        try:
            found = read(
                lambda con: support.customers(
                    con,
                    incident_id,
                    segment=segment,
                    status=status,
                    page=wanted,
                    page_size=PAGE_SIZE,
                )
            )
        except (InputError, ConfigError) as error:
            return missing(request, incident_id, error)
        pages = max(1, -(-found.total // PAGE_SIZE))
        filters = {k: v for k, v in (("segment", segment), ("status", status)) if v}
        return page(
            request,
            "incident.html",
            found=found,
            rows=found.rows,
            first=found.first,
            number=found.first // PAGE_SIZE + 1,
            pages=pages,
            filters=urlencode(filters),
            views=views,
            segment=segment or "",
            status=status,
            statuses=list(answers.CreditStatus),
        )

    def incident_csv(request: Request) -> Response:
        incident_id = request.path_params["incident_id"]
        segment, status = _filters(request)  # as its page reads them
        try:
            found = read(
                lambda con: support.customers(con, incident_id, segment=segment, status=status)
            )
        except (InputError, ConfigError) as error:
            whole = f"{incident_id}.csv"  # an incident whose id ends in .csv: its page is here
            if whole in read(support.answering_runs):
                request.scope["path_params"] = {"incident_id": whole}
                return incident(request)
            # a filter the list does not have is a bad request, as on its page (400)
            code = NOT_A_FILTER[2] if isinstance(error, ConfigError) else NOT_FOUND[2]
            message = str(error).removeprefix("--")
            return PlainTextResponse(message + "\n", code, headers=HEADERS)
        filename = quote(f"{incident_id}-customers.csv", safe="")
        return Response(
            views.customers_csv(found.rows),
            media_type="text/csv; charset=utf-8",
            headers={**HEADERS, "Content-Disposition": f"attachment; filename={filename}"},
        )

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/customers/{customer_id:id}", customer, methods=["GET"]),
        Route("/incidents/{incident_id}.csv", incident_csv, methods=["GET"]),
        Route("/incidents/{incident_id}", incident, methods=["GET"]),
    ]
    middleware = [Middleware(BaseHTTPMiddleware, dispatch=_Guard(token))]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={})
    app.state.warehouse = warehouse
    return app


def _shown(value: Any) -> Any:
    """A value as a page shows it: text with its control and format characters as `?` (a NUL
    or an escape typed into the search box, or held by a hostile table's name, is not sent on);
    markup the templates made, and every other value, as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value)
    return value


def _filters(request: Request) -> tuple[str | None, str]:
    """The list's segment and status boxes, read as `credits customers` reads its options."""
    params = request.query_params
    return filters.list_filters(params.get("segment"), params.get("status"))


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


class _Guard:
    """Checks the token on every request (when there is one) and turns our errors into pages."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    async def __call__(self, request: Request, call_next) -> Response:
        if self.token is not None:
            given = _given_token(request)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return PlainTextResponse(
                    "a token is required: open the page with ?token=... (as given by whoever "
                    "started `credits serve-support`)\n",
                    401,
                    headers={**HEADERS, "WWW-Authenticate": "Bearer"},
                )
        try:
            response = await call_next(request)
        except CreditsError as error:  # a busy or missing warehouse: say so, no traceback
            return PlainTextResponse(f"{error}\n", 503, headers=HEADERS)
        if self.token is not None and request.query_params.get("token"):
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        return response


def _given_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token") or request.cookies.get(COOKIE)

"""RFC 9457 problem responses for every error a service returns: clear 4xx, never a stack trace."""

from http import HTTPStatus
from typing import Any

import structlog
from asyncpg.exceptions import DataError as _DataError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from throughline_platform.context import request_id_var
from throughline_platform.responses import OrjsonResponse

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Raise from a service to answer with a problem document."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, status: int | None = None, title: str | None = None,
                 type_slug: str | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        if type_slug is not None:
            self.type_slug = type_slug
        self.extensions = extensions


class NotFound(ProblemError):
    status, type_slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, type_slug, title = 409, "conflict", "Conflict"


class Unprocessable(ProblemError):
    status, type_slug, title = 422, "validation-error", "Invalid request"


class Forbidden(ProblemError):
    status, type_slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(ProblemError):
    status, type_slug, title = 401, "unauthorized", "Not authenticated"


class PayloadTooLarge(StarletteHTTPException):
    """The request body is over the size limit (raised while it is being read, see `hardening.BodyLimitMiddleware`).

    An HTTPException rather than a ProblemError: FastAPI turns any other exception raised while it parses a body
    into a 400 "error parsing the body", and re-raises only HTTPExceptions."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")
        self.limit = limit


def problem_response(status: int, title: str, detail: str, type_slug: str | None = None,
                     headers: dict[str, str] | None = None, **extensions: Any) -> OrjsonResponse:
    body: dict[str, Any] = {
        "type": f"https://throughline.dev/problems/{type_slug or _slug(status)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    return OrjsonResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error as a problem document. Call it before adding other middleware: the catch-all below must sit
    inside them (so that they see its 500 and the request id is still bound)."""
    app.add_middleware(AnswerErrorsMiddleware)

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> OrjsonResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:  # a 429 or 503 that knows when to come back
            headers = {**(headers or {}), "Retry-After": str(retry_after)}
        return problem_response(exc.status, exc.title, exc.detail, exc.type_slug, headers=headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> OrjsonResponse:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(422, "Invalid request", detail, "validation-error", errors=errors)

    @app.exception_handler(PayloadTooLarge)
    async def _too_large(_: Request, exc: PayloadTooLarge) -> OrjsonResponse:
        return problem_response(413, "Payload too large", str(exc.detail), "payload-too-large")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> OrjsonResponse:
        phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        return problem_response(exc.status_code, phrase, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.DBAPIError)
    async def _database(_: Request, exc: sa_exc.DBAPIError) -> OrjsonResponse:
        # Input the database itself refuses (a NUL byte in text, a number out of range, an invalid date)
        # is the client's to fix; anything else from the database is our fault.
        if isinstance(exc.orig, _DataError) or isinstance(getattr(exc.orig, "__cause__", None), _DataError):
            log.info("input_refused_by_database", error=str(exc.orig)[:300])
            return problem_response(422, "Invalid request", "A value could not be stored: "
                                    f"{_first_line(exc.orig)}", "validation-error")
        log.exception("database_error", error=repr(exc))
        return internal_error()

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> OrjsonResponse:
        # Only for an exception raised by a middleware outside AnswerErrorsMiddleware (rare): Starlette answers it
        # from its outermost layer and then re-raises, so the server closes that connection.
        log.exception("unhandled_error", error=repr(exc))
        return internal_error()


def internal_error() -> OrjsonResponse:
    return problem_response(500, "Internal error", "The server failed to handle this request.")


class AnswerErrorsMiddleware:
    """Answers an exception that no handler took with a 500 problem, and keeps the connection open.

    Starlette's own last resort (ServerErrorMiddleware, where an `Exception` handler ends up) answers and then
    re-raises, so that the server can log it; uvicorn then closes the connection, because for all it knows the
    answer is broken. A client with a pool of kept-alive connections (the gateway) would send its next request,
    perhaps an unrelated POST, on a connection that is being closed, and that request fails. Here the exception is
    logged and answered, and the server sees a normal, complete response. Only when the response had already
    started (a stream that broke half-way) is the exception passed on: then closing is the only honest answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception as exc:
            if started:
                raise
            # Logged in full for operators; the client sees only the request id to quote.
            log.exception("unhandled_error", error=repr(exc))
            await internal_error()(scope, receive, send)


def _first_line(error: BaseException | None) -> str:
    cause = getattr(error, "__cause__", None) or error
    return str(cause).splitlines()[0][:200] if cause is not None else "invalid value"


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-")
    except ValueError:
        return "error"

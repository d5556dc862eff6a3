"""Everything the HTTP API refuses, in its one error shape.

``{"error": {"message", "type", "code"}}`` with the status that fits: 400 for a body that is not
UTF-8 (with the offset of the first bad byte), 401 without a valid key, 403 for another key's
run, 404, 409, 413 for a body over the size limit, 422 with the field and what is wrong
(malformed JSON: the line and column), 429 with ``Retry-After`` when the key's pool is spent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentthink.service.http_common import error_response
from agentthink.service.service import RequestError
from agentthink.service.settings import ServiceSettings

__all__ = ["add_error_handling"]


def add_error_handling(app: FastAPI, settings: ServiceSettings) -> None:
    """The body-size limit, and every refusal turned into the one error shape."""
    limit = settings.max_request_bytes

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return error_response(
                413, f"request body is {length} bytes; the limit is {limit}", "too_large"
            )
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return error_response(
                        413, f"request body is over the limit of {limit} bytes", "too_large"
                    )
            request._body = body
        return await call_next(request)

    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            return error_response(400, not_utf8(exc.__cause__), "invalid_request_error")
        kind = "not_found" if exc.status_code == 404 else "invalid_request_error"
        return error_response(
            exc.status_code, f"{exc.detail}: {request.method} {request.url.path}", kind
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [problem(err, exc.body) for err in exc.errors()]
        return error_response(
            422, "invalid request: " + "; ".join(problems), "invalid_request_error"
        )


def not_utf8(exc: UnicodeDecodeError) -> str:
    """What is wrong with a body that is not UTF-8, and where."""
    byte = exc.object[exc.start : exc.start + 1].hex()
    return (
        f"the request body is not valid UTF-8 (byte 0x{byte} at offset {exc.start}: "
        f"{exc.reason}); send JSON encoded as UTF-8"
    )


def problem(err: Any, body: Any) -> str:
    """One validation error as ``field: what is wrong`` (malformed JSON: its line and column)."""
    if err.get("type") == "json_invalid" and isinstance(body, str):
        position = int(err["loc"][-1])
        line = body.count("\n", 0, position) + 1
        column = position - body.rfind("\n", 0, position)
        why = (err.get("ctx") or {}).get("error") or "not JSON"
        return f"body is not valid JSON: {why} at line {line}, column {column}"
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    return f"{where}: {err.get('msg')}"

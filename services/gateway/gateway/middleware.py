"""Pure ASGI middleware: headers decided during the request (rate limits) added to whatever response leaves;
input hygiene (NUL characters, body size) before any route runs."""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from throughline_platform.problems import problem_response


class StateHeadersMiddleware:
    """Adds `request.state.response_headers` (set by the caller check) to the response, problems included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get("response_headers")
                if extra:
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    message["headers"] = [
                        *message.get("headers", []),
                        *((k.lower().encode(), v.encode()) for k, v in extra.items()
                          if k.lower().encode() not in present),
                    ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# A JSON string escape for U+0000 that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")
_CHECKED_TYPES = (b"application/json", b"application/x-www-form-urlencoded", b"application/merge-patch+json")


class InputHygieneMiddleware:
    """Refuses NUL characters in the query, path and JSON or form bodies with a 422 problem (PostgreSQL cannot
    store them, so every service would fail on them), and bodies over the size limit with 413."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await _refuse_nul(scope, receive, send, "the URL")
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if scope["method"] not in ("POST", "PUT", "PATCH") or content_type not in _CHECKED_TYPES:
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await _too_large(scope, receive, send, self.max_body)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _too_large(scope, receive, send, self.max_body)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        nul = b"\x00" in body or (b"%00" in body if content_type.endswith(b"urlencoded") else
                                  _JSON_NUL.search(body) is not None)
        if nul:
            await _refuse_nul(scope, receive, send, "the request body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse_nul(scope: Scope, receive: Receive, send: Send, where: str) -> None:
    response = problem_response(422, "Invalid request", f"NUL characters (U+0000) are not accepted in {where}.",
                                "nul-character")
    await response(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem_response(413, "Payload too large", f"The request body is larger than {limit} bytes.",
                                "payload-too-large")
    await response(scope, receive, send)

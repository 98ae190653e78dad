"""Security headers on every answer, pages and API alike.

The pages render text that callers wrote (cluster names, reasons, rationales); Jinja escapes it, and
the Content-Security-Policy is the second wall: no inline script, nothing from elsewhere, no framing
(clickjacking the secretariat's buttons), no MIME sniffing of a JSON answer into HTML, and no
Referer that would carry a verification code or a one-time password link to another site.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from clusterlabel.interfaces.web.http_middleware import HttpMiddleware

# Pages: our own stylesheet and script only; forms post only to us.
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# FastAPI's /docs and /redoc load their bundles from a CDN and start them with an inline script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


def security_headers(path: str) -> dict[str, str]:
    """The headers every answer to `path` carries."""
    return {
        "Content-Security-Policy": DOCS_CSP if path.startswith(DOCS_PATHS) else STRICT_CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


class SecurityHeaders(HttpMiddleware):
    """ASGI middleware: add security_headers() to every HTTP answer that does not set its own."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = security_headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""HTML to PDF. WeasyPrint lays out HTML and inline SVG with Pango (already on the machine image), so a
document is written once as a template and served both as a page and as a PDF.

Documents are laid out in renderer processes of their own (`python -m clusterlabel.activities.documents.pdf`,
each started at its first document, one document at a time, over its stdin and stdout): WeasyPrint holds the
interpreter lock through a layout (0.2 to 0.4 s of CPU a report), and in the API's process that starved every
request meanwhile. Measured with `clusterlabel bench --soak 3` (2 cores, PostgreSQL): with each decision's
report frozen in the API's process, 64 to 72 lifecycles a minute; with no report at all, 181 to 226.
"""

from __future__ import annotations

import os
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import IO, Any

# One per API process: documents take their turn (about three a second) rather than the cores and memory
# the steps need; more API processes render more at once. (A container's core count is its host's, not its limit.)
RENDERERS = 1
RENDER_TIMEOUT_SECONDS = 60.0  # a report takes well under a second; one that takes a minute never will
_LENGTH = struct.Struct(">Q")
_DONE, _FAILED = b"+", b"-"


class RenderFailed(Exception):
    """The renderer could not lay the document out (its error, as text), or died twice on it."""


@cache
def _weasyprint() -> Any:
    """WeasyPrint, imported on the first document: it takes most of a second to load its fonts and Pango,
    which every process (worker, view processes, CLI commands) would otherwise pay at start-up."""
    import weasyprint

    return weasyprint


# Font configurations made once and lent to one document at a time: WeasyPrint 70 never frees the fontconfig
# configuration a document makes for itself when given none (about 220 KB a document, which grew the API by
# megabytes a minute under load). Kept for the life of the process, not of a thread, since a server's
# thread pools end idle threads and start new ones; the pool holds as many as were ever in use at once.
_font_configs: queue.SimpleQueue[Any] = queue.SimpleQueue()


@contextmanager
def _font_config() -> Iterator[Any]:
    try:
        config = _font_configs.get_nowait()
    except queue.Empty:
        from weasyprint.text.fonts import FontConfiguration

        config = FontConfiguration()
    try:
        yield config
    finally:
        _font_configs.put(config)


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (styles and images inline: nothing is fetched), laid out
    by the first renderer process free."""
    renderer = _idle.get()
    try:
        return renderer.render(html)
    finally:
        _idle.put(renderer)


class Renderer:
    """One renderer process, started at its first document and again after it died (killed, out of memory)
    or was stopped for taking over RENDER_TIMEOUT_SECONDS."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    def render(self, html: str) -> bytes:
        payload = html.encode()
        for attempt in (1, 2):
            try:
                answer = self._exchange(payload)
            except (OSError, EOFError):
                if attempt == 2:
                    raise RenderFailed(
                        f"the document renderer died twice on this document, or took over {RENDER_TIMEOUT_SECONDS:g} s"
                    ) from None
                continue
            if answer[:1] == _FAILED:
                raise RenderFailed(answer[1:].decode())
            return answer[1:]
        raise AssertionError("unreachable")

    def _exchange(self, payload: bytes) -> bytes:
        """A document sent, its answer read. A renderer cut off on the way (dead, too slow, interrupted) is
        stopped, so that no later document reads this one's answer."""
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        watchdog = threading.Timer(RENDER_TIMEOUT_SECONDS, process.kill)
        watchdog.start()
        try:
            _send(process.stdin, payload)
            return _receive(process.stdout)
        except BaseException:
            self._process = None
            process.kill()
            process.wait()
            raise
        finally:
            watchdog.cancel()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            command = [sys.executable, "-m", "clusterlabel.activities.documents.pdf"]
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return self._process


_idle: queue.SimpleQueue[Renderer] = queue.SimpleQueue()
for _ in range(RENDERERS):
    _idle.put(Renderer())


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (length,) = _LENGTH.unpack(head)
    payload = stream.read(length)
    if len(payload) < length:
        raise EOFError
    return payload


def serve() -> None:
    """A renderer's life: a document in, its PDF (or its error) out, until the API's end of the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the API's to handle: its pipe closing ends this
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Nothing but answers goes down the answers' pipe: whatever else writes to stdout, a C library's
    # warning included, goes to stderr.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    while True:
        try:
            html = _receive(requests).decode()
        except EOFError:
            return
        try:
            answer = _DONE + render_here(html)
        except Exception as error:  # the document's fault, told to the caller; the renderer carries on
            answer = _FAILED + f"{type(error).__name__}: {error}".encode()
        _send(answers, answer)


def render_here(html: str) -> bytes:
    """A document laid out in this process (a renderer's work)."""
    weasyprint = _weasyprint()
    # Only what the document carries itself (data: URLs): a document that names an outside address must
    # not make the server fetch it (a request forgery, or a document that changes with someone else's server).
    inline_only = weasyprint.URLFetcher(allowed_protocols={"data"})
    with _font_config() as fonts:
        pdf: bytes = weasyprint.HTML(string=html, url_fetcher=inline_only).write_pdf(font_config=fonts)
    return pdf


if __name__ == "__main__":
    serve()

"""HTML to PDF. WeasyPrint lays out HTML and inline SVG with Pango (already on the machine image), so a
document is written once as a template and served both as a page and as a PDF.

Documents are laid out in a renderer process of their own (`python -P -m clusterlabel.activities.documents.pdf`,
started at the first document, one document at a time, over its stdin and stdout): WeasyPrint holds the
interpreter lock through a layout (0.2 to 0.4 s of CPU a report), and in the API's process that starved every
request meanwhile. Measured with `clusterlabel bench --soak 3` (2 cores, PostgreSQL): with each decision's
report frozen in the API's process, 64 to 72 lifecycles a minute; with no report at all, 181 to 226.
"""

from __future__ import annotations

import logging
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

# One renderer per API process: documents take their turn (about three a second) rather than the cores and
# memory the steps need; more API processes render more at once.
RENDER_TIMEOUT_SECONDS = 60.0  # a report takes well under a second; one that takes a minute never will
# How long a document waits for the renderer before the request is answered 503 (try again): a request
# thread is not held for ever behind a queue of documents.
RENDERER_WAIT_SECONDS = 30.0
_LENGTH = struct.Struct(">Q")
_DONE, _FAILED = b"+", b"-"


class RenderFailed(Exception):
    """The renderer could not lay the document out (its error, as text), took too long, or died twice on it."""


class RendererBusy(Exception):
    """The renderer stayed busy for RENDERER_WAIT_SECONDS: nothing is wrong with the document; send it again."""


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
    by the renderer process once it is free."""
    if not _renderer_turn.acquire(timeout=RENDERER_WAIT_SECONDS):
        raise RendererBusy(f"the document renderer was busy for {RENDERER_WAIT_SECONDS:g} s; try again shortly")
    try:
        return _renderer.render(html)
    finally:
        _renderer_turn.release()


class Renderer:
    """One renderer process, started at its first document and again after it died (killed, out of memory)
    or was stopped for taking over RENDER_TIMEOUT_SECONDS."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    def render(self, html: str) -> bytes:
        """The document's PDF; a renderer that died on it (not one stopped for its slowness) gets one more try."""
        payload = html.encode()
        for attempt in (1, 2):
            too_slow = threading.Event()
            try:
                answer = self._exchange(payload, too_slow)
            except (OSError, EOFError):
                if too_slow.is_set():
                    raise RenderFailed(f"the document took over {RENDER_TIMEOUT_SECONDS:g} s to lay out") from None
                if attempt == 2:
                    raise RenderFailed("the document renderer died twice on this document") from None
                continue
            if answer[:1] == _FAILED:
                raise RenderFailed(answer[1:].decode())
            return answer[1:]
        raise AssertionError("unreachable")

    def _exchange(self, payload: bytes, too_slow: threading.Event) -> bytes:
        """A document sent, its answer read. A renderer cut off on the way (dead, too slow, interrupted) is
        stopped, so that no later document reads this one's answer."""
        process = self._running()
        assert process.stdin is not None and process.stdout is not None

        def stop_it() -> None:
            too_slow.set()
            process.kill()

        watchdog = threading.Timer(RENDER_TIMEOUT_SECONDS, stop_it)
        watchdog.start()
        try:
            _send(process.stdin, payload)
            return _receive(process.stdout)
        except BaseException:
            self._process = None
            process.kill()
            process.communicate()  # reaped, its pipes closed
            raise
        finally:
            watchdog.cancel()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            # -P: the API's working directory (the repository, or the data directory in the image) is not
            # put on the renderer's import path, where its folders could shadow installed packages.
            command = [sys.executable, "-P", "-m", "clusterlabel.activities.documents.pdf"]
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return self._process


_renderer = Renderer()
_renderer_turn = threading.Lock()  # one document at a time


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


def serve_documents() -> None:
    """A renderer's life: a document in, its PDF (or its error) out, until the API's end of the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the API's to handle: its pipe closing ends this
    # WeasyPrint's own warnings (a blocked outside address, CSS it ignores) reach the renderer's stderr,
    # the API's log stream, instead of its logger's silent default.
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="document renderer: %(name)s %(levelname)s %(message)s"
    )
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
        try:
            _send(answers, answer)
        except BrokenPipeError:  # the API went away mid-document
            return


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
    serve_documents()

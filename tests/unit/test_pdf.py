"""Documents render to PDF with the text their reader needs, in any European script, fetching nothing."""

from __future__ import annotations

import asyncio
import http.server
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Response
from PIL import Image

from clusterlabel.activities.documents import pdf
from clusterlabel.activities.documents.pdf import render_here, render_pdf
from clusterlabel.interfaces.web.errors import install_error_handlers
from clusterlabel.tools.bench.procfs import cpu_seconds, descendants, rss_mb
from tests.pdf_reading import pdf_page_png, pdf_text


def test_a_document_keeps_its_text_in_every_european_script(tmp_path: Path) -> None:
    pdf = render_pdf("<h1>Łódź Automotive Cluster</h1><p>Grüße aus Zürich, Ελλάδα, Škoda</p>")
    text = pdf_text(pdf)
    assert "Łódź Automotive Cluster" in text
    assert "Grüße aus Zürich, Ελλάδα, Škoda" in text
    page = Image.open(pdf_page_png(pdf, tmp_path / "page.png")).convert("L")
    assert page.getextrema()[0] < 100  # some ink on the page, not a blank sheet


def test_an_outside_address_in_a_document_is_not_fetched() -> None:
    asked: list[str] = []

    class Counting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_error(404)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{server.server_address[1]}"
        pdf = render_pdf(f'<link rel="stylesheet" href="{address}/style.css"><p>Logo</p><img src="{address}/logo.png">')
    finally:
        server.shutdown()
    assert "Logo" in pdf_text(pdf)
    assert asked == []


def test_documents_rendered_one_after_another_leave_the_process_no_bigger() -> None:
    """A renderer lays out a report or certificate per award for years (here in this process, on whichever
    thread: a server's pools end idle threads): each document's memory is given back (WeasyPrint 70 kept
    ~220 KB of every document that brought no font configuration of its own)."""
    document = "<h1>Certificate</h1><p>Baltic Marine Cluster, Bronze</p>"

    def render_on_a_new_thread() -> None:
        thread = threading.Thread(target=render_here, args=(document,))
        thread.start()
        thread.join()

    for _ in range(10):  # the fonts and caches every process loads once
        render_on_a_new_thread()
    before = rss_mb(os.getpid())
    for _ in range(150):
        render_on_a_new_thread()
    grown = rss_mb(os.getpid()) - before
    assert grown < 10, f"the process grew {grown:.1f} MiB over 150 documents"


def test_a_document_is_laid_out_in_a_renderer_process_not_the_callers() -> None:
    """So that the API's requests keep the interpreter while a report is laid out (0.2 to 0.4 s of CPU each)."""
    document = "<h1>Report</h1>" + "<table>" + "<tr><td>Indicator</td><td>3 / 5</td></tr>" * 200 + "</table>"
    render_pdf(document)  # the renderer started and its fonts loaded
    callers_cpu, renderers_cpu = time.thread_time(), _renderers_cpu_seconds()
    pdfs = [render_pdf(document) for _ in range(5)]
    callers_cpu, renderers_cpu = time.thread_time() - callers_cpu, _renderers_cpu_seconds() - renderers_cpu
    assert callers_cpu < renderers_cpu / 4, (callers_cpu, renderers_cpu)
    assert all("Indicator" in pdf_text(rendered) for rendered in pdfs)


def test_a_renderer_that_died_is_replaced_and_the_document_still_rendered() -> None:
    render_pdf("<p>first</p>")
    for pid in _renderer_pids():
        os.kill(pid, signal.SIGKILL)
    assert "second" in pdf_text(render_pdf("<p>second</p>"))


def test_a_document_that_takes_too_long_is_refused_and_the_next_one_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    render_pdf("<p>warm</p>")  # started, its fonts loaded: only the layout below is timed
    monkeypatch.setattr(pdf, "RENDER_TIMEOUT_SECONDS", 0.001)
    with pytest.raises(pdf.RenderFailed, match=r"took over 0\.001 s to lay out"):
        render_pdf("<table>" + "<tr><td>slow</td></tr>" * 2000 + "</table>")
    monkeypatch.undo()
    assert "next" in pdf_text(render_pdf("<p>next</p>"))


def test_a_document_request_while_the_renderer_stays_busy_is_answered_503_to_try_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = FastAPI()
    install_error_handlers(api)
    api.add_api_route("/document.pdf", lambda: Response(render_pdf("<p>doc</p>"), media_type="application/pdf"))
    monkeypatch.setattr(pdf, "RENDERER_WAIT_SECONDS", 0.05)
    pdf._renderer_turn.acquire()  # as if it laid out another document all along
    try:
        answer = asyncio.run(_get(api, "/document.pdf"))
    finally:
        pdf._renderer_turn.release()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert "renderer was busy" in answer.json()["detail"]
    assert asyncio.run(_get(api, "/document.pdf")).status_code == 200  # free again


async def _get(api: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test") as client:
        return await client.get(path)


def _renderer_pids() -> list[int]:
    """This process's renderer processes."""
    return [pid for pid in descendants(os.getpid()) if b"documents.pdf" in _command_line(pid)]


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""  # it ended while we looked


def _renderers_cpu_seconds() -> float:
    return sum(cpu_seconds(pid) for pid in _renderer_pids())

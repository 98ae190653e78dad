"""The inbox as pages: the signed-in person's messages, unread first (/ui/inbox), and one message, which
opening marks read for them (/ui/inbox/{id}).

Opening is a GET, as in any mail reader: marking one's own message read is the only thing it changes,
and another site that made a browser open it would change no more than that (nothing recorded, nothing
shown to it), so no form and CSRF token stand in the way of a click.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.content.wording import languages
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.inbox import InboxMessage, inbox_of, open_message
from clusterlabel.interfaces.web.pages import _svc, count_unread, page, render, signed_in
from clusterlabel.interfaces.web.paging import listing, paging


def install(api: FastAPI) -> None:
    for path, endpoint in (("/ui/inbox", inbox_page), ("/ui/inbox/{notification_id}", message_page)):
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


@page
async def inbox_page(request: Request) -> Response:
    who = await signed_in(request)
    asked = paging(request)
    svc = _svc(request)
    inbox = await run_in_threadpool(inbox_of, svc, who, asked.ask, asked.offset)
    # The reader chooses the language of their own messages here, as the messages' footer says.
    person = await run_in_threadpool(svc.people.get, who.account_id) if who.account_id else None
    chooser = {"language": person.language, "languages": languages()} if person else None
    shown = listing(request, asked, inbox.messages)
    return render(request, "inbox.html", who, inbox=inbox, list=shown, chooser=chooser)


@page
async def message_page(request: Request) -> Response:
    who = await signed_in(request)
    try:
        notification_id = UUID(request.path_params["notification_id"])
    except ValueError:
        raise ApiError(404, "no such message") from None

    def opened() -> InboxMessage:
        message = open_message(_svc(request), who, notification_id)
        count_unread(request, who)  # the header counts it read already
        return message

    message = await run_in_threadpool(opened)
    return render(request, "inbox_message.html", who, message=message)

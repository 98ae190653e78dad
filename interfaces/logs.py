"""Logging set-up, called once by each entrypoint (CLI, HTTP server, worker) and nowhere else.

structlog renders everything, including records from the standard library's `logging` used by
temporalio, eventsourcing and uvicorn, so one process writes one consistent stream to stdout:
pretty lines on a terminal, JSON lines otherwise (containers, CI, log shippers).
Bind ids with structlog.contextvars.bind_contextvars(case_id=...) at the start of a unit of work.
Workflow code logs through temporalio's replay-safe `workflow.logger` instead.
"""

import logging
import sys
from typing import Any

import structlog
import structlog.tracebacks
from structlog.typing import Processor

FORMATS = ("auto", "json", "console")

# Marks our handler so a second configure_logging() replaces it rather than doubling every line.
_HANDLER_NAME = "clusterlabel"


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    """Route structlog and stdlib logging to stdout as console text or JSON lines at `level`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,  # first, so bound ids reach every line
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(fmt)],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def _renderer(fmt: str) -> list[Processor]:
    if fmt == "console" or (fmt == "auto" and sys.stdout.isatty()):
        return [structlog.dev.ConsoleRenderer()]
    # Tracebacks as structured data: aggregators render them far better than escaped strings.
    # Without locals: they can hold tokens and passwords, and these lines leave the machine.
    tracebacks = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
    )
    return [tracebacks, structlog.processors.JSONRenderer()]


def get_logger(name: str, **initial_values: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger named like a stdlib one (usually __name__), with optional bound values."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial_values)
    return logger

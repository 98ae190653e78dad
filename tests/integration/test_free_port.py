"""The ports the engine chooses for its embedded Temporal server (and the tests for their servers) lie
below the kernel's range of ephemeral ports: the dev server takes its internal services' ports from that
range, and once took the frontend port chosen for it a moment before, and died."""

from __future__ import annotations

import socket

from clusterlabel.interfaces.temporal_server import LOWEST_CHOSEN_PORT, _first_ephemeral_port, free_port


def test_a_chosen_port_is_free_below_the_ephemeral_range_and_differs_from_call_to_call() -> None:
    ports = [free_port() for _ in range(20)]

    assert all(LOWEST_CHOSEN_PORT <= port < _first_ephemeral_port() for port in ports)
    assert len(set(ports)) > 1
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports[-1]))  # nothing listens there

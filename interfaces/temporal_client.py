"""Temporal clients as this project connects them: the pydantic data converter, TLS from the settings,
the search attributes the workflows use registered, and the embedded server started when no cluster
is configured."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from clusterlabel.interfaces.temporal_server import SEARCH_ATTRIBUTES, EmbeddedTemporal, TemporalServerError
from clusterlabel.workflows.payloads import DATA_CONVERTER

if TYPE_CHECKING:
    from clusterlabel.interfaces.settings import Settings


async def connect_client(address: str, namespace: str, tls: TLSConfig | bool = False) -> Client:
    """A client using the pydantic data converter, as every client in this project must."""
    return await Client.connect(address, namespace=namespace, tls=tls, data_converter=DATA_CONVERTER)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register whichever of SEARCH_ATTRIBUTES the namespace lacks; safe to call any number of times."""
    missing = await _missing_search_attributes(client, namespace)
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as error:
        # Another process may have registered them between our list and add.
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    still_missing = await _missing_search_attributes(client, namespace)
    if still_missing:
        raise TemporalServerError(
            f"search attributes {sorted(still_missing)} are missing on namespace {namespace!r} after registering them"
        )


async def _missing_search_attributes(client: Client, namespace: str) -> dict[str, IndexedValueType.ValueType]:
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return {name: kind for name, kind in SEARCH_ATTRIBUTES.items() if name not in listed.custom_attributes}


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS from the settings' files: mTLS with cert and key, server-only TLS with just a CA, else none."""
    if settings.temporal_tls_cert is None and settings.temporal_tls_ca is None:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca),
        client_cert=_read(settings.temporal_tls_cert),
        client_private_key=_read(settings.temporal_tls_key),
    )


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


async def temporal_client_for(settings: Settings) -> tuple[Client, EmbeddedTemporal | None]:
    """Connect as the settings say: the embedded server (started here) or the given cluster.

    The caller owns the returned server and must stop() it (atexit does so at a normal exit anyway).
    """
    server: EmbeddedTemporal | None = None
    if settings.temporal_address is None:
        server = EmbeddedTemporal(
            settings.ensure_data_dir(),
            namespace=settings.temporal_namespace,
            ui=settings.temporal_ui,
            ui_port=settings.temporal_ui_port,
        )
        # The blocking wait would stall this loop; run it on a worker thread instead.
        await asyncio.to_thread(server.start)
        client = await connect_client(server.address, settings.temporal_namespace)
    else:
        client = await connect_client(settings.temporal_address, settings.temporal_namespace, tls_config(settings))
    try:
        await ensure_search_attributes(client, settings.temporal_namespace)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    return client, server

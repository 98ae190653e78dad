"""How every message of the workflows is read back from Temporal: as it was recorded.

A history keeps the arguments of steps taken years ago, and an activity is retried with the input it
was first given. A rule added at the boundary since (such as no control characters in free text,
domain/text.py) must not refuse what was accepted then: replaying the history, or retrying the
activity, would fail for good. So payloads are validated with the RECORDED context; new input meets
the rules where it enters (the HTTP bodies, the forms, the CLI).
"""

from __future__ import annotations

from typing import Any

import temporalio.api.common.v1
from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
)

from clusterlabel.domain.text import RECORDED


class RecordedJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    """pydantic's JSON payloads (written as temporalio.contrib.pydantic writes them), read as recorded."""

    def from_payload(self, payload: temporalio.api.common.v1.Payload, type_hint: type | None = None) -> Any:
        hint: Any = Any if type_hint is None else type_hint
        try:
            adapter = self._type_adapter(hint)  # pydantic's converter's own cache, shared as the converter is
        except TypeError:  # an unhashable hint: no cache
            adapter = TypeAdapter(hint)
        return adapter.validate_json(payload.data, context=RECORDED)


def _encoding_converters() -> tuple[EncodingPayloadConverter, ...]:
    json = RecordedJSONPayloadConverter()
    return tuple(
        json if isinstance(converter, JSONPlainPayloadConverter) else converter
        for converter in DefaultPayloadConverter.default_encoding_payload_converters
    )


# Built once and shared, as DefaultPayloadConverter shares its own: the SDK builds a payload converter
# for every workflow activation it decodes and every completion it encodes (one per serialization
# context), and a JSON converter of pydantic's costs ~9 µs to build (a serializer, a cache of adapters).
# None keeps anything of a call but that cache of type adapters, which every converter then shares.
_ENCODING_CONVERTERS = _encoding_converters()


class RecordedPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(*_ENCODING_CONVERTERS)


DATA_CONVERTER = DataConverter(payload_converter_class=RecordedPayloadConverter)

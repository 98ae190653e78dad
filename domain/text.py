"""Free text as callers send it: printable, with no control characters (Unicode category Cc).

A NUL in a cluster name was once accepted and stored; PostgreSQL refuses it in a TEXT column, so the
views that copy the name failed on that event forever. Control characters are refused at the boundary
instead (a 422 naming the field, in the contract's `pattern` too), and no event ever carries one.

`Text` is one line: names, codes, who decided. `Prose` is a report, rationale, reason or other text a
person types into a text area: it keeps line breaks and tabs (a line break as a browser sends it is
"\\r\\n", so the carriage return is kept with it) and refuses every other control character.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler, Strict, ValidationInfo

# What was recorded before this rule is read back as it was, never refused: pass RECORDED as the
# validation context when a model is rebuilt from a stored event.
RECORDED_KEY = "recorded"
RECORDED = {RECORDED_KEY: True}
# Category Cc is exactly these two ranges (C0 with DEL, and C1); a test checks it against unicodedata.
_CONTROLS = r"\x00-\x1f\x7f-\x9f"
_CONTROLS_BUT_LINE_BREAKS_AND_TABS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # keeps \t \n \r


class NoControlCharacters:
    """Refuses control characters (but `kept`) with a message naming the field; declares the same
    rule as a JSON Schema `pattern`, so that the documented contract is the one enforced."""

    def __init__(self, refused: str, kept: str = "") -> None:
        self.kept = kept
        self.found = re.compile(f"[{refused}]")
        self.pattern = f"^[^{refused}]*$"
        self.pattern_with_text = f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"

    def __call__(self, value: str, info: ValidationInfo) -> str:
        found = self.found.search(value)
        if found is None or (info.context or {}).get(RECORDED_KEY):
            return value
        character = found.group()
        name = unicodedata.name(character, "") or _CONTROL_NAMES.get(character, "control character")
        allowed = f" (only {self.kept} are allowed)" if self.kept else ""
        raise ValueError(
            f"{info.field_name or 'the text'} must not contain control characters{allowed}: "
            f"found U+{ord(character):04X} {name} at character {found.start() + 1}"
        )

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        # A required text is stripped before its length is checked (commands strip whitespace), so one
        # of only spaces or line breaks is refused: the pattern asks for a character that is not one.
        schema["pattern"] = self.pattern if schema.get("minLength", 0) < 1 else self.pattern_with_text
        return dict(schema)


# unicodedata names none of the C0/C1 controls; the few a person is likely to meet, by name.
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}

_ONE_LINE = NoControlCharacters(_CONTROLS)
_PROSE = NoControlCharacters(_CONTROLS_BUT_LINE_BREAKS_AND_TABS, kept="line breaks and tabs")

# One line of text: no control character at all.
Text = Annotated[str, AfterValidator(_ONE_LINE), _ONE_LINE]
# Several lines of text: line breaks and tabs, but no other control character.
Prose = Annotated[str, AfterValidator(_PROSE), _PROSE]

# A yes or no that a caller sends: true or false, never 0, 1 or "yes" (pydantic would take those, and
# the API's schema promises a boolean). Page forms send the words "true" and "false" and turn them into
# booleans first (interfaces/web/pages.form_value).
Flag = Annotated[bool, Strict()]


def _whole_number(value: Any) -> Any:
    """A JSON number with no fraction (JSON Schema's integer counts 3.0 as 3); never a string or a boolean,
    which pydantic would otherwise take for a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A count a caller sends: 12 or 12.0, never "12" or true.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]

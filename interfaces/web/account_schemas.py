"""The bodies and answers of the account routes (interfaces/web/accounts.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic.json_schema import JsonDict, JsonValue

from clusterlabel.activities.content.wording import languages
from clusterlabel.domain import record_commands
from clusterlabel.domain.account import Role
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.text import Text, WholeNumber
from clusterlabel.interfaces.web.bodies import STRICT
from clusterlabel.interfaces.web.schemas import Out


def _any_case(word: str) -> str:
    return "".join(f"[{letter.lower()}{letter.upper()}]" for letter in word)


# What the schema declares of an address beyond `format: email`: a domain with a dot, and none of the
# special-use domains (RFC 6761) that the address check refuses, as no mail is ever delivered there.
_RESERVED = "|".join(_any_case(name) for name in ("arpa", "invalid", "local", "localhost", "onion", "test"))
EMAIL_SCHEMA: JsonDict = {"pattern": f"^[^@]+@(?!([^@]*[.])?({_RESERVED})[.]?$)[^@]+[.][^@]*[A-Za-z]$"}


class PersonIn(BaseModel):
    """Who holds the account: personal data, kept beside the event log, never in it."""

    model_config = STRICT
    name: Text = Field(min_length=1, max_length=200)
    email: EmailStr = Field(
        description="how the person signs in and is written to; one account per address", json_schema_extra=EMAIL_SCHEMA
    )


def _goes_with(role: Role, field: str) -> JsonDict:
    """JSON Schema for "the role and the id go together" (domain/account.py checks it)."""
    with_role: JsonDict = {"properties": {"roles": {"contains": {"const": role.value}}}, "required": ["roles"]}
    return {
        "if": with_role,
        "then": {"required": [field], "properties": {field: {"type": "string", "format": "uuid"}}},
        "else": {"not": {"required": [field]}},
    }


class AccountIn(PersonIn):
    model_config = ConfigDict(
        **STRICT,
        json_schema_extra={"allOf": [_goes_with(Role.EXPERT, "expert_id"), _goes_with(Role.CLUSTER, "cluster_id")]},
    )
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    expert_id: UUID | None = Field(default=None, description="with the role expert: the expert it speaks for")
    cluster_id: UUID | None = Field(default=None, description="with the role cluster: the cluster it speaks for")

    def command(self) -> record_commands.OpenAccount:
        return record_commands.OpenAccount(roles=self.roles, expert_id=self.expert_id, cluster_id=self.cluster_id)


class ContactIn(PersonIn):
    """A contact person of the cluster the route names."""


class ExpertIn(ExpertProfile):
    """An expert's registration: the profile, and the address their account signs in with."""

    model_config = STRICT
    email: EmailStr = Field(
        description="the expert's account signs in and is written to at this address", json_schema_extra=EMAIL_SCHEMA
    )


class RoleIn(record_commands.GrantRole):
    model_config = STRICT


class DeactivationIn(record_commands.DeactivateAccount):
    model_config = STRICT


class AccountCreated(Out):
    account_id: UUID
    token: str = Field(description="a personal API token of the new account; shown once, only its hash is kept")


class AccountOut(Out):
    account_id: UUID | None = Field(default=None, description="absent for the machine administrator's token")
    name: str
    email: str | None = Field(default=None, description="absent for the machine administrator and an erased person")
    roles: list[Role]
    expert_id: UUID | None = None
    cluster_id: UUID | None = None
    active: bool = True
    erased: bool = Field(default=False, description="the person's name and address were erased")
    language: str = Field(default="en", description="the language the person reads their messages in")


class LanguageIn(BaseModel):
    """The language a person reads their messages in: one the messages are translated into."""

    model_config = STRICT
    language: str = Field(
        description="a language code the messages are translated into: en, de",
        max_length=10,
        json_schema_extra={"enum": list[JsonValue](sorted(languages()))},
    )

    @field_validator("language")
    @classmethod
    def _translated(cls, language: str) -> str:
        known = languages()
        if language not in known:
            raise ValueError(f"messages are written in {', '.join(known)}; not in {language!r}")
        return language


class TokenIn(BaseModel):
    model_config = STRICT
    name: Text = Field(min_length=1, max_length=100, description="what the token is for, e.g. nightly export")
    valid_days: WholeNumber = Field(
        default=365, ge=1, le=730, description="the token stops working after this many days"
    )


class TokenCreated(Out):
    token_id: UUID
    token: str = Field(description="the token; shown once, only its hash is kept")
    expires_at: datetime

"""The sign-in's small rules, on their own: RFC 6238's own test vectors, the window of accepted codes,
what a new password must be, and which places a sign-in may lead back to."""

from __future__ import annotations

import base64

import pytest

from clusterlabel.interfaces.web.pages import safe_next
from clusterlabel.interfaces.web.passwords import password_problem
from clusterlabel.interfaces.web.second_factors import code_at, matching_step, provisioning_uri

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("unix_time", "code"),
    # RFC 6238, appendix B, SHA-1: the eight-digit values' last six digits.
    [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_the_codes_are_rfc_6238s_own(unix_time: int, code: str) -> None:
    assert code_at(RFC_SECRET, unix_time // 30) == code
    assert matching_step(RFC_SECRET, code, now=unix_time) == unix_time // 30


def test_a_code_one_step_early_or_late_is_accepted_and_two_steps_off_is_not() -> None:
    now = 1234567890
    step = now // 30
    for off in (-1, 1):
        assert matching_step(RFC_SECRET, code_at(RFC_SECRET, step + off), now=now) == step + off
    for off in (-2, 2):
        assert matching_step(RFC_SECRET, code_at(RFC_SECRET, step + off), now=now) is None
    assert matching_step(RFC_SECRET, "00592", now=now) is None
    assert matching_step(RFC_SECRET, "٠٠٥٩٢٤", now=now) is None  # digits, but not ASCII ones


def test_the_provisioning_uri_names_the_issuer_and_the_code_kind() -> None:
    uri = provisioning_uri(RFC_SECRET, "maria@example.org")
    assert uri.startswith("otpauth://totp/clusterlabel%3Amaria%40example.org?secret=" + RFC_SECRET)
    assert "issuer=clusterlabel" in uri and "digits=6" in uri and "period=30" in uri and "algorithm=SHA1" in uri


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short one", "at least 12"),
        ("maria@example.org", "e-mail"),
        (" Maria@Example.org ", "e-mail"),
        ("x" * 1001, "at most"),
        ("a good long passphrase", None),
    ],
)
def test_a_new_password_has_twelve_characters_and_is_not_the_e_mail_address(password: str, problem: str | None) -> None:
    found = password_problem(password, "maria@example.org")
    assert found is None if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(1)",
        "https://elsewhere/",
        "//elsewhere",
        "/ui//elsewhere",
        "/\\elsewhere",
        "/ui/\\elsewhere",
        "/ui/x\nLocation: https://elsewhere",
        "/ui/x\x00",
        "/ui/../api",
        "/ui/x\"onload='y'",
        "/ui/" + "x" * 600,
        "/ui",
        "",
        None,
    ],
)
def test_a_sign_in_leads_back_to_no_other_site_nor_anything_but_a_page(hostile: str | None) -> None:
    assert safe_next(hostile) is None


@pytest.mark.parametrize("page", ["/ui/dashboard", "/ui/dashboard?state=screening", "/ui/cases/0b6e-4a/assessment"])
def test_a_sign_in_leads_back_to_the_page_that_asked_for_it(page: str) -> None:
    assert safe_next(page) == page

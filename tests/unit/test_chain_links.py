"""The chain's links are HMAC-SHA256 under its key (RFC 2104), whatever the key's length or alphabet: a link
made here must be the one any HMAC implementation makes, or an auditor re-checking the chain with their
own tools would find every row altered."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from clusterlabel.projections.chain_key import ChainKey

PREVIOUS = "9f2c" * 16
DIGEST = hashlib.sha256(b"an event").hexdigest()


@pytest.mark.parametrize(
    "secret",
    ["k", "a-key-of-exactly-sixty-four-bytes-".ljust(64, "x"), "long" * 50, "Schlüssel-ключ-鍵", " padded "],
    ids=["short", "one-block", "longer-than-a-block", "not-ascii", "spaces"],
)
def test_a_link_is_the_hmac_sha256_of_the_previous_head_and_the_digest_under_the_key(secret: str) -> None:
    key = ChainKey(secret)
    expected = hmac.digest(secret.strip().encode(), (PREVIOUS + DIGEST).encode(), "sha256").hex()
    assert key.link(PREVIOUS, DIGEST) == expected
    assert key.link(PREVIOUS, DIGEST) == expected  # the key's prepared states are not used up by a link
    assert key.link("", DIGEST) == hmac.digest(secret.strip().encode(), DIGEST.encode(), "sha256").hex()

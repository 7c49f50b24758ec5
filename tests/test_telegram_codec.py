"""Callback data: fits Telegram's 64 bytes, survives restarts, and is useless to anyone it was not made for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine import payloads
from bot.telegram.codec import MAX_CALLBACK_BYTES, CallbackCodec, CallbackDataTooLong

TOKEN = "123456789:STANDIN-token-for-tests"
ASHA, RAVI = 10_001, 10_002

payload_text = st.text(min_size=1, max_size=payloads.MAX_PAYLOAD_BYTES).filter(
    lambda p: len(p.encode("utf-8")) <= payloads.MAX_PAYLOAD_BYTES
)


@given(payload_text, st.integers(min_value=1, max_value=2**52))
def test_every_engine_payload_fits_and_comes_back(payload: str, owner: int) -> None:
    codec = CallbackCodec.from_token(TOKEN)
    data = codec.encode(payload, owner)
    assert len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
    assert codec.decode(data, owner) == payload


def test_buttons_survive_a_restart_with_the_same_token() -> None:
    data = CallbackCodec.from_token(TOKEN).encode("answer:rebuild_trust", ASHA)
    assert CallbackCodec.from_token(TOKEN).decode(data, ASHA) == "answer:rebuild_trust"


def test_someone_elses_button_is_refused() -> None:
    codec = CallbackCodec.from_token(TOKEN)
    assert codec.decode(codec.encode("forget:yes", ASHA), RAVI) is None


def test_a_new_token_expires_old_buttons() -> None:
    data = CallbackCodec.from_token(TOKEN).encode("menu", ASHA)
    assert CallbackCodec.from_token("987:other").decode(data, ASHA) is None


@pytest.mark.parametrize(
    "forged",
    ["", "menu", "menu|", "|abcdefghijkl", "forget:yes|AAAAAAAAAAAA", "x" * 65, "menu|abc|def", "menu|" + "é" * 12, None],
)
def test_forged_or_malformed_data_is_refused(forged: str | None) -> None:
    assert CallbackCodec.from_token(TOKEN).decode(forged, ASHA) is None


@given(st.binary(min_size=1, max_size=64))
def test_arbitrary_bytes_never_decode_or_crash(raw: bytes) -> None:
    data = raw.decode("utf-8", errors="replace")
    assert CallbackCodec.from_token(TOKEN).decode(data, ASHA) is None


def test_a_tampered_payload_is_refused() -> None:
    codec = CallbackCodec.from_token(TOKEN)
    payload, tag = codec.encode("forget:no", ASHA).split("|")
    assert codec.decode(f"forget:yes|{tag}", ASHA) is None


def test_a_payload_too_long_to_sign_is_an_error_not_a_broken_button() -> None:
    with pytest.raises(CallbackDataTooLong):
        CallbackCodec.from_token(TOKEN).encode("x" * 52, ASHA)

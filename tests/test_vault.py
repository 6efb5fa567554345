"""The vault: every cryptographic promise, checked directly."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from hypothesis import given, settings
from hypothesis import strategies as st

from mantra.crypto import vault

KEY = bytes(range(32))


def test_sealed_content_opens_only_in_its_own_row_and_field():
    blob = vault.seal(KEY, b"they shouted at me", table="report", row_id=7, field="account")
    assert vault.open_sealed(KEY, blob, table="report", row_id=7, field="account") == b"they shouted at me"
    for table, row_id, field in [("report", 8, "account"), ("report", 7, "contact"), ("message", 7, "account")]:
        with pytest.raises(vault.VaultError, match="wrong key, altered, or moved"):
            vault.open_sealed(KEY, blob, table=table, row_id=row_id, field=field)


def test_every_flipped_bit_is_refused():
    blob = vault.seal(KEY, b"x" * 20, table="report", row_id=1, field="account")
    for i in range(1, len(blob)):  # byte 0 is the version, refused separately
        for bit in (0, 7):
            tampered = bytearray(blob)
            tampered[i] ^= 1 << bit
            with pytest.raises(vault.VaultError):
                vault.open_sealed(KEY, bytes(tampered), table="report", row_id=1, field="account")


def test_wrong_key_and_unknown_version_are_refused_with_a_clear_error():
    blob = vault.seal(KEY, b"secret", table="report", row_id=1, field="account")
    with pytest.raises(vault.VaultError, match="report.account of row 1 would not open"):
        vault.open_sealed(vault.new_data_key(), blob, table="report", row_id=1, field="account")
    with pytest.raises(vault.VaultError, match="not a sealed blob of version 1"):
        vault.open_sealed(KEY, b"\x02" + blob[1:], table="report", row_id=1, field="account")
    with pytest.raises(vault.VaultError):
        vault.open_sealed(KEY, b"", table="report", row_id=1, field="account")


def test_every_blob_starts_with_the_version_byte():
    private = vault.PrivateKey(bytes(32))
    assert vault.seal(KEY, b"a", table="t", row_id=1, field="f")[0] == vault.VERSION
    assert vault.wrap(KEY, private.public, b"info")[0] == vault.VERSION
    low = vault.Argon2Params(memory_cost=1024, iterations=1, lanes=1)
    assert vault.protect_with_password(private, "pw", low)[0] == vault.VERSION


def test_nonces_never_repeat():
    nonces = {vault.seal(KEY, b"same", table="t", row_id=1, field="f")[1:13] for _ in range(20000)}
    assert len(nonces) == 20000


def test_a_wrap_opens_only_with_its_key_and_its_info():
    alice, bob = vault.PrivateKey.generate(), vault.PrivateKey.generate()
    data_key = vault.new_data_key()
    info = vault.wrap_info("report-key", 42, "intake")
    wrapped = vault.wrap(data_key, alice.public, info)
    assert len(wrapped) == 1 + 1120 + 32 + 16
    assert vault.unwrap(wrapped, alice, info) == data_key
    with pytest.raises(vault.VaultError, match="mantra/v1/report-key/42/intake: wrap would not open"):
        vault.unwrap(wrapped, bob, info)
    with pytest.raises(vault.VaultError):
        vault.unwrap(wrapped, alice, vault.wrap_info("report-key", 43, "intake"))
    flipped = bytearray(wrapped)
    flipped[500] ^= 1
    with pytest.raises(vault.VaultError):
        vault.unwrap(bytes(flipped), alice, info)


def test_private_key_from_seed_matches_the_published_pq_hpke_vectors():
    """draft-ietf-hpke-pq: the seed expands (SHAKE-256) to the published public key."""
    path = resources.files("cryptography_vectors") / "HPKE" / "hpke-pq-test-vectors.json"
    vectors = [v for v in json.loads(path.read_text()) if int(v["kem_id"]) == 0x647A]
    assert len(vectors) == 2
    for v in vectors:
        key = vault.PrivateKey(bytes.fromhex(v["skRm"]))
        assert key.public.raw == bytes.fromhex(v["pkRm"])


def test_derived_keys_match_our_own_fixed_vectors():
    """If expansion or derivation ever changes, existing reports would not open."""
    key = vault.PrivateKey(bytes(range(32)))
    assert (
        hashlib.sha256(key.public.raw).hexdigest() == "c9a3565ffde4f72b51661be391ee13e46378d7f06dd5c8bf5af9d2cfb5b8336b"
    )
    receipt = vault.derive_receipt("1234-5678-9012-3456-7890", b"mantra-test-salt", vault.Argon2Params(19 * 1024, 2, 1))
    assert receipt.lookup_token.hex() == "497dcb85547b021fbc18440195d224d3307a27024e7c12eea268db2416d0a42b"
    assert hashlib.sha256(receipt.reporter_key.public.raw).hexdigest() == (
        "19eee20e82c81dcb55bb3c8d646c93ba5fa4b1c641c2922ce9dbd9e264e66239"
    )


def test_argon2id_reproduces_rfc9106_vector():
    """RFC 9106 section 5.3 (the library primitive our parameters feed)."""
    kdf = Argon2id(
        salt=b"\x02" * 16, length=32, iterations=3, lanes=4, memory_cost=32, ad=b"\x04" * 12, secret=b"\x03" * 8
    )
    assert kdf.derive(b"\x01" * 32).hex() == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"


def test_argon2_parameters_are_stored_with_what_they_protect():
    low = vault.Argon2Params(memory_cost=1024, iterations=1, lanes=1)
    blob = vault.protect_with_password(vault.PrivateKey(bytes(32)), "correct horse", low)
    assert vault.password_params(blob) == low
    assert vault.Argon2Params.decode(vault.ARGON2.encode()) == vault.ARGON2


def test_password_unlocks_the_user_key_and_a_wrong_one_is_refused():
    low = vault.Argon2Params(memory_cost=1024, iterations=1, lanes=1)
    private = vault.PrivateKey.generate()
    blob = vault.protect_with_password(private, "correct horse battery", low)
    assert vault.unlock_with_password(blob, "correct horse battery").seed == private.seed
    with pytest.raises(vault.WrongPassword):
        vault.unlock_with_password(blob, "Correct horse battery")
    assert private.seed not in blob


def test_receipt_codes_have_twenty_digits_and_normalise_forgivingly():
    codes = {vault.new_receipt_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert len(code) == 24 and code.count("-") == 4
        assert vault.normalise_receipt_code(" " + code.replace("-", " ") + " ") == code
    assert vault.normalise_receipt_code("1234") is None
    assert vault.normalise_receipt_code("１２３４５６７８９０１２３４５６７８９０") is None  # full-width digits


def test_private_keys_never_print_their_seed():
    key = vault.PrivateKey(b"\x07" * 32)
    assert "\x07" not in repr(key) and key.seed.hex() not in repr(key)
    assert vault.PrivateKey.from_file_text(key.to_file_text("intake")).seed == key.seed
    with pytest.raises(vault.VaultError):
        vault.PrivateKey.from_file_text("garbage")


@settings(max_examples=200, deadline=None)
@given(
    content=st.binary(max_size=4096),
    row_id=st.integers(min_value=1, max_value=2**62),
    field=st.text(min_size=1, max_size=40),
)
def test_any_content_round_trips_and_never_appears_in_the_blob(content, row_id, field):
    blob = vault.seal(KEY, content, table="report", row_id=row_id, field=field)
    assert vault.open_sealed(KEY, blob, table="report", row_id=row_id, field=field) == content
    if len(content) >= 8:
        assert content not in blob


@settings(max_examples=25, deadline=None)
@given(secret=st.binary(min_size=1, max_size=64), report_id=st.integers(min_value=1))
def test_any_key_material_wraps_and_unwraps(secret, report_id):
    private = vault.PrivateKey(hashlib.sha256(secret).digest())
    info = vault.wrap_info("report-key", report_id, "reporter")
    assert vault.unwrap(vault.wrap(secret, private.public, info), private, info) == secret

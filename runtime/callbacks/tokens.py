"""Task tokens that cannot be guessed, and that still hold after a restart.

A task token (``$$.Task.Token``) names one attempt of one task state visit: the
execution ARN, the id of the state's ``*StateEntered`` event and the attempt number.
Anyone holding a token can complete its task (SendTaskSuccess), so a token must not be
computable from what is public (an execution's name is often chosen by a person). A
token is therefore signed::

    token = base64( 0x01 | HMAC-SHA256(secret, "arn#enteredEventId#attempt") | identity )

with a secret of 32 random bytes (:func:`secrets.token_bytes`): one per store (kept in
the store's ``token_secret`` table, so an execution resumed by another process waits on
the same token the outside world was given before the restart), or one per process
when no store is used. The identity rides in clear inside the token so that a token can
be checked without a lookup: a token whose signature does not match was never issued
with this secret (``InvalidToken``), one that matches but has no waiting task belongs to
an execution that is no longer running here (``TaskDoesNotExist``).

The token is standard base64, as AWS's are (AWS's are opaque blobs of a few hundred
characters: ``AQB8AAAAKgAAAAMAAAAAAAAAAU...``); SendTaskSuccess allows up to 2,048
characters (botocore ``TaskToken``: min 1, max 2048), far more than an ARN needs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading

__all__ = ["SECRET_BYTES", "TokenSigner", "new_secret", "process_signer"]

#: Length of a token secret, in bytes (the size of an HMAC-SHA256 key block's digest).
SECRET_BYTES = 32
_VERSION = b"\x01"
_MAC_BYTES = 32


def new_secret() -> bytes:
    """A fresh random secret for a store or a process."""
    return secrets.token_bytes(SECRET_BYTES)


class TokenSigner:
    """Makes and checks task tokens with one secret."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a token secret needs at least 16 bytes")
        self._secret = bytes(secret)

    def _mac(self, identity: bytes) -> bytes:
        return hmac.new(self._secret, identity, hashlib.sha256).digest()

    def make(self, execution_arn: str, entered_id: int, attempt: int) -> str:
        """The token of attempt ``attempt`` of the state entered at event ``entered_id``."""
        identity = f"{execution_arn}#{entered_id}#{attempt}".encode()
        return base64.b64encode(_VERSION + self._mac(identity) + identity).decode("ascii")

    def identity(self, token: str) -> str | None:
        """``arn#enteredEventId#attempt`` of a token signed with this secret, else None."""
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (UnicodeError, binascii.Error, ValueError):
            return None
        if len(raw) <= 1 + _MAC_BYTES or raw[:1] != _VERSION:
            return None
        mac, identity = raw[1 : 1 + _MAC_BYTES], raw[1 + _MAC_BYTES :]
        if not hmac.compare_digest(mac, self._mac(identity)):
            return None
        try:
            return identity.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def issued(self, token: str) -> bool:
        """True when ``token`` was made with this secret."""
        return self.identity(token) is not None


_PROCESS: TokenSigner | None = None
_LOCK = threading.Lock()


def process_signer() -> TokenSigner:
    """The signer of executions that use no store: a random secret for this process."""
    global _PROCESS
    with _LOCK:
        if _PROCESS is None:
            _PROCESS = TokenSigner(new_secret())
        return _PROCESS

"""A software authenticator: what a phone or security key does, in a few lines of `cryptography`.

It makes P-256 credentials (ES256) with "none" or "packed" self-attestation and
signs assertions, answering navigator.credentials.create()/get() as a browser
would pass them on (clientDataJSON with the challenge and origin, base64url JSON).
Nothing here comes from the service: it reads only the options it is given.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Holds credentials like a platform authenticator with a PIN (user verification)."""

    origin: str
    attestation: str = "none"  # or "packed" (self attestation)
    verifies_user: bool = True
    counts: bool = True  # a sign counter; passkeys synced between devices often send 0
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def _flags(self) -> int:
        return UP | (UV if self.verifies_user else 0)

    def create(self, options: dict, *, origin: str | None = None,
               rp_id: str | None = None) -> dict:
        """Answer navigator.credentials.create({publicKey: options}) (options as JSON)."""
        rp_id = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(id=secrets.token_bytes(32), key=key, rp_id=rp_id,
                                user_handle=unb64(options["user"]["id"]))
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags() | AT])
                     + struct.pack(">I", 0) + bytes(16)
                     + struct.pack(">H", len(credential.id)) + credential.id + cose)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        if self.attestation == "packed":
            signature = key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                 ec.ECDSA(hashes.SHA256()))
            statement = {"alg": -7, "sig": signature}
        else:
            statement = {}
        attestation = cbor2.dumps({"fmt": self.attestation, "attStmt": statement,
                                   "authData": auth_data})
        self.credentials.append(credential)
        return {"id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
                "clientExtensionResults": {}, "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64(client_data),
                             "attestationObject": b64(attestation),
                             "transports": ["internal"]}}

    def get(self, options: dict, *, origin: str | None = None,
            credential: Credential | None = None) -> dict:
        """Answer navigator.credentials.get({publicKey: options}) with a matching credential."""
        allowed = {unb64(item["id"]) for item in options.get("allowCredentials") or []}
        if credential is None:
            usable = [c for c in self.credentials
                      if c.rp_id == options["rpId"] and (not allowed or c.id in allowed)]
            assert usable, "no credential for this request"
            credential = usable[-1]
        if self.counts:
            credential.sign_count += 1
        auth_data = (hashlib.sha256(credential.rp_id.encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", credential.sign_count if self.counts else 0))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                        ec.ECDSA(hashes.SHA256()))
        return {"id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
                "clientExtensionResults": {}, "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64(client_data),
                             "authenticatorData": b64(auth_data), "signature": b64(signature),
                             "userHandle": b64(credential.user_handle)}}

"""A throwaway RS256 issuer for tests: signs tokens the services' verifier accepts."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from authn import Verifier


class TestIssuer:
    __test__ = False  # not a test class
    ISSUER = "crm-test"  # the ``iss`` of its tokens, which its verifiers pin

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def verifier(self, **kwargs: object) -> Verifier:
        kwargs.setdefault("issuer", self.ISSUER)
        return Verifier(public_keys=[self.key.public_key()], **kwargs)  # type: ignore[arg-type]

    def token(self, sub: str, *roles: str, team: str | None = None, ttl: int = 600,
              **claims: object) -> str:
        now = int(time.time())
        payload = {"iss": self.ISSUER, "sub": sub, "preferred_username": sub, "roles": list(roles),
                   "aud": "crm", "iat": now, "exp": now + ttl, **claims}
        if team is not None:
            payload["team"] = team
        payload = {k: v for k, v in payload.items() if v is not None}  # iss=None: a token without iss
        return jwt.encode(payload, self.key, algorithm="RS256")

    def headers(self, sub: str, *roles: str, team: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, *roles, team=team)}"}

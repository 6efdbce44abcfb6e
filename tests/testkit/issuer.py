"""A throwaway RS256 issuer for tests: signs tokens the services' verifier accepts."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from authn import Verifier


class TestIssuer:
    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def verifier(self, **kwargs: object) -> Verifier:
        return Verifier(public_keys=[self.key.public_key()], **kwargs)  # type: ignore[arg-type]

    def token(self, sub: str, *roles: str, team: str | None = None, ttl: int = 600,
              **claims: object) -> str:
        now = int(time.time())
        payload = {"sub": sub, "preferred_username": sub, "roles": list(roles), "aud": "crm",
                   "iat": now, "exp": now + ttl, **claims}
        if team is not None:
            payload["team"] = team
        return jwt.encode(payload, self.key, algorithm="RS256")

    def headers(self, sub: str, *roles: str, team: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, *roles, team=team)}"}

"""Issuer pinning on the running system: a token signed with the built-in issuer's own key but
naming another ``iss`` is refused by the gateway and by every service behind it."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authn import ADMIN
from gateway.issuer import TokenIssuer
from gateway.users import User
from testkit.embedded import SERVICES, Embedded

ROUTES = {"leads": "/api/v1/leads", "accounts": "/api/v1/accounts",
          "support": "/api/v1/support/tickets", "notify": "/api/v1/notify/notifications"}


def _token(crm: Embedded, iss: str) -> str:
    key = serialization.load_pem_private_key((crm.data_dir / "issuer-key.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    issuer = TokenIssuer(key, issuer=iss, audience="crm")
    return issuer.issue(User("admin", "Ada Admin", (ADMIN,)))


@pytest.mark.parametrize("service", SERVICES)
def test_a_token_of_another_issuer_is_refused_everywhere(crm: Embedded, service: str) -> None:
    forged = {"Authorization": f"Bearer {_token(crm, 'https://evil.example')}"}
    genuine = {"Authorization": f"Bearer {_token(crm, 'crm-embedded')}"}
    for base in (crm.url, crm.service_urls[service]):
        refused = httpx.get(f"{base}{ROUTES[service]}", headers=forged, timeout=10)
        assert refused.status_code == 401, (base, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert httpx.get(f"{base}{ROUTES[service]}", headers=genuine, timeout=10).status_code == 200

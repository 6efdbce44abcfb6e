"""Caller verification shared by the services and the gateway."""

from .principal import (
    ADMIN,
    INTEGRATION,
    ROLES,
    SALES_MANAGER,
    SALES_REP,
    SUPPORT_AGENT,
    Principal,
)
from .verify import ApiKey, AuthError, AuthUnavailable, Verifier, hash_api_key, parse_api_keys

__all__ = [
    "ADMIN", "INTEGRATION", "ROLES", "SALES_MANAGER", "SALES_REP", "SUPPORT_AGENT",
    "ApiKey", "AuthError", "AuthUnavailable", "Principal", "Verifier", "hash_api_key",
    "parse_api_keys",
]

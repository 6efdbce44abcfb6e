"""Caller verification shared by the services and the gateway."""

from .principal import (
    ADMIN,
    ARCHIVE_CLERK,
    BRAND_DEPT,
    FINANCE,
    GROUP_GM,
    INTEGRATION,
    QUALITY_INSPECTOR,
    RECEPTIONIST,
    REVIEW_GROUP,
    ROLES,
    SALES_GM,
    SALES_MANAGER,
    SALES_OPS_MANAGER,
    SALES_REP,
    SALES_VP,
    SERVICE_CLERK,
    SUPPORT_AGENT,
    SUPPORT_SUPERVISOR,
    TECHNICIAN,
    Principal,
)
from .verify import (
    ApiKey,
    AuthError,
    AuthSettings,
    AuthUnavailable,
    Verifier,
    hash_api_key,
    parse_api_keys,
)

__all__ = [
    "ADMIN", "ARCHIVE_CLERK", "BRAND_DEPT", "FINANCE", "GROUP_GM", "INTEGRATION", "QUALITY_INSPECTOR",
    "RECEPTIONIST", "REVIEW_GROUP", "ROLES", "SALES_GM", "SALES_MANAGER", "SALES_OPS_MANAGER",
    "SALES_REP", "SALES_VP", "SERVICE_CLERK", "SUPPORT_AGENT", "SUPPORT_SUPERVISOR", "TECHNICIAN",
    "ApiKey", "AuthError", "AuthSettings", "AuthUnavailable", "Principal", "Verifier", "hash_api_key",
    "parse_api_keys",
]

"""HTTP conventions shared by the CRM services and the gateway, and the composition every
service's web app and worker share."""

from .app import Blueprint, create_service_app
from .hardening import install_problem_handlers
from .problems import PROBLEM_JSON, Problem, problem_document, problem_response
from .schemas import PageQuerySchema, ProblemSchema, StrictSchema
from .service import ServiceContext, ServiceSettings, open_bus, start_periodic, utcnow

__all__ = [
    "PROBLEM_JSON", "Blueprint", "PageQuerySchema", "Problem", "ProblemSchema", "ServiceContext",
    "ServiceSettings", "StrictSchema", "create_service_app", "install_problem_handlers", "open_bus",
    "problem_document", "problem_response", "start_periodic", "utcnow",
]

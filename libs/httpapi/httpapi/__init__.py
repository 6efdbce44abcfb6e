"""HTTP conventions shared by the CRM services and the gateway."""

from .app import Blueprint, create_service_app
from .problems import PROBLEM_JSON, Problem, install_problem_handlers, problem_document, problem_response
from .schemas import PageQuerySchema, ProblemSchema, StrictSchema

__all__ = [
    "PROBLEM_JSON", "Blueprint", "PageQuerySchema", "Problem", "ProblemSchema", "StrictSchema",
    "create_service_app", "install_problem_handlers", "problem_document", "problem_response",
]

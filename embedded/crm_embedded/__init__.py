"""Embedded mode: the composition root that runs every service, worker and the gateway in one
process. It is the only package allowed to import all services."""

"""A local stand-in for Mia-Platform's CRUD Service v7, for development and tests: the routes,
filters, states and errors a client depends on, state in a sqlite file, usable in-process (a
`requests` adapter) or over HTTP (`manage.py crud_simulator`)."""

from crud.simulator.handle import CrudSimulator

__all__ = ["CrudSimulator"]

"""A local stand-in for Kaleyra Video, for development and tests: the same operations and rules,
state in a sqlite file, usable in-process or over HTTP, with fault injection."""

from kaleyra.simulator.handle import Simulator

__all__ = ["Simulator"]

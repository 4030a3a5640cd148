"""A fake Nezha dashboard over real HTTP, for the tests and the demo.

It reproduces the dashboard's behaviour as read from its source, quirks included: see
``server.py``.
"""

from .server import FakeDashboard, FakeServer, make_server

__all__ = ["FakeDashboard", "FakeServer", "make_server"]

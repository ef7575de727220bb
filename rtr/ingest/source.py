"""The adapters' interface under its older ingest name; it lives in :mod:`rtr.adapters.interface`."""

from rtr.adapters.interface import *  # noqa: F403
from rtr.adapters.interface import __all__ as __all__

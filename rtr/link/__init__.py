"""Linking: chain of identity (collection -> lot -> infusion -> subject) and the linked tables."""

from rtr.link.build import LINKED_TABLES, build_linked_tables, summarise_link_issues
from rtr.link.inputs import CORE_COLUMNS, create_empty_core_table, load_core_frames

__all__ = [
    "CORE_COLUMNS",
    "LINKED_TABLES",
    "build_linked_tables",
    "create_empty_core_table",
    "load_core_frames",
    "summarise_link_issues",
]

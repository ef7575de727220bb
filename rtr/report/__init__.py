"""The static HTML report: patient, lot, findings and data-quality pages plus downloads."""

from rtr.report.build import build_site

__all__ = ["build_site"]

"""The audit report: every method over the embedded models, rendered to one HTML file."""

from overseer.report.audit import AuditResult, run_audit
from overseer.report.sections import Section, Table

__all__ = ["AuditResult", "Section", "Table", "run_audit"]

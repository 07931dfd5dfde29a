"""Jinja2 templates for the Leo programs the workbench generates (one per model family)."""

"""The Textual workbench (`workbench` with no arguments).

Kept free of imports on purpose: the run worker process imports `workbench.tui.worker`,
and it must not pay for (or depend on) Textual.
"""

"""The footer used on every screen: compact, palette key left out to fit 80 columns."""

from __future__ import annotations

from textual.widgets import Footer


class WorkbenchFooter(Footer):
    """Key bindings of the current screen; ctrl+p (palette) is listed in the help."""

    def __init__(self) -> None:
        super().__init__(show_command_palette=False, compact=True)

"""Compiler diagnostics as data.

A diagnostic is a message attached to a span of character offsets into the source.
Offsets only become ``line:col`` when a diagnostic is rendered, together with the
offending source line and a caret, so every stage can report errors without knowing
how they will be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class Span:
    """Half-open range ``[start, end)`` of character offsets into one source file."""

    start: int
    end: int

    def to(self, other: "Span") -> "Span":
        """The smallest span covering ``self`` and ``other``."""
        return Span(min(self.start, other.start), max(self.end, other.end))


NO_SPAN = Span(0, 0)


@dataclass(frozen=True)
class Diagnostic:
    """One user-facing error: where it is and what is wrong.

    ``notes`` point at further places that explain it, each rendered after the error (an
    error inside a generic helper notes where that instance was asked for).
    """

    span: Span
    message: str
    notes: tuple["Diagnostic", ...] = ()

    def with_note(self, span: Span, message: str) -> "Diagnostic":
        """This diagnostic with one more note at the end."""
        return Diagnostic(self.span, self.message, self.notes + (Diagnostic(span, message),))


@dataclass(frozen=True)
class SourceFile:
    """The text of a file plus its display name, used to turn offsets into positions."""

    name: str
    text: str

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset (clamped into the file)."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        line_start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - line_start + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line without its newline."""
        lines = self.text.split("\n")
        if 1 <= line <= len(lines):
            return lines[line - 1].rstrip("\r")
        return ""


def render(diag: Diagnostic, source: SourceFile) -> str:
    """Render as ``file:line:col: message``, the source line, then a caret line; each note
    follows the same way, its message starting with ``note:``."""
    text = _render_one(diag.span, diag.message, source)
    for note in diag.notes:
        text += "\n" + _render_one(note.span, f"note: {note.message}", source)
    return text


def _render_one(span: Span, message: str, source: SourceFile) -> str:
    diag = Diagnostic(span, message)
    line, col = source.line_col(diag.span.start)
    if not source.text:  # e.g. a missing file: there is no line to show
        return f"{source.name}:{line}:{col}: {diag.message}"
    text = source.line_text(line)
    # The caret underlines the span when it stays on one line, else marks its start.
    end_line, end_col = source.line_col(diag.span.end)
    width = max(1, end_col - col) if end_line == line else 1
    width = min(width, max(1, len(text) - col + 1))
    # Tabs are kept in the padding so the caret lines up under tab-indented code.
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
    return f"{source.name}:{line}:{col}: {diag.message}\n{text}\n{pad}{'^' * width}"


class LeoCompileError(WorkbenchError):
    """Every error found while compiling: one exception holding all diagnostics as data.

    `diagnostics` keep their spans as offsets into `source`; `str()` renders them with
    line:col, the source line and a caret.
    """

    title = "Leo compile error"

    def __init__(self, diagnostics: list[Diagnostic], source: SourceFile) -> None:
        self.diagnostics = list(diagnostics)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        """All diagnostics rendered, separated by blank lines."""
        return "\n\n".join(render(d, self.source) for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()


class DiagnosticSink:
    """Collects diagnostics during a stage; ``raise_if_any`` ends the stage."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.items: list[Diagnostic] = []

    def error(self, span: Span, message: str) -> None:
        """Record one error; compilation continues so that more can be found."""
        self.items.append(Diagnostic(span, message))

    def raise_if_any(self) -> None:
        """Raise a LeoCompileError holding everything collected so far."""
        if self.items:
            raise LeoCompileError(self.items, self.source)


class Abort(Exception):
    """Raised inside a stage to stop at the first error whose consequences cannot be isolated.

    ``more`` holds further errors found together with it (checking a generic instance the
    lowering asked for can find several).
    """

    def __init__(self, diag: Diagnostic, *more: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diag = diag
        self.more = more

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [self.diag, *self.more]

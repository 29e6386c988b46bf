"""The command line's two consoles, results on stdout and messages on stderr, sized for where they are read.

Why a module of its own: on a terminal rich fits a table to the window, cutting cells to "unchan…" and
"invali…" — there the reader can widen the window. Piped to a file, a log or another program nobody can, so
off a terminal a table keeps its full width and no line is wrapped or cut. Every command module prints
through these two consoles, so every table behaves alike.
"""

from __future__ import annotations

from rich.align import AlignMethod
from rich.console import Console, ConsoleDimensions
from rich.style import Style
from rich.text import TextType

UNCUT = 10_000
"""Columns off a terminal: wider than any table or message the hub prints, so that none is cut or wrapped."""


class FittedConsole(Console):
    """A rich ``Console`` as wide as the terminal, or ``UNCUT`` columns when its stream is not a terminal.

    Decided at each print, not when the console is made: the same console serves a shell and Typer's test
    runner, and a command's stdout may be piped while its stderr is on the screen.
    """

    @property
    def size(self) -> ConsoleDimensions:
        screen = super().size
        return screen if self.is_terminal else ConsoleDimensions(UNCUT, screen.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self.width, self.height = new_size

    def rule(
        self,
        title: TextType = "",
        *,
        characters: str = "─",
        style: str | Style = "rule.line",
        align: AlignMethod = "center",
    ) -> None:
        """A rule as wide as the screen, or as rich's usual guess off a terminal (not ``UNCUT`` dashes)."""
        from rich.rule import Rule

        self.print(Rule(title, characters=characters, style=style, align=align), width=super().size.width)


console = FittedConsole()
err_console = FittedConsole(stderr=True)

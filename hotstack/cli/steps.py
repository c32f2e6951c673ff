"""Host steps as one line each: a mark, the step id, what changed."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from hotstack.host.step import Progress

MARKS = {
    "ok": "[green]✓[/green]", "changed": "[yellow]●[/yellow]", "would-change": "[cyan]○[/cyan]",
    "removed": "[yellow]-[/yellow]", "failed": "[red]✗[/red]",
}
WORDS = {"ok": "nothing to do", "would-change": "", "removed": "", "changed": "", "failed": ""}


def step_printer(console: Console) -> Progress:
    def show(step_id: str, status: str, details: list[str]) -> None:
        word = WORDS.get(status, "")
        text = "; ".join(details)
        line = f"{MARKS.get(status, '?')} [bold]{escape(step_id)}[/bold] {escape(word)} {escape(text)}"
        console.print(line.rstrip(), soft_wrap=True)

    return show

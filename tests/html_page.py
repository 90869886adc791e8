"""An HTML page as a browser's parser sees it, for tests: its elements and its text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

HOSTILE = (
    "<script>alert('x')</script>\"><img src=x onerror=alert(1)>'"
    '=HYPERLINK("http://x.example","click")'
)
"""Markup, both quotes and a spreadsheet formula: a value that must reach the page as text."""


@dataclass
class Parsed:
    """The elements of a page in order (tag and attributes), and its text, entities decoded."""

    elements: list[tuple[str, tuple[tuple[str, str | None], ...]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def parse(page: str) -> Parsed:
    """Parses a page; raises if it is not well nested (every element closed where opened)."""
    parsed = Parsed()
    _Parser(parsed).feed(page)
    return parsed


_VOID = {"meta", "br", "img", "input", "link", "hr"}


class _Parser(HTMLParser):
    def __init__(self, parsed: Parsed) -> None:
        super().__init__(convert_charrefs=True)
        self.parsed = parsed
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.parsed.elements.append((tag, tuple(attrs)))
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data):
        self.parsed.texts.append(data)

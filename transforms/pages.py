"""The run's HTML pages (`validation.html`, `report.html`) from the Jinja2 templates beside it,
and text for its Markdown (Prefect's artifacts and pause forms) and for a terminal.

The templates in `transforms/templates/` lay the pages out; the Python that calls `render`
computes every value they show (counts, dates, money, tables). Every value is HTML-escaped
(autoescape), each control or format character of a text shown as `?` (`visible`: a
right-to-left override in a customer id would turn its row around), and a name a template uses
but is not given is an error, never an empty string.
The pages are self-contained: inline CSS, no script, and a content security policy that lets
the browser load nothing.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

MARKDOWN_PUNCTUATION = "\\`*_{}[]<>()#+-!|~"


def render(template: str, **values: Any) -> str:
    """The page `template` (a file name in `transforms/templates/`) filled with `values`."""
    return _environment().get_template(template).render(**values)


def markdown_text(value: Any, punctuation: str = MARKDOWN_PUNCTUATION) -> str:
    """`value` as text that Markdown shows as written, on one line: each of its `punctuation`
    characters backslash-escaped, each control or format character `?` (`visible`: a line break
    in a customer id would end a table row and start rows or paragraphs of its choosing)."""
    return "".join("\\" + c if c in punctuation else c for c in visible(str(value)))


# Format characters that names are written with, and that can neither move the cursor nor turn
# the text's direction: the zero-width non-joiner and joiner (Persian and Indic names, emoji
# sequences) and the soft hyphen.
IN_NAMES = "\u200c\u200d\u00ad"


def visible(text: str, keep: str = "") -> str:
    """`text` with each control or format character but those in `keep` (and `IN_NAMES`)
    shown as `?`: a customer id or name from a hostile table may hold a terminal escape, a CR
    that rewrites the line, or a right-to-left override."""
    # Printable text holds no control or format character (Python's `isprintable`).
    if text.isprintable() or ("\n" in keep and text.replace("\n", "").isprintable()):
        return text
    kept = keep + IN_NAMES
    return "".join("?" if unicodedata.category(c)[0] == "C" and c not in kept else c for c in text)


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # here: the terminal's commands use `visible` only

    return jinja2.Environment(
        loader=jinja2.PackageLoader("transforms", "templates"),
        autoescape=True,
        finalize=_shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _shown(value: Any) -> Any:
    """A value a page shows: text `visible` (its line breaks and tabs kept: HTML shows them as
    spaces); markup the page made itself (`| safe`: the chart) as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value, keep="\n\t")
    return value

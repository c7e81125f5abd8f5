"""Errors raised at the boundary (loaders, CLI, page inputs).

Every user-facing failure is an :class:`InputError` whose message names the file, the field and
what was expected, so the app can show it as ``st.error`` and the CLI can exit 2 with it.
"""
from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input: wrong schema, unknown ids, NaN scores, mismatched lengths, ...

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    source : str, optional
        The file (or widget) the input came from.
    field : str, optional
        The field, column or key at fault.
    hint : str, optional
        How to fix it.
    excerpt : str, optional
        A piece of the file's content that shows the fault (e.g. the bad line). The CLI shows it;
        the app does not (:meth:`describe` with ``excerpt=False``): a server must never echo a
        file's content to a browser.
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None,
                 hint: str | None = None, excerpt: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        self.hint = hint
        self.excerpt = excerpt
        super().__init__(self.__str__())

    def describe(self, excerpt: bool = True) -> str:
        """The one-line text: ``source: field 'f': message[, found '...'] (hint: ...)``."""
        parts = []
        if self.source:
            parts.append(f"{self.source}")
        if self.field:
            parts.append(f"field '{self.field}'")
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if excerpt and self.excerpt:
            text += f", found '{self.excerpt}'"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def __str__(self) -> str:  # noqa: D105
        return self.describe(excerpt=True)

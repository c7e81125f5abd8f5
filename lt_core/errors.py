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
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None,
                 hint: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:  # noqa: D105
        parts = []
        if self.source:
            parts.append(f"{self.source}")
        if self.field:
            parts.append(f"field '{self.field}'")
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

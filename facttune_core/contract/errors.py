"""Errors that reach the user as one line naming the file and the key (or line)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FacttuneError(Exception):
    """A user-facing error: printed as one line, never with a traceback.

    ``where`` names the file and ``key`` the recipe key (``verify.args.top_k``) or line
    (``line 12``); ``str(err)`` renders ``where: key: message``.
    """

    def __init__(self, message: str, *, where: str | None = None, key: str | None = None) -> None:
        self.message = message
        self.where = where
        self.key = key
        super().__init__(self.render())

    def render(self) -> str:
        parts = [p for p in (self.where, self.key) if p]
        return ": ".join([*parts, self.message])

    def located(self, where: str | None = None, key: str | None = None) -> FacttuneError:
        """Return a copy that names ``where``/``key`` unless it names its own already."""
        err = type(self).__new__(type(self))
        FacttuneError.__init__(err, self.message, where=self.where or where, key=self.key or key)
        return err


class ConfigError(FacttuneError):
    """A recipe or component config is wrong (validated before anything heavy loads)."""


class UnknownComponentError(ConfigError):
    """A component name that no installed plugin registers."""


class DuplicateComponentError(FacttuneError):
    """Two plugins register the same name."""


class DataError(FacttuneError):
    """An input file (prompts, responses, a knowledge source, pairs) is malformed."""


class ComponentError(FacttuneError):
    """A component failed at run time in a way the user can fix (bad key, server down...)."""


class ProblemList(FacttuneError):
    """Several problems found at once; one line each."""

    def __init__(self, problems: list[FacttuneError]) -> None:
        self.problems = problems
        FacttuneError.__init__(self, "\n".join(p.render() for p in problems))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest known name, or the empty string."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        # also try matching the part after the plugin prefix ("tru-false" vs "hf/true-false")
        tails = {k.split("/", 1)[-1]: k for k in known}
        close_tail = difflib.get_close_matches(name.split("/", 1)[-1], list(tails), n=1, cutoff=0.6)
        close = [tails[c] for c in close_tail]
    return f" Did you mean '{close[0]}'?" if close else ""

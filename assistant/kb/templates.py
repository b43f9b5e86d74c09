"""Question templates in qa.yaml, in the syntax of Home Assistant's custom sentences (hassil):
``(what's|what is) [the] time [now]`` says "what's the time now", "what is time", ... :
alternatives in parentheses separated by ``|``, optional words in brackets.

A question with none of ``( ) [ ] |`` is a plain phrasing and used as written. A template is
parsed and expanded by the ``hassil`` package (the parser Home Assistant itself uses), so a
template that works there works here; slot lists (``{name}``) and rules (``<rule>``) have no
meaning in qa.yaml and are refused. Each expansion becomes a phrasing for the matcher and the
pocketsphinx grammar; a template that expands past ``MAX_EXPANSIONS`` is refused, because every
phrasing costs an embedding at start-up and a path in the grammar.
"""

from __future__ import annotations

import importlib.util
import itertools
import re

MAX_EXPANSIONS = 200  # phrasings one template may expand to
_SYNTAX = set("()[]|")


class TemplateError(ValueError):
    """A template that cannot be used; the message says why and how to fix it."""


def is_template(text: str) -> bool:
    return any(c in _SYNTAX for c in text)


def expand(template: str, limit: int = MAX_EXPANSIONS) -> tuple[str, ...]:
    """The phrasings of ``template`` (spaces squeezed, duplicates dropped, in hassil's order).
    A plain phrasing comes back alone. Raises TemplateError."""
    if not is_template(template):
        return (template,)
    if importlib.util.find_spec("hassil") is None:
        raise TemplateError("templates need the hassil package: `pip install hassil`")
    from hassil import parse_sentence
    from hassil.errors import HassilError
    from hassil.parser import ParseError
    from hassil.sample import sample_expression

    if "{" in template or "<" in template:
        raise TemplateError("slot lists {...} and rules <...> are not supported in qa.yaml; "
                            "write the words as alternatives: (one|two|three)")
    try:
        sentences = sample_expression(parse_sentence(template).expression)
        out: dict[str, None] = {}
        for s in itertools.islice(sentences, 50 * limit):  # duplicates may repeat a lot
            text = re.sub(r"\s+([?.!,;:])", r"\1", " ".join(s.split()))
            if text:
                out.setdefault(text)
            if len(out) > limit:
                raise TemplateError(f"expands to more than {limit} phrasings; split it into "
                                    "several templates or use fewer alternatives")
    except (ParseError, HassilError, ValueError) as exc:
        if isinstance(exc, TemplateError):
            raise
        raise TemplateError(f"is not valid ({exc}); use (a|b) for alternatives and "
                            "[word] for optional words") from None
    if not out:
        raise TemplateError("expands to no words")
    return tuple(out)

"""Sentences meant for another assistant: Home Assistant's own commands and questions (timers,
lights, weather, music, shopping lists, volume), sampled from the `home-assistant-intents`
package, so that a command for the house is not answered from qa.yaml because it shares a word
with a question there ("set a timer for ten minutes" is not "What is the time now?").

The rule is the matcher's (:meth:`Background.claims`): a query closer to one of these sentences
than to every phrasing of qa.yaml gets no answer. An intent that qa.yaml itself covers (one of
its sentences within ``COVERED_AT`` of a phrasing, as "what time is it" is) is left out, so the
knowledge base keeps every question it has. docs/matcher.md has the measurements.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCE = "home-assistant"
PACKAGE = "home_assistant_intents"
PER_INTENT = 20  # sentences drawn per intent (fewer where its templates give fewer)
SEED = 0  # the same sentences on every start, so their embeddings stay cached
COVERED_AT = 0.7  # cosine (the matcher's space) at which qa.yaml covers an intent

log = logging.getLogger(__name__)

# Names for the slots Home Assistant fills from the house itself (its areas and devices) and
# from free text; other lists come with the package (numbers, colours, states).
_FILL = {
    "en": {"area": ("kitchen", "living room", "bedroom", "office"),
           "name": ("light", "lamp", "fan", "radio", "heater", "garage door"),
           "floor": ("upstairs", "first floor"), "shopping_list_item": ("milk", "bread", "eggs"),
           "todo_list_item": ("call the bank", "laundry"), "timer_name": ("pasta", "tea"),
           "search_query": ("jazz", "the news"), "message": ("dinner is ready",),
           "zone": ("work",)},
    "es": {"area": ("cocina", "salón", "dormitorio"), "name": ("luz", "lámpara", "ventilador"),
           "floor": ("primer piso",), "shopping_list_item": ("leche", "pan"),
           "todo_list_item": ("llamar al banco",), "timer_name": ("pasta",),
           "search_query": ("jazz",), "message": ("la cena está lista",), "zone": ("trabajo",)},
    "de": {"area": ("Küche", "Wohnzimmer", "Schlafzimmer"),
           "name": ("Licht", "Lampe", "Ventilator"), "floor": ("Obergeschoss",),
           "shopping_list_item": ("Milch", "Brot"), "todo_list_item": ("Bank anrufen",),
           "timer_name": ("Pasta",), "search_query": ("Jazz",),
           "message": ("das Essen ist fertig",), "zone": ("Arbeit",)},
}


def available() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def sentences(language: str, per_intent: int = PER_INTENT,
              seed: int = SEED) -> list[tuple[str, str]]:
    """(intent, sentence) pairs drawn at random, with a fixed seed, from Home Assistant's
    sentence templates for ``language``; empty when the package is missing or has no such
    language."""
    if not available():
        return []
    import home_assistant_intents as hai
    from hassil import Intents

    known = hai.get_languages()
    lang = language if language in known else language.split("-")[0]
    data = hai.get_intents(lang) if lang in known else None
    if not data:
        return []
    intents = Intents.from_dict(data)
    fill = _FILL.get(lang.split("-")[0], {})
    rng = random.Random(seed)
    pairs: list[tuple[str, str]] = []
    for name, intent in sorted(intents.intents.items()):
        templates = [(d, s) for d in intent.data for s in d.sentences]
        seen: set[str] = set()
        for _ in range(20 * per_intent):
            if not templates or len(seen) >= per_intent:
                break
            data_part, template = rng.choice(templates)
            rules = {**intents.expansion_rules, **(data_part.expansion_rules or {})}
            lists = {**intents.slot_lists, **(data_part.slot_lists or {})}
            text = " ".join(_draw(template.expression, rules, lists, fill, rng).split())
            if text and text not in seen:
                seen.add(text)
                pairs.append((name, text))
    return pairs


def cached_sentences(language: str, cache_dir: Path | None) -> list[tuple[str, str]]:
    """:func:`sentences`, kept in ``cache_dir`` per package version (drawing them takes
    ~0.35 s here, several seconds on a Raspberry Pi; reading them back ~5 ms). An unreadable
    file is drawn again, never trusted."""
    if not available():
        return []
    version = importlib.metadata.version("home-assistant-intents")
    path = (cache_dir / "background" / f"{SOURCE}-{version}-{language}-{PER_INTENT}-{SEED}.json"
            if cache_dir is not None else None)
    if path is not None and path.is_file():
        try:
            pairs = json.loads(path.read_text(encoding="utf-8"))
            if all(isinstance(p, list) and len(p) == 2 for p in pairs):
                return [(str(i), str(t)) for i, t in pairs]
        except (OSError, ValueError):
            pass
    pairs = sentences(language)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
            tmp.write_text(json.dumps(pairs, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write %s (%s); continuing without it", path, exc)
    return pairs


def _draw(exp: object, rules: dict, lists: dict, fill: dict, rng: random.Random) -> str:
    """One random expansion of a hassil expression."""
    from hassil.expression import Alternative, ListReference, Permutation, RuleReference, TextChunk
    from hassil.expression import Sequence as Seq
    from hassil.intents import RangeSlotList, TextSlotList

    def draw(e: object) -> str:
        if isinstance(e, TextChunk):
            return e.text
        if isinstance(e, Alternative):
            return draw(rng.choice(e.items))
        if isinstance(e, Permutation):
            return " ".join(draw(i) for i in rng.sample(e.items, len(e.items)))
        if isinstance(e, Seq):
            return "".join(draw(i) for i in e.items)
        if isinstance(e, RuleReference):
            rule = rules.get(e.rule_name)
            return draw(rule.expression) if rule is not None else ""
        if isinstance(e, ListReference):
            span = e.get_inline_range()
            if span:
                return str(rng.randrange(span[0], span[1] + 1, span[2]))
            if e.list_name in fill:
                return rng.choice(fill[e.list_name])
            found = lists.get(e.list_name)
            if isinstance(found, RangeSlotList):
                stop = min(found.stop, found.start + 60 * found.step)
                return str(rng.randrange(found.start, stop + 1, found.step))
            if isinstance(found, TextSlotList) and found.values:
                return draw(rng.choice(found.values).text_in)
            return ""
        return ""

    return draw(exp)


@dataclass(frozen=True)
class Background:
    """The sentences, their intents, and their vectors (unit rows, in the space the matcher
    scores in)."""

    texts: tuple[str, ...]
    intents: tuple[str, ...]
    vecs: np.ndarray

    def without_covered(self, phrasing_vecs: np.ndarray,
                        covered_at: float = COVERED_AT) -> tuple[Background, tuple[str, ...]]:
        """Left out: every intent with a sentence within ``covered_at`` of a phrasing. Returns
        the rest and the intents left out."""
        if not self.texts or not len(phrasing_vecs):
            return self, ()
        closest = (self.vecs @ np.asarray(phrasing_vecs, dtype=np.float32).T).max(axis=1)
        covered = tuple(sorted({i for i, s in zip(self.intents, closest, strict=True)
                                if s >= covered_at}))
        keep = np.array([i not in covered for i in self.intents], dtype=bool)
        return Background(tuple(t for t, k in zip(self.texts, keep, strict=True) if k),
                          tuple(i for i, k in zip(self.intents, keep, strict=True) if k),
                          np.ascontiguousarray(self.vecs[keep])), covered

    def claims(self, query: np.ndarray, nearest: float) -> str | None:
        """The sentence ``query`` (a unit vector in the matcher's space) is closer to than to
        every phrasing (``nearest``: its cosine with the closest one), or None."""
        if not self.texts:
            return None
        sims = self.vecs @ query
        best = int(np.argmax(sims))
        return self.texts[best] if float(sims[best]) > nearest else None

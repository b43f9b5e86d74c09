"""The ``mixed`` language model of pocketsphinx: the knowledge base's trigram model statically
interpolated with pocketsphinx's general English model pruned to its most frequent words.

The general model ships only in pocketsphinx's binary trie format, whose ARPA writer crashes
past the unigrams (cmusphinx/sphinxbase#89). So its pruned part is read back through
``NGramModel.prob``: for every history ``h`` of the kept vocabulary, ``P(w | h)`` of every
kept word ``w``. Where the model has no bigram ``h w`` the score is ``bo(h) + P(w)`` (integer
log scores, rounded: off by one at most), so ``bo(h)`` is the most common ``score - P(w)``
and the bigrams are the words that differ from it by more. That takes ~40 s of CPU (3000
words, on the 2-core dev box) once per vocabulary size and is cached under
``cache_dir/pocketsphinx/general-<n>/general.arpa`` (a bigram ARPA model, ~14 MB).

Per knowledge base (cached next to its grammar): ``p = lam * p_kb + (1 - lam) * p_general``
on the union of both models' n-grams (each probability with its own model's backoff), the
backoff weights recomputed so every history's distribution sums to one, the way SRILM's
``ngram -mix-lm`` builds a static mixture; then its dictionary (CMUdict pronunciations).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .pocketsphinx_grammar import _model_path, cmudict, guess_pronunciation

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the general model's extraction changes
MIX_FORMAT = 2  # bump when the mixture changes
GENERAL_WORDS = 3000  # kept words of the general model, most frequent first
KB_WEIGHT = 0.7  # lam: the knowledge base's share of the mixture
_LOG10_BASE = math.log10(1.0001)  # pocketsphinx's integer log scores, base 1.0001
_WORD = re.compile(r"^[a-z][a-z']*$")
_FLOOR = 1e-9

Ngrams = dict[tuple[str, ...], tuple[float, float]]  # n-gram -> (probability, backoff)


def read_arpa(text: str) -> Ngrams:
    """An ARPA model's n-grams with plain (not log) probabilities and backoff weights."""
    out: Ngrams = {}
    order = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("ngram ") or line == "\\data\\":
            continue
        m = re.match(r"^\\(\d)-grams:$", line)
        if m:
            order = int(m.group(1))
            continue
        if line == "\\end\\" or not order:
            continue
        parts = line.split()
        if len(parts) < order + 1:
            continue
        words = tuple(parts[1:order + 1])
        bo = float(parts[order + 1]) if len(parts) > order + 1 else 0.0
        out[words] = (10 ** float(parts[0]), 10 ** bo)
    return out


def write_arpa(model: Ngrams, path: Path) -> None:
    orders: dict[int, list[str]] = {}
    for words, (p, bo) in sorted(model.items()):
        lp = -99.0 if words == ("<s>",) else math.log10(max(p, _FLOOR))
        line = f"{lp:.5f}\t{' '.join(words)}"
        if bo != 1.0:
            line += f"\t{math.log10(max(bo, _FLOOR)):.5f}"
        orders.setdefault(len(words), []).append(line)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n in sorted(orders):
            f.write(f"ngram {n}={len(orders[n])}\n")
        for n in sorted(orders):
            f.write(f"\n\\{n}-grams:\n" + "\n".join(orders[n]) + "\n")
        f.write("\n\\end\\\n")


def prob(model: Ngrams, words: tuple[str, ...]) -> float:
    """P(words[-1] | words[:-1]) with backoff; 0 for a word outside the model."""
    found = model.get(words)
    if found is not None:
        return found[0]
    if len(words) == 1:
        return 0.0
    history = model.get(words[:-1])
    return (history[1] if history else 1.0) * prob(model, words[1:])


def _general_arpa(n_words: int, path: Path) -> None:
    """Extract the bigram model of the general model's ``n_words`` most frequent words."""
    import pocketsphinx  # type: ignore[import-untyped]

    logmath = pocketsphinx.LogMath(1.0001)  # keep a reference: the model points to it
    lm = pocketsphinx.NGramModel(pocketsphinx.Config(loglevel="FATAL", logfn=os.devnull),
                                 logmath, str(_model_path("en-us", "en-us.lm.bin")))
    unk = lm.prob(["xyzzyq"])
    uni = {w: s for w in cmudict() if _WORD.match(w) and (s := lm.prob([w])) > unk}
    vocab = sorted(uni, key=uni.__getitem__, reverse=True)[:n_words]
    uni["</s>"] = lm.prob(["</s>"])
    total = sum(10 ** (uni[w] * _LOG10_BASE) for w in [*vocab, "</s>"])
    model: Ngrams = {(w,): (10 ** (uni[w] * _LOG10_BASE) / total, 1.0)
                     for w in [*vocab, "</s>"]}
    model[("<s>",)] = (0.0, 1.0)
    targets = [*vocab, "</s>"]
    for h in ["<s>", *vocab]:
        scores = [lm.prob([w, h]) for w in targets]
        diffs = [s - uni[w] for s, w in zip(scores, targets, strict=True)]
        bo = Counter(diffs).most_common(1)[0][0]
        model[(h,)] = (model[(h,)][0], 10 ** (bo * _LOG10_BASE))
        for w, s, d in zip(targets, scores, diffs, strict=True):
            if abs(d - bo) > 1:  # the backoff's sum is rounded: off by one at most
                model[(h, w)] = (10 ** (s * _LOG10_BASE), 1.0)
    write_arpa(model, path)


def general_arpa(cache_dir: Path, n_words: int = GENERAL_WORDS) -> Path:
    """The cached pruned general model (built on first use, ~40 s of CPU for 3000 words)."""
    source = _model_path("en-us", "en-us.lm.bin")
    key = {"format": FORMAT, "words": n_words, "source_bytes": source.stat().st_size}
    folder = cache_dir / "pocketsphinx" / f"general-{n_words}"
    try:
        if json.loads((folder / "meta.json").read_text(encoding="utf-8")) == key:
            return folder / "general.arpa"
    except (OSError, ValueError):
        pass
    log.info("pocketsphinx: extracting the %d most frequent words of the general English "
             "model (once, cached in %s)", n_words, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".general-{n_words}-", dir=folder.parent))
    try:
        _general_arpa(n_words, tmp / "general.arpa")
        (tmp / "meta.json").write_text(json.dumps(key), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / "general.arpa"


def kb_trigram(phrases: Sequence[str]) -> Ngrams:
    from pocketsphinx.lm import ArpaBoLM  # type: ignore[import-untyped]

    lm = ArpaBoLM(text="\n".join(phrases), add_start=True)
    lm.compute()
    out = io.StringIO()
    lm.write(out)
    return read_arpa(out.getvalue())


def mix(kb: Ngrams, general: Ngrams, kb_weight: float = KB_WEIGHT) -> Ngrams:
    """The static interpolation of two backoff models on the union of their n-grams."""
    def p(words: tuple[str, ...]) -> float:
        return kb_weight * prob(kb, words) + (1 - kb_weight) * prob(general, words)

    grams = sorted(set(kb) | set(general), key=len)
    out: Ngrams = {g: (p(g), 1.0) for g in grams}
    out[("<s>",)] = (0.0, 1.0)
    total = sum(out[g][0] for g in grams if len(g) == 1)
    for g in grams:
        if len(g) == 1:
            out[g] = (out[g][0] / total, 1.0)
    for n in range(2, max(map(len, grams)) + 1):
        mass: dict[tuple[str, ...], list[float]] = {}
        for g in grams:
            if len(g) == n:
                here = mass.setdefault(g[:-1], [0.0, 0.0])
                here[0] += out[g][0]
                here[1] += prob(out, g[1:])
        for h, (higher, lower) in mass.items():
            if h in out:
                bo = max(1.0 - higher, _FLOOR) / max(1.0 - lower, _FLOOR)
                out[h] = (out[h][0], bo)
    return out


def build_mixed(phrases: Sequence[str], stem: Path, cache_dir: Path,
                n_words: int = GENERAL_WORDS, kb_weight: float = KB_WEIGHT) -> None:
    """Write ``<stem>.lm.bin`` (the mixture, pocketsphinx's binary format: it loads ~10x
    faster than its ARPA text) and ``<stem>.dict`` (every word of it, CMUdict)."""
    import pocketsphinx

    general = read_arpa(general_arpa(cache_dir, n_words).read_text(encoding="utf-8"))
    model = mix(kb_trigram(phrases), general, kb_weight)
    known = cmudict()
    lines = []
    for word in sorted({g[0] for g in model if len(g) == 1} - {"<s>", "</s>"}):
        for k, phones in enumerate(known.get(word) or (guess_pronunciation(word),)):
            lines.append(f"{word if k == 0 else f'{word}({k + 1})'} {phones}")
    with tempfile.TemporaryDirectory(prefix=".mixed-", dir=stem.parent) as tmp:
        arpa, binary, words = Path(tmp, "m.arpa"), Path(tmp, "m.lm.bin"), Path(tmp, "m.dict")
        write_arpa(model, arpa)
        logmath = pocketsphinx.LogMath(1.0001)
        lm = pocketsphinx.NGramModel(pocketsphinx.Config(loglevel="FATAL", logfn=os.devnull),
                                     logmath, str(arpa))
        lm.write(str(binary), pocketsphinx.NGramModel.str_to_type("bin"))
        words.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(words, stem.with_suffix(".dict"))
        os.replace(binary, stem.with_suffix(".lm.bin"))  # last: its presence means done

"""The one spaCy pipeline: blank English tokenizer, canonical word forms in NORM, sentence boundaries."""

from __future__ import annotations

import re
from functools import cache
from typing import Iterable

import numpy as np
import spacy
from rapidfuzz import process
from rapidfuzz.distance import OSA
from spacy.attrs import IS_PUNCT, IS_SPACE, NORM, ORTH, SENT_START
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.tokens import Doc
from spacy.vocab import Vocab

# British -> American endings, applied before lemma lookup so both spellings share one form.
# Applied identically to rubric patterns and essays, so an odd rewrite ("devour" -> "devor") is harmless.
_SPELLING_RULES = [
    (re.compile(r"(?<=\w{3})is(e|es|ed|ing|ation|ations|er|ers)$"), r"iz\1"),
    (re.compile(r"(?<=\w{2})ys(e|es|ed|ing)$"), r"yz\1"),
    (re.compile(r"(?<=\w{3})our(s|ed|ing|ite|ites|able|ably)?$"), r"or\1"),
    (re.compile(r"(?<=\w{3})tre(s)?$"), r"ter\1"),
]

FUZZY_MIN_LENGTH = 7  # shorter words are too easily confused with real words
FUZZY_TWO_EDITS_LENGTH = 11  # long words may differ by two edits


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which values are in sorted_set: np.isin's job, several times faster for these small arrays."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_set, values)
    idx[idx == len(sorted_set)] = 0
    return sorted_set[idx] == values


def _edits_allowed(word: str) -> int:
    if len(word) >= FUZZY_TWO_EDITS_LENGTH:
        return 2
    if len(word) >= FUZZY_MIN_LENGTH:
        return 1
    return 0


class Canonicaliser:
    """Sets each lexeme's NORM to one canonical form: American spelling, lemma, misspelling corrected.

    Work is done once per distinct word (lexeme), not per token, so the per-essay cost is small.
    Fuzzy correction only ever maps an unknown long word onto a word some rubric uses (a term).
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        lookups = load_lookups("en", ["lemma_lookup", "lexeme_norm"])
        self._lemmas = lookups.get_table("lemma_lookup")
        self._norms = lookups.get_table("lexeme_norm")
        self._known: set[str] = set(self._lemmas.values())
        self._terms: set[str] = set()
        self._terms_by_initial: dict[str, list[str]] = {}
        self._base: dict[str, str] = {}
        self._fuzzy: dict[str, str] = {}
        self._done: set[int] = set()

    # -- word forms ---------------------------------------------------------
    def base_form(self, lower: str) -> str:
        """Canonical form without fuzzy correction (cached per distinct word)."""
        form = self._base.get(lower)
        if form is None:
            form = self._compute_base(lower)
            self._base[lower] = form
        return form

    def _compute_base(self, word: str) -> str:
        if not word[:1].isalpha():
            return word
        american = self._norms.get(word) or word
        for pattern, repl in _SPELLING_RULES:
            american = pattern.sub(repl, american)
        lemma = self._lemmas.get(american) or self._lemmas.get(word)
        if lemma:
            return lemma
        if american in self._known or word in self._lemmas:
            return american
        if len(american) > 4 and american.endswith("s") and not american.endswith(("ss", "us", "is", "'s")):
            if american.endswith("ies"):
                return american[:-3] + "y"
            return american[:-1]
        return american

    def is_known(self, form: str) -> bool:
        return form in self._known or form in self._lemmas or form in self._terms

    def canonical(self, lower: str) -> str:
        """Canonical form, with bounded fuzzy correction onto a rubric term."""
        form = self.base_form(lower)
        edits = _edits_allowed(form)
        if not edits or not form.isalpha() or self.is_known(form):
            return form
        fixed = self._fuzzy.get(form)
        if fixed is None:
            fixed = self._correct(form, edits)
            self._fuzzy[form] = fixed
        return fixed

    def _correct(self, form: str, edits: int) -> str:
        candidates = [t for t in self._terms_by_initial.get(form[0], ()) if abs(len(t) - len(form)) <= edits]
        if not candidates:
            return form
        best = process.extract(form, candidates, scorer=OSA.distance, score_cutoff=edits, limit=2)
        if not best:
            return form
        # Two equally close terms: ambiguous, so leave the word alone.
        if len(best) > 1 and best[0][1] == best[1][1]:
            return form
        return best[0][0]

    # -- terms --------------------------------------------------------------
    def add_terms(self, words: Iterable[str]) -> None:
        """Register words used by a rubric; they become targets for fuzzy correction."""
        new = {self.base_form(w.lower()) for w in words if w} - self._terms
        new = {w for w in new if w.isalpha()}
        if not new:
            return
        self._terms |= new
        for term in new:
            if len(term) >= FUZZY_MIN_LENGTH:
                self._terms_by_initial.setdefault(term[0], []).append(term)
        # Corrections made before these terms existed may now differ: recompute lazily.
        self._fuzzy.clear()
        self._done.clear()

    # -- pipeline component -------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        orths = doc.to_array(ORTH)
        for orth in set(orths.tolist()) - self._done:
            lex = self.vocab[orth]
            lex.norm_ = self.canonical(lex.lower_)
            self._done.add(orth)
        return doc


class SentenceSplitter:
    """Sentence boundaries from terminal punctuation and line breaks, set in one array write.

    Faster than spaCy's Sentencizer (no per-token Python objects); a line break always ends a sentence,
    so headings and list items without a full stop stand alone.
    """

    TERMINALS = (".", "!", "?", "...", "…", "?!", "!?", "!!", "??")

    def __init__(self, vocab: Vocab) -> None:
        self._terminals = np.array(sorted(vocab.strings.add(t) for t in self.TERMINALS), dtype=np.uint64)
        self._newline_ws: dict[int, bool] = {}
        self._vocab = vocab

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        arr = doc.to_array([ORTH, IS_PUNCT, IS_SPACE])
        orth, punct, space = arr[:, 0], arr[:, 1].astype(bool), arr[:, 2].astype(bool)
        starts = np.full(n, -1, dtype=np.int32)
        starts[0] = 1
        for i in np.flatnonzero(space).tolist():
            if self._has_newline(int(orth[i])):
                starts[i] = -1
                if i + 1 < n:
                    starts[i + 1] = 1
        for i in np.flatnonzero(member(orth, self._terminals)).tolist():
            j = i + 1
            # closing quotes and brackets stay with the sentence they close
            while j < n and punct[j] and not space[j]:
                j += 1
            if j < n:
                starts[j] = 1
        doc.from_array([SENT_START], starts.reshape(-1, 1).astype(np.uint64))
        return doc

    def _has_newline(self, orth: int) -> bool:
        known = self._newline_ws.get(orth)
        if known is None:
            known = self._newline_ws[orth] = "\n" in self._vocab.strings[orth]
        return known


@Language.factory("essaycoach_canonical")
def make_canonicaliser(nlp: Language, name: str) -> Canonicaliser:
    return Canonicaliser(nlp.vocab)


@Language.factory("essaycoach_sentences")
def make_sentence_splitter(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp.vocab)


def build_nlp() -> Language:
    """Build a new pipeline (use get_nlp() for the shared one)."""
    nlp = spacy.blank("en")
    canon = nlp.add_pipe("essaycoach_canonical")
    nlp.add_pipe("essaycoach_sentences")
    # Contractions ("wasn't" -> "was" + "n't") carry a token-level NORM from the tokenizer's special
    # cases, which hides the lexeme NORM we set: put canonical forms into those rules once, here.
    nlp.tokenizer.rules = {
        text: [{**tok, NORM: canon.base_form(str(tok[NORM]).lower())} if NORM in tok else tok for tok in toks]
        for text, toks in nlp.tokenizer.rules.items()
    }
    return nlp


@cache
def get_nlp() -> Language:
    """The process-wide pipeline, built on first use, never at import time."""
    return build_nlp()


def canonicaliser(nlp: Language) -> Canonicaliser:
    return nlp.get_pipe("essaycoach_canonical")

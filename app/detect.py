"""Concept, misconception and skill detection: rubric patterns compiled once into spaCy matchers, run per essay."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Iterable, TypedDict

import numpy as np
import yaml
from spacy.attrs import IDX, IS_DIGIT, IS_PUNCT, IS_SPACE, LENGTH, LIKE_NUM, LOWER, NORM, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.schemas import validate_token_pattern
from spacy.tokens import Doc

from .nlp import canonicaliser, member
from .rubric import SKILL_IDS, Concept, Paraphrase, Patterns, Rubric

# A sentence "develops" a concept only if it is not a bare list: at least this many words per concept named.
WORDS_PER_CONCEPT_DEVELOPED = 6
# A skill's evidence lists its first few instances (its count covers all): enough to show, cheap to send.
MAX_SKILL_EVIDENCE = 10
YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)s?$")


class Evidence(TypedDict):
    """Where something was found: the words, their character offsets, and their sentence."""

    text: str
    start: int
    end: int
    sentence: str


@dataclass
class ConceptMatch:
    id: str
    found: bool
    developed: bool
    precise: bool | None
    evidence: list[Evidence]


@dataclass
class SkillMatch:
    id: str
    found: bool
    count: int
    evidence: list[Evidence]


@dataclass
class Detection:
    word_count: int
    sentence_count: int
    concepts: list[ConceptMatch]
    misconceptions: dict[str, list[Evidence]]
    skills: list[SkillMatch]
    relevance: float  # share of sentences that touch a concept or the question's words
    best_sentence: Evidence | None = None
    sentence_scores: list[float] = field(default_factory=list)


# -- compiling ----------------------------------------------------------------
def token_pattern_errors(pattern: Any) -> list[str]:
    """What spaCy's Matcher would reject in one token pattern (empty list when it is fine)."""
    if not isinstance(pattern, list) or not all(isinstance(t, dict) for t in pattern):
        return ["a token pattern is a list of token descriptions, e.g. [{LOWER: general}, {LOWER: secretary}]"]
    errors = [str(e) for e in validate_token_pattern(pattern)]
    if errors:
        return errors
    try:
        Matcher(_scratch_vocab(), validate=True).add("check", [pattern])
    except Exception as exc:  # spaCy raises several types for a bad pattern; all mean "invalid"
        return [str(exc).splitlines()[0]]
    return []


@cache
def _scratch_vocab():  # type: ignore[no-untyped-def]
    from spacy.vocab import Vocab

    return Vocab()


@dataclass(frozen=True)
class _CompiledParaphrase:
    key: str
    groups: tuple[frozenset[int], ...]
    window: int
    unless: frozenset[int]


@dataclass(frozen=True)
class _TokenGroup:
    """One rubric item's token patterns in their own Matcher, run only where one of them could match."""

    matcher: Matcher
    # per pattern: sets of words a sentence must hold one of each of; () = can match anywhere
    required: tuple[tuple[frozenset[int], ...], ...]

    def could_match(self, words: set[int]) -> bool:
        return any(all(words & req for req in alternative) for alternative in self.required)


@dataclass
class CompiledRubric:
    """A rubric's patterns compiled into matchers, once per rubric version per process."""

    rubric: Rubric
    phrases: PhraseMatcher
    tokens: list[_TokenGroup]  # one per rubric item with token patterns
    token_anchors: np.ndarray  # every required word of every pattern, for one array lookup per essay
    token_index: dict[int, list[int]]  # word -> groups with a pattern whose first required set has it
    paraphrases: list[_CompiledParaphrase]
    paraphrase_words: np.ndarray
    skill_min: dict[str, int]
    skill_labels: dict[str, str]
    skill_feedback: dict[str, dict[str, str]]


@cache
def builtin_skills() -> dict[str, dict[str, Any]]:
    text = resources.files("app").joinpath("data/skills.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _words_of(rubric: Rubric) -> Iterable[str]:
    def block(p: Patterns) -> Iterable[str]:
        # Variants are misspellings: they must never become targets that other misspellings snap to.
        for phrase in [*p.phrases, *p.exclude]:
            yield from re.findall(r"[^\W\d_]+", phrase)
        for para in p.paraphrases:
            for group in para.all:
                yield from group
            yield from para.unless
        for pattern in p.token_patterns:
            for spec in pattern:
                # LEMMA/NORM values are canonical forms, so misspellings should reach them; LOWER/TEXT/ORTH
                # ask for the word exactly as written, so they are not fuzzy-correction targets.
                for attr in ("LEMMA", "NORM"):
                    value = spec.get(attr)
                    if isinstance(value, str):
                        yield value
                    elif isinstance(value, dict):
                        yield from (v for v in value.get("IN", []) if isinstance(v, str))

    for c in rubric.concepts:
        yield from block(c)
        if c.precision:
            yield from block(c.precision)
    for m in rubric.misconceptions:
        yield from block(m)


def _phrase_variants(phrase: str) -> list[str]:
    # "yes-men" is also written "yes men" and "yesmen".
    out = [phrase]
    if "-" in phrase:
        out += [phrase.replace("-", " "), phrase.replace("-", "")]
    return out


def _canonical_pattern(nlp: Language, pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """LEMMA and NORM values in token patterns are compared with our canonical form (stored in NORM)."""
    canon = canonicaliser(nlp)
    out = copy.deepcopy(pattern)  # never mutate the rubric's own pattern lists

    def conv(value: Any) -> Any:
        if isinstance(value, str):
            return canon.base_form(value.lower())
        if isinstance(value, dict):
            return {k: ([canon.base_form(v.lower()) for v in vals] if k in ("IN", "NOT_IN") else conv(vals)) for k, vals in value.items()}
        return value

    for tok in out:
        for attr in ("LEMMA", "NORM"):
            if attr in tok:
                tok["NORM"] = conv(tok.pop(attr))
    return out


_LITERAL_ATTRS = ("LOWER", "NORM", "LEMMA", "ORTH", "TEXT")


def _required_words(pattern: list[dict[str, Any]]) -> list[list[str]]:
    """For each token the pattern cannot skip and that names literal words: those words."""
    out = []
    for spec in pattern:
        op = str(spec.get("OP", ""))
        if op in ("?", "*", "!") or op.startswith(("{0", "{,")):
            continue
        for attr in _LITERAL_ATTRS:
            value = spec.get(attr)
            values = [value] if isinstance(value, str) else value.get("IN") if isinstance(value, dict) and set(value) == {"IN"} else None
            if values:
                out.append([str(v) for v in values])
                break
    return out


def compile_rubric(nlp: Language, rubric: Rubric) -> CompiledRubric:
    canon = canonicaliser(nlp)
    canon.add_terms(_words_of(rubric))
    phrases = PhraseMatcher(nlp.vocab, attr="NORM")
    tokens: list[_TokenGroup] = []
    paraphrases: list[_CompiledParaphrase] = []
    para_words: set[int] = set()

    def word_hash(word: str) -> int:
        return nlp.vocab.strings.add(canon.canonical(word.lower()))

    def add_block(key: str, p: Patterns) -> None:
        texts = [v for phrase in [*p.phrases, *p.variants] for v in _phrase_variants(phrase)]
        if texts:
            phrases.add(key, list(nlp.pipe(texts)))
        if p.exclude:
            phrases.add("exclude|" + key, list(nlp.pipe([v for e in p.exclude for v in _phrase_variants(e)])))
        if p.token_patterns:
            matcher = Matcher(nlp.vocab, validate=True)
            matcher.add(key, [_canonical_pattern(nlp, tp) for tp in p.token_patterns])
            # each required word in its written and its canonical form; detect checks LOWER and NORM
            # A set holding a stop word or punctuation ("in", "was", ",") is in nearly every sentence:
            # no use as a filter, and it would make every sentence a candidate.
            required = tuple(
                tuple(
                    frozenset(nlp.vocab.strings.add(f) for w in words for f in (w.lower(), canon.base_form(w.lower())))
                    for words in _required_words(tp)
                    if not any(w.lower() in STOP_WORDS or not w.isalnum() for w in words)
                )
                for tp in p.token_patterns
            )
            tokens.append(_TokenGroup(matcher, required))
        for para in p.paraphrases:
            groups = tuple(frozenset(word_hash(w) for w in g) for g in para.all)
            unless = frozenset(word_hash(w) for w in para.unless)
            paraphrases.append(_CompiledParaphrase(key, groups, para.window, unless))
            para_words.update(*groups)

    for c in rubric.concepts:
        add_block("concept|" + c.id, c)
        if c.precision:
            add_block("precision|" + c.id, c.precision)
    for m in rubric.misconceptions:
        add_block("misconception|" + m.id, m)

    builtin = builtin_skills()
    skill_min: dict[str, int] = {}
    labels: dict[str, str] = {}
    feedback: dict[str, dict[str, str]] = {}
    for sid in SKILL_IDS:
        conf = rubric.skill(sid)
        base = builtin.get(sid, {})
        skill_min[sid] = conf.min_count or int(base.get("min_count", 1))
        labels[sid] = conf.label or base.get("label", sid)
        feedback[sid] = {
            "found": conf.feedback.found or base.get("feedback", {}).get("found", ""),
            "missing": conf.feedback.missing or base.get("feedback", {}).get("missing", ""),
        }
        if not conf.enabled:
            continue
        words = [*base.get("phrases", []), *conf.phrases]
        if sid == "evidence":
            words += conf.names
        if sid == "focus":
            words += conf.terms or _question_terms(rubric)
        if words:
            phrases.add("skill|" + sid, list(nlp.pipe(words)))
    all_anchors = sorted({a for g in tokens for alt in g.required for words in alt for a in words})
    token_index: dict[int, list[int]] = {}
    for i, g in enumerate(tokens):
        for alt in g.required:
            for word in alt[0] if alt else ():
                token_index.setdefault(word, []).append(i)
    return CompiledRubric(rubric, phrases, tokens, np.array(all_anchors, dtype=np.uint64), token_index, paraphrases, np.array(sorted(para_words), dtype=np.uint64), skill_min, labels, feedback)


_STOP = {"what", "which", "extent", "years", "hands", "there", "their", "would", "could", "explain", "assess", "how", "far", "the", "and", "was", "were", "this", "that", "with", "from", "into", "in", "of", "to", "a", "an", "far", "why", "did", "does"}


def _question_terms(rubric: Rubric) -> list[str]:
    words = {w.lower() for q in rubric.questions for w in re.findall(r"[^\W\d_]{5,}", q)}
    return sorted(words - _STOP)


# -- detecting ----------------------------------------------------------------
class _Layout:
    """Token and sentence offsets as arrays, so evidence needs no per-token Python objects."""

    def __init__(self, doc: Doc, text: str | None) -> None:
        self.text = doc.text if text is None else text  # Doc.text re-joins every token: avoid it
        arr = doc.to_array([IDX, LENGTH, IS_PUNCT, IS_SPACE, SENT_START]).astype(np.int64)
        self.tok_start = arr[:, 0]
        self.tok_end = arr[:, 0] + arr[:, 1]
        is_word = (arr[:, 2] == 0) & (arr[:, 3] == 0)
        bounds = np.flatnonzero(arr[:, 4] == 1).tolist() if len(doc) else []
        if len(doc) and (not bounds or bounds[0] != 0):
            bounds = [0, *bounds]
        words_before = np.concatenate([[0], np.cumsum(is_word)])
        self.sents: list[tuple[int, int]] = []
        self.sent_words: list[int] = []
        for a, b in zip(bounds, [*bounds[1:], len(doc)]):
            words = int(words_before[b] - words_before[a])
            if words:  # whitespace-only and punctuation-only "sentences" are not sentences
                self.sents.append((a, b))
                self.sent_words.append(words)
        self.starts = [a for a, _ in self.sents]
        self._sentence_texts: dict[int, str] = {}
        self.word_count = int(words_before[-1])
        # token -> sentence, for the many lookups below (tokens between sentences map to the one before)
        if self.sents:
            marks = np.zeros(len(doc), dtype=np.int64)
            marks[self.starts[1:]] = 1
            self._sent_of: list[int] = np.cumsum(marks).tolist()
        else:
            self._sent_of = [0] * len(doc)

    def sent_index(self, i: int) -> int:
        return self._sent_of[i]

    def chars(self, start: int, end: int) -> tuple[int, int]:
        return int(self.tok_start[start]), int(self.tok_end[end - 1])

    def sentence_text(self, si: int) -> str:
        text = self._sentence_texts.get(si)
        if text is None:
            a, b = self.sents[si]
            s, e = self.chars(a, b)
            text = self._sentence_texts[si] = self.text[s:e].strip()
        return text

    def evidence(self, spans: list[tuple[int, int]]) -> list[Evidence]:
        out: list[Evidence] = []
        for s, e in spans:
            cs, ce = self.chars(s, e)
            out.append({"text": self.text[cs:ce], "start": cs, "end": ce, "sentence": self.sentence_text(self.sent_index(s)) if self.sents else ""})
        return out


def detect(doc: Doc, compiled: CompiledRubric, text: str | None = None) -> Detection:
    """Find every concept, misconception and skill of the rubric in one processed essay.

    `text` is the string the doc was made from, if the caller has it (saves rebuilding it).
    """
    strings = doc.vocab.strings
    lay = _Layout(doc, text)
    sent_index = lay.sent_index
    n_sents = len(lay.sents)

    hits: dict[str, list[tuple[int, int]]] = {}
    for match_id, start, end in [*compiled.phrases(doc), *_token_matches(doc, compiled, lay)]:
        hits.setdefault(strings[match_id], []).append((start, end))
    for key, start, end in _paraphrase_hits(doc, compiled, lay):
        hits.setdefault(key, []).append((start, end))
    if compiled.rubric.skill("evidence").enabled:
        hits.setdefault("skill|evidence", []).extend(_numbers(doc, lay))

    def spans(key: str) -> list[tuple[int, int]]:
        found = hits.get(key)
        if not found:
            return []
        excluded = hits.get("exclude|" + key)
        if excluded:
            found = [(s, e) for s, e in found if not any(s < xe and xs < e for xs, xe in excluded)]
        # Merge overlapping spans of the same key (one quote, not several overlapping ones), in one sweep.
        kept: list[tuple[int, int]] = []
        for s, e in sorted(set(found)):
            if kept and s < kept[-1][1]:
                kept[-1] = (kept[-1][0], max(e, kept[-1][1]))
            else:
                kept.append((s, e))
        return kept

    rubric = compiled.rubric
    concept_spans = {c.id: spans("concept|" + c.id) for c in rubric.concepts}
    skill_spans = {sid: spans("skill|" + sid) for sid in SKILL_IDS if rubric.skill(sid).enabled}

    # Per sentence: how many concepts it names, and whether it explains or judges.
    concepts_in_sentence = [0] * n_sents
    for spl in concept_spans.values():
        for si in {sent_index(s) for s, _ in spl}:
            concepts_in_sentence[si] += 1
    arguing = [False] * n_sents
    for sid in ("explanation", "judgement"):
        for s, _ in skill_spans.get(sid, []):
            arguing[sent_index(s)] = True
    sent_words = lay.sent_words

    def develops(si: int) -> bool:
        not_a_list = sent_words[si] >= WORDS_PER_CONCEPT_DEVELOPED * max(concepts_in_sentence[si], 1)
        return not_a_list and (arguing[si] or (si + 1 < n_sents and arguing[si + 1] and concepts_in_sentence[si + 1] <= 1))

    concepts = []
    for c in rubric.concepts:
        spl = concept_spans[c.id]
        sis = {sent_index(s) for s, _ in spl}
        concepts.append(ConceptMatch(c.id, bool(spl), any(develops(si) for si in sis), _precise(c, spl, spans, sent_index), lay.evidence(spl)))

    misconceptions = {m.id: lay.evidence(spl) for m in rubric.misconceptions if (spl := spans("misconception|" + m.id))}

    relevant = set()
    for spl in [*concept_spans.values(), skill_spans.get("focus", [])]:
        relevant.update(sent_index(s) for s, _ in spl)
    relevance = len(relevant) / n_sents if n_sents else 0.0

    skills = []
    for sid in SKILL_IDS:
        if sid not in skill_spans:
            continue
        spl = skill_spans[sid]
        count = len({lay.text[slice(*lay.chars(s, e))].lower() for s, e in spl}) if sid == "evidence" else len(spl)
        if sid == "focus":
            found = _focused(lay, spl, relevance, compiled.skill_min[sid])
        else:
            found = count >= compiled.skill_min[sid]
        skills.append(SkillMatch(sid, found, count, lay.evidence(spl[:MAX_SKILL_EVIDENCE])))

    scores = [concepts_in_sentence[i] * 2 + (2 if arguing[i] else 0) + min(sent_words[i], 40) / 40 for i in range(n_sents)]
    best = None
    if scores and max(scores) >= 3:
        bi = int(np.argmax(scores))
        text = lay.sentence_text(bi)
        s, e = lay.chars(*lay.sents[bi])
        best = {"text": text, "start": s, "end": e, "sentence": text}
    return Detection(lay.word_count, n_sents, concepts, misconceptions, skills, relevance, best, scores)


def _precise(concept: Concept, spl: list[tuple[int, int]], spans: Any, sent_index: Any) -> bool | None:
    if concept.precision is None:
        return None
    near = {sent_index(s) + d for s, _ in spl for d in (-1, 0, 1)}
    return any(sent_index(s) in near for s, _ in spans("precision|" + concept.id))


def _focused(lay: _Layout, spl: list[tuple[int, int]], relevance: float, min_count: int) -> bool:
    """On the question: enough sentences touch it, and the opening or the ending uses its words."""
    if not spl or relevance < 0.4:
        return False
    text = lay.text
    body = text.strip()
    offset = len(text) - len(text.lstrip())
    paras = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    first_end = offset + (len(paras[0]) if len(paras) > 1 else min(len(body), 600))
    last_start = offset + len(body) - (len(paras[-1]) if len(paras) > 1 else min(len(body), 600))
    ends = sum(1 for s, _ in spl if lay.tok_start[s] < first_end or lay.tok_start[s] >= last_start)
    return ends >= max(min_count, 1)


def _token_matches(doc: Doc, compiled: CompiledRubric, lay: _Layout) -> list[tuple[int, int, int]]:
    """Run each item's token patterns only over sentences holding every word one of them requires.

    The Matcher visits every token in Python; one array lookup rules most sentences out.
    """
    if not compiled.tokens or not lay.sents:
        return []
    arr = doc.to_array([LOWER, NORM])
    hit = member(arr[:, 0], compiled.token_anchors) | member(arr[:, 1], compiled.token_anchors)
    present: dict[int, set[int]] = {}  # sentence -> required words it holds
    for i in np.flatnonzero(hit).tolist():
        present.setdefault(lay.sent_index(i), set()).update((int(arr[i, 0]), int(arr[i, 1])))
    groups, index = compiled.tokens, compiled.token_index
    everywhere = [g for g, group in enumerate(groups) if not all(group.required)]  # a pattern needing no word
    out = []
    for si in range(len(lay.sents)):
        words = present.get(si, set())
        chosen = [g for g in sorted({g for w in words for g in index.get(w, ())}) if groups[g].could_match(words)]
        chosen += [g for g in everywhere if g not in chosen]
        if chosen:
            a, b = lay.sents[si]
            span = doc[a:b]
            for g in chosen:
                out.extend((m, s + a, e + a) for m, s, e in groups[g].matcher(span))
    return out


_PERCENT = {"%", "percent", "per"}


def _numbers(doc: Doc, lay: _Layout) -> list[tuple[int, int]]:
    """Years (1500-2099, also '1920s') and percentages, as precise evidence."""
    arr = doc.to_array([LIKE_NUM, IS_DIGIT])
    out = []
    for i in np.flatnonzero(arr[:, 0] | arr[:, 1]).tolist():
        word = lay.text[slice(*lay.chars(i, i + 1))]
        if YEAR.match(word):
            out.append((i, i + 1))
        elif i + 1 < len(doc) and lay.text[slice(*lay.chars(i + 1, i + 2))].lower() in _PERCENT:
            out.append((i, i + 2))
    return out


def _paraphrase_hits(doc: Doc, compiled: CompiledRubric, lay: _Layout) -> list[tuple[str, int, int]]:
    if not compiled.paraphrases or not lay.sents:
        return []
    norms = doc.to_array(NORM)
    positions = np.flatnonzero(member(norms, compiled.paraphrase_words))
    if not len(positions):
        return []
    by_word: dict[int, list[int]] = {}
    for i, w in zip(positions.tolist(), norms[positions].tolist()):
        by_word.setdefault(w, []).append(i)
    present = by_word.keys()
    sentence_words: dict[int, set[int]] = {}
    out = []
    for para in compiled.paraphrases:
        if not all(present & g for g in para.groups):  # set intersection in C rules most out
            continue
        group_pos = [sorted(i for w in present & g for i in by_word[w]) for g in para.groups]
        for anchor in group_pos[0]:
            si = lay.sent_index(anchor)
            a, b = lay.sents[si]
            chosen = [anchor]
            for others in group_pos[1:]:
                near = [i for i in others if a <= i < b and abs(i - anchor) <= para.window and i not in chosen]
                if not near:
                    break
                chosen.append(min(near, key=lambda i: abs(i - anchor)))
            else:
                lo, hi = min(chosen), max(chosen)
                if hi - lo > para.window:
                    continue
                if para.unless:
                    if si not in sentence_words:
                        sentence_words[si] = set(norms[a:b].tolist())
                    if para.unless & sentence_words[si]:
                        continue
                out.append((para.key, lo, hi + 1))
    return out

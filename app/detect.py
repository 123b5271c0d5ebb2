"""Concept, misconception and skill detection: rubric patterns compiled once into spaCy matchers, run per essay."""

from __future__ import annotations

import bisect
import copy
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Iterable

import numpy as np
import yaml
from spacy.attrs import NORM
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.schemas import validate_token_pattern
from spacy.tokens import Doc, Span

from .nlp import canonicaliser
from .rubric import SKILL_IDS, Concept, Paraphrase, Patterns, Rubric

# A sentence "develops" a concept only if it is not a bare list: at least this many words per concept named.
WORDS_PER_CONCEPT_DEVELOPED = 6
YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)s?$")


@dataclass(frozen=True)
class Evidence:
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


@dataclass
class CompiledRubric:
    """A rubric's patterns compiled into matchers, once per rubric version per process."""

    rubric: Rubric
    phrases: PhraseMatcher
    tokens: Matcher
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
        for phrase in [*p.phrases, *p.variants, *p.exclude]:
            yield from re.findall(r"[^\W\d_]+", phrase)
        for para in p.paraphrases:
            for group in para.all:
                yield from group
            yield from para.unless

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


def compile_rubric(nlp: Language, rubric: Rubric) -> CompiledRubric:
    canon = canonicaliser(nlp)
    canon.add_terms(_words_of(rubric))
    phrases = PhraseMatcher(nlp.vocab, attr="NORM")
    tokens = Matcher(nlp.vocab, validate=True)
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
            tokens.add(key, [_canonical_pattern(nlp, tp) for tp in p.token_patterns])
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
    tokens.add("skill|evidence", [[{"TEXT": {"REGEX": YEAR.pattern}}], [{"LIKE_NUM": True}, {"LOWER": {"IN": ["%", "percent", "per"]}}]])
    return CompiledRubric(rubric, phrases, tokens, paraphrases, np.array(sorted(para_words), dtype=np.uint64), skill_min, labels, feedback)


_STOP = {"what", "which", "extent", "years", "hands", "there", "their", "would", "could", "explain", "assess", "how", "far", "the", "and", "was", "were", "this", "that", "with", "from", "into", "in", "of", "to", "a", "an", "far", "why", "did", "does"}


def _question_terms(rubric: Rubric) -> list[str]:
    words = {w.lower() for q in rubric.questions for w in re.findall(r"[^\W\d_]{5,}", q)}
    return sorted(words - _STOP)


# -- detecting ----------------------------------------------------------------
def detect(doc: Doc, compiled: CompiledRubric) -> Detection:
    """Find every concept, misconception and skill of the rubric in one processed essay."""
    strings = doc.vocab.strings
    sents = [s for s in doc.sents if not s.text.isspace()]
    starts = [s.start for s in sents]

    def sent_index(i: int) -> int:
        return max(bisect.bisect_right(starts, i) - 1, 0)

    hits: dict[str, list[tuple[int, int]]] = {}
    for match_id, start, end in [*compiled.phrases(doc), *compiled.tokens(doc)]:
        hits.setdefault(strings[match_id], []).append((start, end))
    for key, start, end in _paraphrase_hits(doc, compiled, sents, starts):
        hits.setdefault(key, []).append((start, end))

    def spans(key: str) -> list[tuple[int, int]]:
        found = hits.get(key, [])
        excluded = hits.get("exclude|" + key, [])
        kept = [(s, e) for s, e in found if not any(s < xe and xs < e for xs, xe in excluded)]
        # Drop spans inside a longer span of the same key; keep order of appearance.
        kept = sorted(set(kept))
        return [(s, e) for s, e in kept if not any((os_ <= s and e <= oe) and (os_, oe) != (s, e) for os_, oe in kept)]

    def evidence(span_list: list[tuple[int, int]]) -> list[Evidence]:
        out = []
        for s, e in span_list:
            span = doc[s:e]
            sent = sents[sent_index(s)] if sents else span
            out.append(Evidence(span.text, span.start_char, span.end_char, sent.text.strip()))
        return out

    rubric = compiled.rubric
    concept_spans = {c.id: spans("concept|" + c.id) for c in rubric.concepts}
    skill_spans = {sid: spans("skill|" + sid) for sid in SKILL_IDS if rubric.skill(sid).enabled}

    # Per sentence: how many concepts it names, and whether it explains or judges.
    concepts_in_sentence = [0] * len(sents)
    for spl in concept_spans.values():
        for si in {sent_index(s) for s, _ in spl}:
            concepts_in_sentence[si] += 1
    arguing = [False] * len(sents)
    for sid in ("explanation", "judgement"):
        for s, _ in skill_spans.get(sid, []):
            arguing[sent_index(s)] = True
    sent_words = [sum(1 for t in s if not (t.is_punct or t.is_space)) for s in sents]

    def develops(si: int) -> bool:
        not_a_list = sent_words[si] >= WORDS_PER_CONCEPT_DEVELOPED * max(concepts_in_sentence[si], 1)
        return not_a_list and (arguing[si] or (si + 1 < len(sents) and arguing[si + 1] and concepts_in_sentence[si + 1] <= 1))

    concepts = []
    for c in rubric.concepts:
        spl = concept_spans[c.id]
        sis = {sent_index(s) for s, _ in spl}
        concepts.append(ConceptMatch(c.id, bool(spl), any(develops(si) for si in sis), _precise(c, spl, spans, sent_index), evidence(spl)))

    misconceptions = {m.id: evidence(spl) for m in rubric.misconceptions if (spl := spans("misconception|" + m.id))}

    relevant = set()
    for spl in [*concept_spans.values(), skill_spans.get("focus", [])]:
        relevant.update(sent_index(s) for s, _ in spl)
    relevance = len(relevant) / len(sents) if sents else 0.0

    skills = []
    for sid in SKILL_IDS:
        if sid not in skill_spans:
            continue
        spl = skill_spans[sid]
        count = len({doc[s:e].text.lower() for s, e in spl}) if sid == "evidence" else len(spl)
        if sid == "focus":
            found = _focused(doc, spl, relevance, compiled.skill_min[sid])
        else:
            found = count >= compiled.skill_min[sid]
        skills.append(SkillMatch(sid, found, count, evidence(spl)))

    scores = [concepts_in_sentence[i] * 2 + (2 if arguing[i] else 0) + min(sent_words[i], 40) / 40 for i in range(len(sents))]
    best = None
    if sents and max(scores) >= 3:
        b = sents[int(np.argmax(scores))]
        best = Evidence(b.text.strip(), b.start_char, b.end_char, b.text.strip())
    word_count = sum(sent_words) if sents else 0
    return Detection(word_count, len(sents), concepts, misconceptions, skills, relevance, best, scores)


def _precise(concept: Concept, spl: list[tuple[int, int]], spans: Any, sent_index: Any) -> bool | None:
    if concept.precision is None:
        return None
    near = {sent_index(s) + d for s, _ in spl for d in (-1, 0, 1)}
    return any(sent_index(s) in near for s, _ in spans("precision|" + concept.id))


def _focused(doc: Doc, spl: list[tuple[int, int]], relevance: float, min_count: int) -> bool:
    """On the question: enough sentences touch it, and the opening or the ending uses its words."""
    if not spl or relevance < 0.4:
        return False
    text = doc.text.strip()
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    first_end = len(paras[0]) if len(paras) > 1 else min(len(text), 600)
    last_start = len(text) - (len(paras[-1]) if len(paras) > 1 else min(len(text), 600))
    offset = len(doc.text) - len(doc.text.lstrip())
    ends = sum(1 for s, _ in spl if doc[s].idx - offset < first_end or doc[s].idx - offset >= last_start)
    return ends >= max(min_count, 1)


def _paraphrase_hits(doc: Doc, compiled: CompiledRubric, sents: list[Span], starts: list[int]) -> list[tuple[str, int, int]]:
    if not compiled.paraphrases or not len(doc):
        return []
    norms = doc.to_array(NORM)
    positions = np.flatnonzero(np.isin(norms, compiled.paraphrase_words))
    if not len(positions):
        return []
    by_word: dict[int, list[int]] = {}
    for i in positions.tolist():
        by_word.setdefault(int(norms[i]), []).append(i)
    out = []
    for para in compiled.paraphrases:
        group_pos = [sorted(i for w in g for i in by_word.get(w, ())) for g in para.groups]
        if not all(group_pos):
            continue
        for anchor in group_pos[0]:
            si = max(bisect.bisect_right(starts, anchor) - 1, 0)
            sent = sents[si] if sents else doc[:]
            chosen = [anchor]
            for others in group_pos[1:]:
                near = [i for i in others if sent.start <= i < sent.end and abs(i - anchor) <= para.window and i not in chosen]
                if not near:
                    break
                chosen.append(min(near, key=lambda i: abs(i - anchor)))
            else:
                lo, hi = min(chosen), max(chosen)
                if hi - lo > para.window:
                    continue
                if para.unless and any(int(norms[i]) in para.unless for i in range(sent.start, sent.end)):
                    continue
                out.append((para.key, lo, hi + 1))
    return out

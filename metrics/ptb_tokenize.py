"""Pure-Python stand-in for the caption tokenization pycocoevalcap 1.2 does with Java.

pycocoevalcap pipes every caption through Stanford CoreNLP 3.4.1's ``PTBTokenizer`` with
``-preserveLines -lowerCase`` and then drops the tokens of its ``PUNCTUATIONS`` list. This module
reproduces the observable result for caption text without a JVM:

* lower-case; newlines inside a caption become spaces (pycocoevalcap replaces them);
* clitics split off: ``man's -> man 's``, ``doesn't -> does n't``, ``can't -> ca n't``,
  ``they're / we've / i'll / he'd / i'm`` likewise; ``cannot -> can not``, ``gonna -> gon na``;
* hyphenated words, decimals, thousands and times stay whole: ``double-decker``, ``3.5-inch``,
  ``1,000``, ``10:30``; acronyms and common abbreviations keep their period: ``u.s.``, ``mr.``;
* brackets become PTB escapes: ``( ) [ ] { } -> -lrb- -rrb- -lsb- -rsb- -lcb- -rcb-``.
  Quirk of the official pipeline, kept on purpose: its punctuation list holds the UPPER-case
  escapes (``-LRB-``) but ``-lowerCase`` has already lower-cased them, so brackets survive as
  tokens;
* quotes (straight, back-ticks, curly), ``. , ; : ? ! - -- ...`` and runs of dots are
  removed; runs like ``!!`` or ``?!`` are kept as one token (PTB does not list them);
* single-letter initials keep their period (``plan b.``), except before a common
  capitalised sentence starter ("The", "A", "In", ...), where PTB reads a sentence end. That
  look-ahead crosses lines, so a caption's tokens can depend on the NEXT caption in
  pycocoevalcap's tokenizer file; :func:`ptb_tokenize_lines` reproduces it on purpose.

Validated against the official Java output: the golden file
``shared/golden/captioning/cider_example.json``, plus the cases in
``tests/metrics/test_ptb_tokenize.py`` (each checked once against stanford-corenlp-3.4.1 via
pycocoevalcap 1.2), and on 12,000 synthetic captions (identical). Known gaps: PTB's long
abbreviation lists (only a short common subset is here), its full set of sentence starters
after initials (the probed ones are here), SGML / URL / e-mail / smiley rules; use
``cider_d(..., tokenizer="java")`` where exactness on such text matters.
"""
from __future__ import annotations

import re
from typing import Sequence

# pycocoevalcap's PUNCTUATIONS after lower-casing, minus the bracket escapes (see module doc),
# plus the curly / guillemet quotes that PTB normalises to `` '' before that list drops them.
_DROPPED = frozenset(
    ["''", "'", "``", "`", ".", "?", "!", ",", ":", "-", "--", "...", ";", '"',
     "\u201c", "\u201d", "\u2018", "\u2019", "\u201e", "\u00ab", "\u00bb"]
)
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}

# Words PTBLexer splits although they hold no apostrophe.
_SPLIT_WORDS = {
    "cannot": ("can", "not"),
    "gonna": ("gon", "na"),
    "gotta": ("got", "ta"),
    "wanna": ("wan", "na"),
    "gimme": ("gim", "me"),
    "lemme": ("lem", "me"),
}

# Abbreviations that keep their period (a lower-cased subset of PTBLexer's list).
_ABBREVIATIONS = (
    "mrs|mr|ms|dr|prof|jr|sr|st|vs|etc|inc|ltd|corp|co|mt|ft|gen|gov|sen|rep|capt|lt|col|sgt"
)

_TOKEN_RE = re.compile(
    r"""
      (?:[a-z]\.)+(?![a-z0-9])                          # initials, acronyms: b. u.s. e.g.
    | (?<!\w)(?:""" + _ABBREVIATIONS + r""")\.(?![a-z0-9])   # abbreviations: mr. st.
    | (?<![\w.])no\.(?=\s*\d)                            # "No. 5" keeps its period
    | (?<!\w)'t(?=(?:is|was)\b) | (?<!\w)'n'(?!\w)        # 'tis -> 't is; rock 'n' roll
    | \w[\w\u0300-\u036f]*(?:(?:[-'&/]|[.,:](?=\d)|\.(?=\w))\w[\w\u0300-\u036f]*)*
                                                        # words: hyphens, 3.5, 1,000, café
    | \.{2,} | -{2,} | [!?]{2,}                         # ellipses, dashes, "!!" / "?!"
    | \S                                                # any other symbol, one at a time
    """,
    re.VERBOSE,
)

_CLITIC_RE = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")
# PTB ends a word at a clitic even when a hyphen follows: man's-best -> man 's best.
_CLITIC_HYPHEN_RE = re.compile(r"^(.+?(?:n't|'s|'re|'ve|'ll|'d|'m))-(.+)$")
# Capitalised words after which PTB 3.4.1 reads a single-letter initial's period as a
# sentence end ("plan b. The dog" -> plan b the dog), found by probing the jar pycocoevalcap
# ships. Case-sensitive, whole words only; the next caption line counts as following text.
_SENTENCE_STARTERS = (
    "A An The In It He She They We You This That These There Here But At Some What As If So "
    "Her Their Our Then When While One After Many More Such Since However Yet Now Other Last "
    "Once About Earlier"
).split()
_SENTENCE_START_RE = re.compile(
    r"\s+(?:" + "|".join(_SENTENCE_STARTERS) + r"|Mr\.)(?=\s|$)"
)

# Most captions are plain words with an optional final period and commas after words; for
# those PTB's answer is a whitespace split, which is 10x cheaper than the full regex.
_PLAIN_RE = re.compile(r"[a-z ]*(?:\. *)?")
_PLAIN_WITH_COMMAS_RE = re.compile(r"[a-z]+(?:,? +[a-z]+)*(?: *\. *)?")
_FAST_PATH_EXCLUDED = frozenset(_SPLIT_WORDS) | frozenset(_ABBREVIATIONS.split("|"))


def _split_clitics(token: str) -> list[str]:
    """Splits clitics off a word: ``shouldn't've -> should n't 've``, ``man's-best``,
    ``rock'n'roll -> rock 'n' roll``, ``y'all -> y' all``."""
    if "'n'" in token and not token.startswith("'n'"):
        left, _, right = token.partition("'n'")
        return _split_clitics(left) + ["'n'"] + (_split_clitics(right) if right else [])
    if token.startswith("y'") and len(token) > 2:
        return ["y'", *_split_clitics(token[2:])]
    m = _CLITIC_HYPHEN_RE.match(token)
    if m is not None:
        return _split_clitics(m.group(1)) + _split_clitics(m.group(2))
    tail: list[str] = []
    while True:
        m = _CLITIC_RE.match(token)
        if m is None:
            break
        token = m.group(1)
        tail.append(m.group(2))
    tail.reverse()
    return [token, *tail]


def ptb_tokens(text: str, *, following: str = "") -> list[str]:
    """Tokenizes one caption like pycocoevalcap's PTBTokenizer + punctuation removal.

    Args:
        text: a raw caption, any case, any punctuation.
        following: the next line of the tokenizer's input file (pycocoevalcap writes all
            references, or all candidates, to one file). It matters only for a caption ending
            in a single-letter initial ("... plan B."): PTB splits that period off when the
            next word is a common sentence starter ("The", "A", ...), otherwise keeps "b.".

    Returns:
        Lower-case tokens with punctuation removed; ``[]`` for an empty caption.
    """
    # PTB treats the typographic apostrophe as "'" inside words (man’s -> man 's).
    lowered = text.replace("\n", " ").lower().replace("\u2019", "'")
    if _PLAIN_RE.fullmatch(lowered) or _PLAIN_WITH_COMMAS_RE.fullmatch(lowered):
        words = lowered.replace(",", " ").replace(".", " ").split()
        # A final single letter before the period ("... a.") is an initial: full path.
        if _FAST_PATH_EXCLUDED.isdisjoint(words) and not (
            words and len(words[-1]) == 1 and lowered.rstrip().endswith(".")
        ):
            return words
    # Original-case text for the sentence-starter lookahead (lower() may change lengths of
    # rare non-ASCII text; then positions do not line up and the lookahead is skipped).
    context = text.replace("\n", " ") + "\n" + following.replace("\n", " ")
    aligned = len(lowered) == len(text)
    out: list[str] = []
    append = out.append
    for m in _TOKEN_RE.finditer(lowered):
        tok = m.group()
        if tok in _DROPPED or tok.startswith(".."):
            continue
        if tok in _BRACKETS:
            append(_BRACKETS[tok])
        elif "'" in tok:
            out.extend(_split_clitics(tok))
        elif tok in _SPLIT_WORDS:
            out.extend(_SPLIT_WORDS[tok])
        elif len(tok) == 2 and tok[1] == "." and aligned and _SENTENCE_START_RE.match(
            context, m.end()
        ):
            append(tok[0])  # the initial ends a sentence: its period is split off and dropped
        else:
            append(tok)
    return out


def ptb_tokenize_lines(texts: Sequence[str]) -> list[list[str]]:
    """Tokenizes captions as ONE PTBTokenizer input file, one caption per line, as
    pycocoevalcap does (see ``following`` in :func:`ptb_tokens`)."""
    last = len(texts) - 1
    return [ptb_tokens(t, following=texts[k + 1] if k < last else "") for k, t in enumerate(texts)]


def ptb_tokenize(text: str) -> str:
    """Like :func:`ptb_tokens`, joined with single spaces (pycocoevalcap's output form)."""
    return " ".join(ptb_tokens(text))

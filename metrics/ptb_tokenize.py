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
* quotes (straight, back-ticks, curly), ``. , ; : ? ! - -- ...`` are removed.

Validated against the official Java output in ``shared/golden/captioning/cider_example.json``
(the golden captions and its tokenizer-divergence strings). Rarer PTB behaviours (``'tis``,
``y'all``, PTB's full abbreviation list, sentence-final abbreviation handling) are
approximated; use ``cider_d(..., tokenizer="java")`` where exactness on such text matters.
"""
from __future__ import annotations

import re

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
      (?:[a-z]\.){2,}(?![a-z0-9])                       # acronyms: u.s. e.g. u.s.a.
    | (?<!\w)(?:""" + _ABBREVIATIONS + r""")\.(?![a-z0-9])   # abbreviations: mr. st.
    | \w+(?:(?:[-'&/]|[.,:](?=\d)|\.(?=\w))\w+)*        # words: hyphens, 3.5, 1,000, u.s
    | \.{2,} | -{2,}                                    # ellipses, dashes
    | \S                                                # any other symbol, one at a time
    """,
    re.VERBOSE,
)

_CLITIC_RE = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")

# Most captions are plain words with an optional final period and commas after words; for
# those PTB's answer is a whitespace split, which is 10x cheaper than the full regex.
_PLAIN_RE = re.compile(r"[a-z ]*(?:\. *)?")
_PLAIN_WITH_COMMAS_RE = re.compile(r"[a-z]+(?:,? +[a-z]+)*(?: *\. *)?")
_FAST_PATH_EXCLUDED = frozenset(_SPLIT_WORDS) | frozenset(_ABBREVIATIONS.split("|"))


def _split_clitics(token: str) -> list[str]:
    """Splits trailing clitics, innermost last: ``shouldn't've -> should n't 've``."""
    tail: list[str] = []
    while True:
        m = _CLITIC_RE.match(token)
        if m is None:
            break
        token = m.group(1)
        tail.append(m.group(2))
    tail.reverse()
    return [token, *tail]


def ptb_tokens(text: str) -> list[str]:
    """Tokenizes one caption like pycocoevalcap's PTBTokenizer + punctuation removal.

    Args:
        text: a raw caption, any case, any punctuation.

    Returns:
        Lower-case tokens with punctuation removed; ``[]`` for an empty caption.
    """
    # PTB treats the typographic apostrophe as "'" inside words (man’s -> man 's).
    lowered = text.replace("\n", " ").lower().replace("\u2019", "'")
    if _PLAIN_RE.fullmatch(lowered) or _PLAIN_WITH_COMMAS_RE.fullmatch(lowered):
        words = lowered.replace(",", " ").replace(".", " ").split()
        if _FAST_PATH_EXCLUDED.isdisjoint(words):
            return words
    out: list[str] = []
    append = out.append
    for tok in _TOKEN_RE.findall(lowered):
        if tok in _DROPPED:
            continue
        if tok in _BRACKETS:
            append(_BRACKETS[tok])
        elif "'" in tok:
            out.extend(_split_clitics(tok))
        elif tok in _SPLIT_WORDS:
            out.extend(_SPLIT_WORDS[tok])
        else:
            append(tok)
    return out


def ptb_tokenize(text: str) -> str:
    """Like :func:`ptb_tokens`, joined with single spaces (pycocoevalcap's output form)."""
    return " ".join(ptb_tokens(text))

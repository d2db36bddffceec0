"""VQA answer normalisation and accuracies: GRIT's rule and the official VQAv2 rule.

``grit_vqa_score`` reproduces grit_official ``metrics/vqa.py`` (spec section 2.5):
``min(#GT answers equal to the prediction / 3, 1)``, with prediction AND every GT answer
normalised. ``vqav2_accuracy`` reproduces the official VQAv2 evaluation
(GT-Vision-Lab/VQA ``PythonEvaluationTools/vqaEvaluation/vqaEval.py``), used for the
per-dataset VQAv2 / OK-VQA / VizWiz splits, by default as the toolkit's head computes it
(``rule="official"``, commit a013f00, 2021) or as it did before (``rule="legacy"``):

=====================  ======================  ======================  ======================
                       GRIT                    VQAv2 official (head)   VQAv2 legacy (<2021)
=====================  ======================  ======================  ======================
score                  min(n/3, 1), all GTs    mean over the 10 leave-one-out subsets of
                                               min(n/3, 1)
prediction normalised  always, fully           fully, only when the    always, fully
                                               GTs are not unanimous
GT answers normalised  always, fully           fully, only when the    punctuation only, when
                                               GTs are not unanimous   GTs are not unanimous
=====================  ======================  ======================  ======================

"Fully" = punctuation, then lower-case, number words, articles, contractions. The EvalAI
challenge server uses another punctuation regex; this module follows the GT-Vision-Lab
repository.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from metrics.errors import UnscorableInput

# The VQA toolkit's contraction table, verbatim, odd entries included ("somebody'd" maps to
# "somebodyd"). Keys with capitals ("Im", "Ive", ...) can never match: text is lower-cased first.
_CONTRACTION_PAIRS = """
aint ain't  arent aren't  cant can't  couldve could've  couldnt couldn't
couldn'tve couldn't've  couldnt've couldn't've  didnt didn't  doesnt doesn't  dont don't
hadnt hadn't  hadnt've hadn't've  hadn'tve hadn't've  hasnt hasn't  havent haven't  hed he'd
hed've he'd've  he'dve he'd've  hes he's  howd how'd  howll how'll  hows how's  Id've I'd've
I'dve I'd've  Im I'm  Ive I've  isnt isn't  itd it'd  itd've it'd've  it'dve it'd've  itll it'll
let's let's  maam ma'am  mightnt mightn't  mightnt've mightn't've  mightn'tve mightn't've
mightve might've  mustnt mustn't  mustve must've  neednt needn't  notve not've  oclock o'clock
oughtnt oughtn't  ow's'at 'ow's'at  'ows'at 'ow's'at  'ow'sat 'ow's'at  shant shan't
shed've she'd've  she'dve she'd've  she's she's  shouldve should've  shouldnt shouldn't
shouldnt've shouldn't've  shouldn'tve shouldn't've  somebody'd somebodyd
somebodyd've somebody'd've  somebody'dve somebody'd've  somebodyll somebody'll
somebodys somebody's  someoned someone'd  someoned've someone'd've  someone'dve someone'd've
someonell someone'll  someones someone's  somethingd something'd  somethingd've something'd've
something'dve something'd've  somethingll something'll  thats that's  thered there'd
thered've there'd've  there'dve there'd've  therere there're  theres there's  theyd they'd
theyd've they'd've  they'dve they'd've  theyll they'll  theyre they're  theyve they've
twas 'twas  wasnt wasn't  wed've we'd've  we'dve we'd've  weve we've  werent weren't
whatll what'll  whatre what're  whats what's  whatve what've  whens when's  whered where'd
wheres where's  whereve where've  whod who'd  whod've who'd've  who'dve who'd've  wholl who'll
whos who's  whove who've  whyll why'll  whyre why're  whys why's  wont won't  wouldve would've
wouldnt wouldn't  wouldnt've wouldn't've  wouldn'tve wouldn't've  yall y'all  yall'll y'all'll
y'allll y'all'll  yall'd've y'all'd've  y'alld've y'all'd've  y'all'dve y'all'd've  youd you'd
youd've you'd've  you'dve you'd've  youll you'll  youre you're  youve you've
"""
_words = _CONTRACTION_PAIRS.split()
CONTRACTIONS: dict[str, str] = dict(zip(_words[0::2], _words[1::2]))
del _words

# "none" maps to "0" too (VQA toolkit table).
NUMBER_WORDS: dict[str, str] = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ARTICLES = frozenset({"a", "an", "the"})
# Order matters: replacements accumulate in this order. Not included: ' : . * # % & $
PUNCTUATION: tuple[str, ...] = (
    ";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!",
)
# The toolkit's look-behind "(?!<=\d)" is malformed (a negative look-ahead for "<=" + digit)
# and so has no effect; we keep the pattern verbatim so that it behaves the same.
_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
_COMMA_STRIP = re.compile(r"(\d)(,)(\d)")
# The toolkit calls periodStrip.sub("", text, re.UNICODE): re.UNICODE (== 32) lands in the
# `count` argument, so at most 32 periods are removed. Passed by keyword here to avoid the
# Python 3.13 DeprecationWarning for a positional count.
_PERIOD_STRIP_COUNT = int(re.UNICODE)


def _process_punctuation(text: str) -> str:
    # Each test looks at the input text; the replacements accumulate in out.
    out = text
    has_number_comma = _COMMA_STRIP.search(text) is not None
    for p in PUNCTUATION:
        if p + " " in text or " " + p in text or has_number_comma:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _PERIOD_STRIP.sub("", out, count=_PERIOD_STRIP_COUNT)


def _process_digit_article(text: str) -> str:
    words = []
    for word in text.lower().split():
        word = NUMBER_WORDS.get(word, word)
        if word not in ARTICLES:
            words.append(word)
    return " ".join(CONTRACTIONS.get(word, word) for word in words)


def _check_answer(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise UnscorableInput(f"{what} must be a string, got {type(text).__name__}")
    return text


def normalize_answer(text: str) -> str:
    """GRIT's answer normalisation (grit_official ``preprocess_answer``).

    Steps: newline/tab to space, lower-case, strip; punctuation (``; / [ ] " { } ( ) = + \\ _
    - > < @ ` , ? !`` deleted if the text has a digit-comma-digit or the mark next to a space,
    else replaced by a space); delete periods not followed by a digit, at most 32 of them
    (toolkit bug); number words to digits (``none`` -> ``0``); drop ``a an the``; the VQA
    contraction table; single spaces.

    Example: ``" The Tennis-Racket. "`` -> ``"tennis racket"``; ``"3,000"`` -> ``"3000"``.
    """
    text = _check_answer(text, "answer")
    text = text.replace("\n", " ").replace("\t", " ").lower().strip()
    return _process_digit_article(_process_punctuation(text))


def grit_vqa_score(pred: str, gt_answers: Sequence[str]) -> float:
    """GRIT VQA score: ``min(#GT answers matching the prediction / 3, 1)``.

    All GT answers count, duplicates included, so with 10 answers this is not the VQAv2
    leave-one-out average; one matching answer gives 1/3.

    Args:
        pred: the predicted answer (a plain string).
        gt_answers: the GT ``words`` list (10 answers for VQAv2-sourced samples).

    Raises:
        UnscorableInput: the prediction or a GT answer is not a string (the official code
            raises AttributeError), or there is no GT answer.
    """
    pred_norm = normalize_answer(_check_answer(pred, "predicted answer ('words')"))
    if isinstance(gt_answers, str) or len(gt_answers) == 0:
        raise UnscorableInput("VQA ground truth 'words' must be a non-empty list of strings")
    count = sum(normalize_answer(_check_answer(a, f"ground-truth answer {i}")) == pred_norm
                for i, a in enumerate(gt_answers))
    return min(count / 3, 1)


# The VQAv2 accuracy rules ``vqav2_accuracy`` knows (README, "VQAv2 accuracy rules").
VQA_RULES: tuple[str, ...] = ("official", "legacy")


def vqav2_accuracy(prediction: str, answers: Sequence[str], rule: str = "official") -> float:
    """VQAv2 accuracy of one answer (GT-Vision-Lab ``vqaEval.py``).

    ``mean over i of min(#{j != i : gt'[j] == pred'} / 3, 1)``. Leave-one-out is by position
    (the toolkit compares answer dicts, whose ``answer_id`` makes them distinct). Both rules
    first turn newlines and tabs into spaces and strip the ends. Then:

    * ``"official"`` (toolkit head a013f00, 2021-03-11): only when the stripped GT answers are
      NOT all identical, the punctuation and the digit/article/contraction steps are applied to
      every GT answer and to the prediction; otherwise the comparison is exact (``"Yes"``
      against ten ``"yes"`` scores 0, ``"two"`` against ten ``"2"`` scores 0).
    * ``"legacy"`` (the toolkit before 2021): the prediction always gets both steps; GT
      answers get the punctuation step only, and only when they are not all identical (GT is
      never lower-cased, so ``"yes"`` against ten ``"Yes"`` scores 0).

    Args:
        prediction: the predicted answer.
        answers: the human answers (10 in VQAv2), raw strings from the annotation file.
        rule: ``"official"`` or ``"legacy"``.

    Returns:
        Accuracy in [0, 1], a multiple of 1/30 for 10 answers.

    Raises:
        UnscorableInput: a non-string answer or an empty answer list.
        ValueError: an unknown rule.
    """
    if rule not in VQA_RULES:
        raise ValueError(f"unknown VQAv2 rule {rule!r}; expected one of {VQA_RULES}")
    pred = _strip_ws(_check_answer(prediction, "predicted answer"))
    if isinstance(answers, str) or len(answers) == 0:
        raise UnscorableInput("VQAv2 answers must be a non-empty list of strings")
    gts = [_check_answer(a, f"ground-truth answer {i}") for i, a in enumerate(answers)]
    if rule == "official":
        gts = [_strip_ws(a) for a in gts]
        if len(set(gts)) > 1:
            gts = [_process_digit_article(_process_punctuation(a)) for a in gts]
            pred = _process_digit_article(_process_punctuation(pred))
    else:
        # Legacy: GT answers are compared as read (no strip), the prediction always normalised.
        pred = _process_digit_article(_process_punctuation(pred))
        if len(set(gts)) > 1:
            gts = [_process_punctuation(a) for a in gts]
    matches = [a == pred for a in gts]
    total = sum(matches)
    # Leaving answer i out removes it from the count when it matched.
    accs = [min(1, float(total - m) / 3) for m in matches]
    return float(sum(accs)) / len(accs)


def _strip_ws(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ").strip()

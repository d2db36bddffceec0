"""CIDEr-D exactly as pycocoevalcap 1.2's ``Cider`` computes it, vectorised with numpy.

The official algorithm (``pycocoevalcap/cider/cider_scorer.py``), which this reproduces:

* n-grams n = 1..4 of the whitespace-split tokenized captions;
* document frequency ``df(g)`` = number of IMAGES whose reference set contains ``g``, counted
  over the evaluated corpus only; so per-image scores depend on which images are scored, and a
  subset must be rescored on the subset, never averaged from a larger run;
* ``w(g) = log(N_images) - log(max(1, df(g)))``; an n-gram of the candidate that no reference
  has gets df 0 -> ``max(1, 0)`` -> the full weight ``log(N_images)`` (official quirk, kept);
* per order n, tf-idf vectors ``v = tf * w``; ``sim_n = sum_g min(v_c[g], v_r[g]) * v_r[g]
  / (|v_c| |v_r|)`` (clipping; no division when a norm is 0);
* Gaussian length penalty ``exp(-(l_c - l_r)^2 / (2 * 6^2))`` where the "length" is the number
  of BIGRAMS (``max(words - 1, 0)``), as the official code counts it;
* ``score(image) = 10 * mean_n(sum_refs sim_n) / n_refs``; corpus score = mean over images.

Instead of per-sentence dicts, every n-gram gets an integer code and all tf / df / dot products
are sort-and-bincount operations, so 5,000 images x 5 references take well under a second.
"""
from __future__ import annotations

from itertools import chain
from typing import Hashable, Mapping, Sequence

import numpy as np

from metrics.errors import UnscorableInput
from metrics.ptb_tokenize import ptb_tokenize_lines

_TOKENIZERS = ("ptb", "java", "none")


def cider_d(
    candidates: Mapping[Hashable, str],
    references: Mapping[Hashable, Sequence[str]],
    *,
    tokenizer: str = "ptb",
    n: int = 4,
    sigma: float = 6.0,
) -> tuple[float, dict[Hashable, float]]:
    """Corpus and per-image CIDEr-D (pycocoevalcap 1.2 ``Cider``, scale x10).

    Args:
        candidates: image id -> the one generated caption (raw text).
        references: image id -> its reference captions (raw text, at least one).
        tokenizer: ``"ptb"`` (pure-Python PTB emulation, default; like pycocoevalcap it
            tokenizes all references as one file and all candidates as another, in the order
            of ``references``), ``"java"`` (pycocoevalcap's own Stanford PTBTokenizer; needs
            Java and pycocoevalcap installed) or ``"none"`` (captions are already tokenized:
            split on whitespace only).
        n: largest n-gram order (official 4).
        sigma: length-penalty width in words (official 6.0).

    Returns:
        ``(corpus_score, {image id: score})``, ids in the order of ``references``. Scores are
        in CIDEr units (x10 included: 1.0 is "100" in papers that print x100 of the mean).

    Raises:
        UnscorableInput: id sets differ, an image has no references, a caption is not a
            string, the corpus is empty or the tokenizer is unknown.
    """
    ids = list(references)
    _check_inputs(candidates, references, ids, tokenizer)
    cand_text = [candidates[i] for i in ids]
    ref_text = [list(references[i]) for i in ids]
    cand_tokens, ref_tokens = _tokenize(cand_text, ref_text, tokenizer)
    scores = _cider_scores(cand_tokens, ref_tokens, n=n, sigma=sigma)
    return float(np.mean(scores)), {i: float(s) for i, s in zip(ids, scores)}


def _check_inputs(candidates, references, ids, tokenizer) -> None:
    if tokenizer not in _TOKENIZERS:
        raise UnscorableInput(f"unknown tokenizer {tokenizer!r}; expected one of {_TOKENIZERS}")
    if not ids:
        raise UnscorableInput("no images to score: references is empty")
    # The official Cider asserts gts.keys() == res.keys().
    if set(candidates) != set(ids):
        missing = [i for i in ids if i not in candidates][:5]
        extra = [i for i in candidates if i not in references][:5]
        raise UnscorableInput(
            f"candidate and reference ids differ: no candidate for {missing}, "
            f"no references for {extra}"
        )
    for i in ids:
        refs = references[i]
        if isinstance(refs, str) or len(refs) == 0:
            raise UnscorableInput(f"image {i!r}: references must be a non-empty list of strings")
        if not isinstance(candidates[i], str) or not all(isinstance(r, str) for r in refs):
            raise UnscorableInput(f"image {i!r}: captions must be strings")


def _tokenize(cand_text, ref_text, tokenizer):
    if tokenizer == "ptb":
        # Like pycocoevalcap: all references form one tokenizer file, all candidates another.
        flat = ptb_tokenize_lines(list(chain.from_iterable(ref_text)))
        ends = np.cumsum([len(rs) for rs in ref_text])
        refs = [flat[e - len(rs):e] for e, rs in zip(ends, ref_text)]
        return ptb_tokenize_lines(cand_text), refs
    if tokenizer == "none":
        return [c.split() for c in cand_text], [[r.split() for r in rs] for rs in ref_text]
    return _java_tokenize(cand_text, ref_text)


def _java_tokenize(cand_text, ref_text):
    """pycocoevalcap's own PTBTokenizer (Java); imported lazily, optional dependency."""
    try:
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UnscorableInput(
            'tokenizer="java" needs pycocoevalcap and Java installed; use tokenizer="ptb"'
        ) from exc
    tok = PTBTokenizer()
    cands = tok.tokenize({k: [{"caption": c}] for k, c in enumerate(cand_text)})
    refs = tok.tokenize({k: [{"caption": r} for r in rs] for k, rs in enumerate(ref_text)})
    return (
        [cands[k][0].split() for k in range(len(cand_text))],
        [[r.split() for r in refs[k]] for k in range(len(ref_text))],
    )


def _cider_scores(cand_tokens, ref_tokens, *, n: int, sigma: float) -> np.ndarray:
    """Per-image CIDEr-D, [N] float64, from token lists (one candidate per image)."""
    n_img = len(cand_tokens)
    n_refs = np.array([len(rs) for rs in ref_tokens], dtype=np.int64)
    sentences = list(chain(cand_tokens, chain.from_iterable(ref_tokens)))
    n_sent = len(sentences)
    # Sentence s < n_img is image s's candidate; the rest are references in image order.
    img_of_sent = np.concatenate([np.arange(n_img), np.repeat(np.arange(n_img), n_refs)])
    ref_img = img_of_sent[n_img:]

    all_words = list(chain.from_iterable(sentences))
    # dict.fromkeys + map(__getitem__) keep the word -> id pass in C (3x a setdefault loop).
    vocab = {w: k for k, w in enumerate(dict.fromkeys(all_words))}
    word_ids = np.fromiter(map(vocab.__getitem__, all_words), dtype=np.int64, count=len(all_words))
    lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=n_sent)
    sent_of_tok = np.repeat(np.arange(n_sent), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(word_ids.size) - starts[sent_of_tok]
    tok_len = lengths[sent_of_tok]

    ref_len = np.log(float(n_img))  # the official "ref_len" is log(#images)
    # The official "length" is the bigram count, so a 1-word and an empty caption tie.
    length = np.maximum(lengths - 1, 0).astype(np.float64)
    delta = length[img_of_sent[n_img:]] - length[n_img:]
    penalty = np.exp(-(delta**2) / (2.0 * sigma**2))

    per_image = np.zeros(n_img)
    codes = word_ids
    vocab_size = max(len(vocab), 1)
    for order in range(1, n + 1):
        valid = np.flatnonzero(pos + order <= tok_len)
        if order > 1:
            # Extend (order-1)-gram codes by the next word, then re-compact so codes stay small.
            key = codes[valid] * vocab_size + word_ids[valid + order - 1]
            uniq, inverse = np.unique(key, return_inverse=True)
            codes = np.zeros_like(word_ids)
            codes[valid] = inverse
            n_grams = uniq.size
        else:
            n_grams = vocab_size
        sims = _order_similarity(
            sent_of_tok[valid], codes[valid], n_grams, n_img, n_sent, img_of_sent, ref_len
        )
        per_image += np.bincount(ref_img, weights=sims * penalty, minlength=n_img)
    return 10.0 * (per_image / n) / n_refs


def _order_similarity(sent, gram, n_grams, n_img, n_sent, img_of_sent, ref_len) -> np.ndarray:
    """Clipped cosine similarity of each reference with its image's candidate, one order.

    Args:
        sent, gram: [K] int, the sentence and n-gram code of every n-gram occurrence.

    Returns:
        [R] float64, ``sim_n`` for every reference sentence (before the length penalty).
    """
    pair, tf = np.unique(sent * n_grams + gram, return_counts=True)
    pair_sent = pair // n_grams
    pair_gram = pair % n_grams
    is_ref = pair_sent >= n_img
    # Document frequency: distinct (image, n-gram) pairs over the references only.
    img_gram = _sorted_unique(img_of_sent[pair_sent[is_ref]] * n_grams + pair_gram[is_ref])
    df = np.bincount(img_gram % n_grams, minlength=n_grams)
    weight = ref_len - np.log(np.maximum(df, 1.0))
    vec = tf * weight[pair_gram]
    norm = np.sqrt(np.bincount(pair_sent, weights=vec * vec, minlength=n_sent).astype(float))

    # Candidates are sentences 0..n_img-1, so their pairs come first, sorted by image*G+gram.
    cand_keys = pair[~is_ref]
    cand_vec = vec[~is_ref]
    ref_keys = img_of_sent[pair_sent[is_ref]] * n_grams + pair_gram[is_ref]
    ref_vec = vec[is_ref]
    clipped = np.zeros(ref_keys.size)
    if cand_keys.size:
        hit = np.minimum(np.searchsorted(cand_keys, ref_keys), cand_keys.size - 1)
        matched = cand_keys[hit] == ref_keys
        clipped[matched] = np.minimum(cand_vec[hit[matched]], ref_vec[matched])
    dot = np.bincount(
        pair_sent[is_ref] - n_img, weights=clipped * ref_vec, minlength=n_sent - n_img
    ).astype(np.float64)  # bincount of an empty array is int64
    denom = norm[img_of_sent[n_img:]] * norm[n_img:]
    # The official code divides only when both norms are non-zero (the dot is 0 otherwise).
    return np.divide(dot, denom, out=dot.copy(), where=denom != 0)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sort + diff: numpy 2.x's hash-based default is 5x slower on int64 here."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]

"""Benchmark: corpus CIDEr-D on 5,000 images x 5 references, tokenization included.

Prints seconds for ``metrics.captioning.cider_d`` (pure-Python PTB tokenization + numpy CIDEr)
and, measured in the same run on the same captions, a baseline: pycocoevalcap's ``Cider`` when
it is installed, otherwise a direct dict-per-sentence transcription of its algorithm (the shape
of the official code). Target: under 1 s on the 2-core dev machine.

    python3 benchmarks/score_datasets.py [--images 5000] [--refs 5]
"""
from __future__ import annotations

import argparse
import math
import time
from collections import Counter

import numpy as np

from metrics.captioning import cider_d
from metrics.ptb_tokenize import ptb_tokenize_lines

_WORDS = (
    "a an the man woman dog cat horse bus street beach plate food table person people child "
    "red blue white large small two three is are riding sitting standing playing eating on in "
    "near with at of next to down along grassy park frisbee pizza train kitchen room bed"
).split()


def make_corpus(n_images: int, n_refs: int, seed: int = 0):
    """Synthetic captions, 6-14 words with some punctuation, deterministic."""
    rng = np.random.default_rng(seed)

    def caption() -> str:
        words = rng.choice(_WORDS, size=int(rng.integers(6, 15)))
        text = " ".join(words).capitalize()
        return text + (". " if rng.random() < 0.7 else "")

    refs = {f"img{i}": [caption() for _ in range(n_refs)] for i in range(n_images)}
    cands = {f"img{i}": caption() for i in range(n_images)}
    return cands, refs


def _dict_cider(cands, refs, n=4, sigma=6.0):
    """The official algorithm as written there: one Counter / dict per sentence."""

    def grams(s):
        w = s.split()
        return Counter(tuple(w[i:i + k]) for k in range(1, n + 1) for i in range(len(w) - k + 1))

    ids = list(refs)
    # Tokenized as pycocoevalcap does: one file of candidates, one of references.
    cand_tok = iter(ptb_tokenize_lines([cands[i] for i in ids]))
    ref_tok = iter(ptb_tokenize_lines([r for i in ids for r in refs[i]]))
    ctest = [grams(" ".join(next(cand_tok))) for _ in ids]
    crefs = [[grams(" ".join(next(ref_tok))) for _ in refs[i]] for i in ids]
    df = Counter(g for rs in crefs for g in set().union(*rs))
    ref_len = math.log(len(ids))

    def vec(c):
        v = [{} for _ in range(n)]
        norm = [0.0] * n
        for g, tf in c.items():
            x = tf * (ref_len - math.log(max(1.0, df[g])))
            v[len(g) - 1][g] = x
            norm[len(g) - 1] += x * x
        return v, [math.sqrt(x) for x in norm], sum(tf for g, tf in c.items() if len(g) == 2)

    scores = []
    for t, rs in zip(ctest, crefs):
        vt, nt, lt = vec(t)
        acc = [0.0] * n
        for r in rs:
            vr, nr, lr = vec(r)
            pen = math.exp(-((lt - lr) ** 2) / (2 * sigma**2))
            for k in range(n):
                s = sum(min(x, vr[k].get(g, 0.0)) * vr[k].get(g, 0.0) for g, x in vt[k].items())
                if nt[k] and nr[k]:
                    s /= nt[k] * nr[k]
                acc[k] += s * pen
        scores.append(10.0 * sum(acc) / n / len(rs))
    return float(np.mean(scores)), scores


def _baseline(cands, refs):
    try:
        from pycocoevalcap.cider.cider import Cider
    except ImportError:
        return "dict-per-sentence transcription of pycocoevalcap", lambda: _dict_cider(cands, refs)
    ref_tok = iter(ptb_tokenize_lines([r for v in refs.values() for r in v]))
    cand_tok = iter(ptb_tokenize_lines(list(cands.values())))
    gts = {k: [" ".join(next(ref_tok)) for _ in v] for k, v in refs.items()}
    res = {k: [" ".join(next(cand_tok))] for k in cands}
    return "pycocoevalcap Cider (+ our tokenizer)", lambda: Cider().compute_score(gts, res)


def _best_of(fn, repeats: int) -> tuple[float, float, object]:
    """Best wall and CPU seconds over ``repeats`` runs (CPU time is robust to a busy box)."""
    best, best_cpu, out = math.inf, math.inf, None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--refs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cands, refs = make_corpus(args.images, args.refs)

    ours_s, ours_cpu, (ours, _) = _best_of(lambda: cider_d(cands, refs), args.repeats)
    name, base_fn = _baseline(cands, refs)
    base_s, base_cpu, base_out = _best_of(base_fn, 1)
    base = float(base_out[0])
    print(f"CIDEr-D on {args.images} images x {args.refs} refs (tokenization included)")
    print(f"  cider_d (numpy): {ours_s:.3f} s wall, {ours_cpu:.3f} s CPU   corpus {ours:.6f}")
    print(f"  baseline ({name}): {base_s:.3f} s wall, {base_cpu:.3f} s CPU   corpus {base:.6f}")
    print(f"  speed-up: {base_s / ours_s:.1f}x wall, {base_cpu / ours_cpu:.1f}x CPU   "
          f"|difference|: {abs(ours - base):.2e}")


if __name__ == "__main__":
    main()

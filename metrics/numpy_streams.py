"""numpy's seeded index draws, reproduced bit for bit and without a Python loop per draw.

The official GRIT normal metric re-seeds its generators on every call, so its random indices
depend only on sizes. This module recomputes them:

* `generator_choice`: the stream of `rng = np.random.default_rng(seed)` followed by `repeats`
  calls of `rng.choice(population, size, replace=False)`. numpy 2.x (`_generator.pyx`,
  `choice`) uses Floyd's algorithm with a hash set, then `_shuffle_int(size, 1)`, unless
  `population > 10000 and size > population // 50`, where it tail-shuffles
  `arange(population)` instead. Every bounded draw is `random_bounded_uint64(0, high)`,
  which for a 32-bit `high` is Lemire's multiply-and-reject on one `next_uint32` word
  (`distributions.c`, `buffered_bounded_lemire_uint32`); PCG64 hands out each 64-bit
  output as two 32-bit words, low half first. We draw all words at once, evaluate every
  draw in one vectorised pass and patch the rare rejections.
* `legacy_choice`: `np.random.seed(seed)` followed by `repeats` calls of
  `np.random.choice(population, size, replace=False)`, from a private `RandomState`.

Cases we do not reproduce by vector arithmetic (the tail-shuffle regime, populations of 2^32
or more) and small populations, where collisions make the replay slower than numpy's own loop
(population < 40 x size), are delegated to numpy itself on a local generator, so every answer
is exact.
"""
from __future__ import annotations

import sys

import numpy as np

_WORD = np.uint64(1 << 32)
_LOW32 = np.uint64(0xFFFFFFFF)
# Draws evaluated per vectorised block; a rejection re-evaluates the rest of its block only.
_BLOCK = 16384
# Below population = this x size, `generator_choice` calls numpy's own loop.
_NUMPY_LOOP_FACTOR = 40


def _pcg64_words(bit_generator: np.random.PCG64, n_outputs: int) -> np.ndarray:
    """The next 2 * `n_outputs` 32-bit words `Generator` reads from PCG64 (`pcg64_next32`):
    each 64-bit output gives its low half, then its high half."""
    raw = bit_generator.random_raw(n_outputs)
    if sys.byteorder == "little":
        return raw.view(np.uint32)
    words = np.empty(2 * raw.size, dtype=np.uint32)  # pragma: no cover - big-endian hosts
    words[0::2] = raw & _LOW32
    words[1::2] = raw >> np.uint64(32)
    return words


class _WordStream:
    """A growable prefix of a PCG64 word stream (rejections can need a few extra words)."""

    def __init__(self, seed: int, count: int):
        self._bits = np.random.PCG64(seed)
        self.words = _pcg64_words(self._bits, (count + 1) // 2 + 64)

    def need(self, stop: int) -> None:
        """Make `self.words[:stop]` available."""
        if stop > self.words.size:
            extra = _pcg64_words(self._bits, (stop - self.words.size + 1) // 2 + 2048)
            self.words = np.concatenate([self.words, extra])


def lemire_rounds(seed: int, highs: np.ndarray, repeats: int, keep: slice) -> np.ndarray:
    """`repeats` rounds of numpy's `random_bounded_uint64(0, high)` over the bounds `highs`,
    read from the word stream of `default_rng(seed)`; returns the draws of columns `keep`.

    Lemire's method: m = word * (high + 1) as a 64-bit product; the draw is m >> 32, and the
    word is rejected (the next one is tried) while (m mod 2^32) < 2^32 mod (high + 1). The
    low half needs only a wrapping 32-bit product, so the whole stream is screened in uint32
    and the 64-bit product is formed for the kept columns only. A rejection (probability
    below (high + 1) / 2^32) shifts every later draw by one word: we record the shift and
    re-screen the rest of the block; the rejected words are then dropped from the stream.

    Args:
        seed: the `default_rng` seed.
        highs: [L] inclusive upper bounds, each in [1, 2^32 - 2] (a bound of 0 takes no word
            and must be left out by the caller).
        repeats: number of rounds.
        keep: the columns whose values are returned.

    Returns:
        [repeats, len(range(L)[keep])] uint64 draws.
    """
    n_per = highs.size
    excl = (highs.astype(np.uint64) + np.uint64(1)).astype(np.uint32)
    calls_per_block = max(1, _BLOCK // n_per)
    excl_tiled = np.tile(excl, calls_per_block + 1)  # any block start offset fits
    total = repeats * n_per
    stream = _WordStream(seed, total)
    skipped = []  # word indices of rejected words: dropping them aligns word d with draw d
    pos = k = 0
    while k < total:
        n = min(total - k, calls_per_block * n_per)
        ex = excl_tiled[k % n_per:k % n_per + n]
        stream.need(pos + n)
        leftover = stream.words[pos:pos + n] * ex  # uint32 arithmetic wraps: m mod 2^32
        risky = np.flatnonzero(leftover < ex)
        if risky.size:
            threshold = _WORD % ex[risky].astype(np.uint64)
            risky = risky[leftover[risky].astype(np.uint64) < threshold]
        if risky.size == 0:
            pos, k = pos + n, k + n
            continue
        r = int(risky[0])
        e = int(ex[r])
        threshold, p = (1 << 32) % e, pos + r
        while True:  # numpy's retry loop, one word at a time
            stream.need(p + 1)
            if (int(stream.words[p]) * e) & 0xFFFFFFFF >= threshold:
                break
            skipped.append(p)
            p += 1
        pos, k = p + 1, k + r + 1
    words = stream.words[:pos]
    if skipped:  # one copy that leaves the rejected words out
        cuts = np.asarray(skipped)
        words = np.concatenate(np.split(words, np.ravel(np.column_stack([cuts, cuts + 1])))[::2])
    kept = words.reshape(repeats, n_per)[:, keep]
    product = np.multiply(kept, excl[keep].astype(np.uint64), dtype=np.uint64)  # casts inline
    product >>= np.uint64(32)
    return product


def _floyd_collisions(vals: np.ndarray, first_j: int) -> np.ndarray:
    """Where Floyd's algorithm inserts j instead of the drawn value, for each row.

    Row-wise, draw t (value `vals[t]` in [0, j_t], j_t = first_j + t) collides when it is
    already in the set: when it equals an earlier draw (that draw, or the j that replaced
    it, put it there), or when it equals an earlier j_s that was inserted on a collision.
    Collisions are rare (~size^2 / 2N per row), so they are kept as a sparse index list.

    Args:
        vals: [R, S] int64 raw draws.
        first_j: j of the first draw (population - size).

    Returns:
        Sorted flat indices (row * S + t) of the collisions, int64.
    """
    size = vals.shape[1]
    narrow = first_j + size <= np.iinfo(np.int32).max
    ordered = np.sort(vals.astype(np.int32) if narrow else vals, axis=1)  # int32: ~2x faster
    # (flatnonzero + divmod: np.nonzero on a 2-D array is ~10x slower)
    dup_rows, dup_cols = np.divmod(np.flatnonzero(ordered[:, 1:] == ordered[:, :-1]), size - 1)
    coll = np.empty(0, dtype=np.int64)
    if dup_rows.size:
        # Find the positions of the few repeated values directly.
        hit = vals[dup_rows] == ordered[dup_rows, dup_cols][:, None]  # [D, S]
        hit[np.arange(dup_rows.size), np.argmax(hit, axis=1)] = False  # first one is inserted
        rows, cols = np.divmod(np.flatnonzero(hit), size)
        coll = np.unique(dup_rows[rows] * size + cols)
    cand = np.flatnonzero(vals >= first_j)
    s = vals.reshape(-1)[cand] - first_j  # the earlier j_s this draw could equal
    cand_rows, cand_cols = np.divmod(cand, size)
    keep = s < cand_cols
    cand, earlier = cand[keep], (cand_rows * size + s)[keep]
    while cand.size:  # j-collisions chain only through earlier draws: a short fixpoint
        new = np.isin(earlier, coll) & ~np.isin(cand, coll)
        if not new.any():
            break
        coll = np.union1d(coll, cand[new])
    return coll


def _lockstep_shuffle(rows: np.ndarray, swaps: np.ndarray) -> None:
    """numpy's `_shuffle_int(size, 1)` applied to every row at once, in place.

    Args:
        rows: [R, S] int64.
        swaps: [R, S - 1] int64, the draws for i = S-1, S-2, ..., 1.
    """
    n_rows, size = rows.shape
    flat_t = np.ascontiguousarray(rows.T).reshape(-1)  # column i is a contiguous run
    where = np.ascontiguousarray(swaps.T) * n_rows + np.arange(n_rows)  # [S-1, R]: data[j]
    for step, i in enumerate(range(size - 1, 0, -1)):
        col = slice(i * n_rows, (i + 1) * n_rows)
        held = flat_t.take(where[step])  # temp = data[j]; data[j] = data[i]; data[i] = temp
        flat_t[where[step]] = flat_t[col]  # (ndarray.put is ~100x slower here)
        flat_t[col] = held
    rows[:] = flat_t.reshape(size, n_rows).T


def generator_choice(population: int, size: int, repeats: int, seed: int = 0, *,
                     ordered: bool = True) -> np.ndarray:
    """`rng = np.random.default_rng(seed)`; `[rng.choice(population, size, replace=False)
    for _ in range(repeats)]`, without touching any global state.

    Args:
        population, size: as in `choice` (size <= population).
        repeats: number of consecutive calls.
        seed: the `default_rng` seed.
        ordered: False returns each row's elements in an unspecified order (the set is
            exact); it skips replaying numpy's final in-row shuffle, whose draws are still
            consumed so later rows stay exact.

    Returns:
        [repeats, size] int64.

    Raises:
        ValueError: size > population, as numpy raises.
    """
    if size > population or size < 0:
        raise ValueError(f"cannot choose {size} of {population} without replacement")
    tail_shuffle = population > 10000 and size > population // 50  # numpy's cutoff (shuffle)
    # Floyd collisions (~size^2 / 2 population per row) make the vector replay slow on small
    # populations, where numpy's own loop (~20 us per call) is cheaper: measured crossover
    # near population = 40 * size (benchmarks/score_grit.py, small maps).
    crowded = population < _NUMPY_LOOP_FACTOR * size
    if tail_shuffle or crowded or population >= 1 << 32 or size < 2 or repeats == 0:
        return numpy_choice(population, size, repeats, seed)
    first_j = population - size
    n_floyd = size - (first_j == 0)  # a bound of 0 (j = 0) returns 0 without reading a word
    highs = np.concatenate([np.arange(population - n_floyd, population, dtype=np.uint64),
                            np.arange(size - 1, 0, -1, dtype=np.uint64)])
    drawn = lemire_rounds(seed, highs, repeats, slice(0, n_floyd)).view(np.int64)
    if n_floyd == size:
        out = drawn
    else:
        out = np.zeros((repeats, size), dtype=np.int64)
        out[:, size - n_floyd:] = drawn
    coll = _floyd_collisions(out, first_j)
    out.reshape(-1)[coll] = first_j + coll % size  # Floyd inserts j itself on a collision
    if ordered:
        swaps = lemire_rounds(seed, highs, repeats, slice(n_floyd, None)).astype(np.int64)
        _lockstep_shuffle(out, swaps)
    return out


def numpy_choice(population: int, size: int, repeats: int, seed: int = 0) -> np.ndarray:
    """numpy's own `[rng.choice(population, size, replace=False) for _ in range(repeats)]` on
    a local `rng = np.random.Generator(np.random.PCG64(seed))` (= `default_rng(seed)`): exact
    by definition; the global RNG is not touched.

    Returns:
        [repeats, size] int64.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    out = np.empty((repeats, size), dtype=np.int64)
    for k in range(repeats):
        out[k] = rng.choice(population, size, replace=False)
    return out


def legacy_choice(population: int, size: int, repeats: int, seed: int = 0) -> np.ndarray:
    """`np.random.seed(seed)`; `[np.random.choice(population, size, replace=False) for _ in
    range(repeats)]`, from a private `RandomState` (the global one is not touched).

    Legacy `choice` without replacement is `permutation(population)[:size]`: a full shuffle
    of `arange(population)` per call; shuffling one reused buffer reads the same stream.

    Returns:
        [repeats, size] int64.

    Raises:
        ValueError: size > population, as numpy raises.
    """
    if size > population or size < 0:
        raise ValueError(f"cannot choose {size} of {population} without replacement")
    state = np.random.RandomState(seed)
    base = np.arange(population, dtype=np.int64)
    buf = np.empty_like(base)
    out = np.empty((repeats, size), dtype=np.int64)
    for k in range(repeats):
        buf[:] = base
        state.shuffle(buf)
        out[k] = buf[:size]
    return out

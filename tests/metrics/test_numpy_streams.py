"""numpy's seeded index draws reproduced by `metrics.numpy_streams`: compared with numpy
itself (the reference is `Generator.choice` / `RandomState.choice`, called in a loop)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import numpy_streams
from metrics.numpy_streams import generator_choice, legacy_choice


def numpy_generator_choice(population, size, repeats, seed):
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(population, size, replace=False) for _ in range(repeats)])


@pytest.mark.parametrize("population, size, repeats, seed", [
    (500, 500, 8, 0),  # size == population: Floyd's first bound is 0 and takes no word
    (501, 500, 8, 0), (999, 500, 6, 3),
    (10000, 500, 6, 1),  # the last population below numpy's tail-shuffle regime
    (10001, 500, 4, 0), (24999, 500, 4, 2),  # tail shuffle (delegated to numpy)
    (25000, 500, 40, 0), (25001, 500, 40, 7),  # Floyd again: 500 <= population // 50
    (2**16 - 1, 500, 60, 0), (2**16, 500, 60, 1), (2**16 + 1, 500, 60, 2),
    (2**20, 500, 100, 0), (288339, 500, 500, 0), (307200, 500, 60, 4),
    # Bounds just above 2^31: Lemire rejects about every other word, so the retry path and
    # the realignment of every later draw are exercised many times.
    (2**31 + 300, 500, 12, 0), (2**31 + 300, 500, 12, 9), (2**30 + 300, 500, 12, 3),
    (2**32 - 5, 500, 10, 0),
    (2**32 + 5, 4, 5, 0),  # beyond 32-bit bounds: delegated to numpy
    (7, 7, 30, 0), (10, 3, 50, 5), (3000, 2, 50, 4), (1, 1, 3, 0),
])
def test_generator_choice_equals_numpy(population, size, repeats, seed):
    expected = numpy_generator_choice(population, size, repeats, seed)
    assert np.array_equal(generator_choice(population, size, repeats, seed), expected)
    unordered = generator_choice(population, size, repeats, seed, ordered=False)
    assert np.array_equal(np.sort(unordered, axis=1), np.sort(expected, axis=1))


@settings(max_examples=25, deadline=None)
@given(population=st.integers(2, 40000), size=st.integers(1, 64), repeats=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1))
def test_property_generator_choice_equals_numpy(population, size, repeats, seed):
    size = min(size, population)
    assert np.array_equal(generator_choice(population, size, repeats, seed),
                          numpy_generator_choice(population, size, repeats, seed))


def test_generator_choice_refuses_oversized_samples_like_numpy():
    with pytest.raises(ValueError):
        np.random.default_rng(0).choice(10, 11, replace=False)
    with pytest.raises(ValueError, match="cannot choose 11 of 10"):
        generator_choice(10, 11, 1)
    with pytest.raises(ValueError):
        np.random.RandomState(0).choice(1, 2, replace=False)
    with pytest.raises(ValueError, match="cannot choose 2 of 1"):
        legacy_choice(1, 2, 3)


@pytest.mark.parametrize("population", [2, 3, 480, 900, 1000])
def test_legacy_choice_equals_global_np_random_choice(population):
    state = np.random.get_state()
    try:
        np.random.seed(0)
        expected = [np.random.choice(population, 2, replace=False) for _ in range(499)]
    finally:
        np.random.set_state(state)
    assert np.array_equal(legacy_choice(population, 2, 499), expected)


def test_streams_leave_global_rng_alone():
    state = np.random.get_state()
    try:
        np.random.seed(77)
        expected = np.random.RandomState(77).random_sample(3)
        generator_choice(288339, 500, 5)
        legacy_choice(480, 2, 5)
        assert np.array_equal(np.random.random_sample(3), expected)
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("seed", [0, 5])
def test_normal_metric_draws_equal_numpy_at_every_map_size(seed):
    # The normal metric's call: 500 x rng.choice(N, 500, replace=False) after default_rng(0),
    # for valid-pixel counts from 500 (a 24x24 map) to 640x480, on both sides of the switch
    # between numpy's own loop and the vector replay (population 40 x 500 = 20000).
    sizes = sorted({*np.geomspace(500, 307200, 24).astype(int), 576, 2100, 19999, 20000, 20001})
    for population in sizes:
        expected = numpy_generator_choice(population, 500, 500, seed)
        assert np.array_equal(generator_choice(population, 500, 500, seed), expected), population


@pytest.mark.parametrize("population, size, repeats, seed", [
    (500, 500, 4, 0), (501, 500, 4, 0), (999, 500, 6, 3), (3000, 64, 20, 1), (10, 3, 50, 5),
])
def test_vector_replay_of_crowded_draws_equals_numpy(monkeypatch, population, size, repeats, seed):
    # Crowded populations now go to numpy's own loop; the replay (many Floyd collisions,
    # chained j-collisions) must stay exact where it is used, so force it here.
    monkeypatch.setattr(numpy_streams, "_NUMPY_LOOP_FACTOR", 0)
    expected = numpy_generator_choice(population, size, repeats, seed)
    assert np.array_equal(generator_choice(population, size, repeats, seed), expected)
    unordered = generator_choice(population, size, repeats, seed, ordered=False)
    assert np.array_equal(np.sort(unordered, axis=1), np.sort(expected, axis=1))

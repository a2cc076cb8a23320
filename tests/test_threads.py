"""The split of long kernel calls between two threads (lutgen/_threads.py)."""

import threading

import numpy as np
import pytest

from lutgen import _kernels as K
from lutgen import _threads


def _recording_kernel(calls, bad_value):
    """A kernel that doubles its input, records which thread saw which slice, and reports
    the first element equal to ``bad_value``."""

    def kernel(x, scale, out):
        calls.append((threading.get_ident(), x.size))
        out[:] = x * scale
        hits = np.flatnonzero(x == bad_value)
        return int(hits[0]) if hits.size else -1

    return kernel


@pytest.mark.parametrize("size", [0, 1, _threads.CHUNK - 1, _threads.CHUNK, 5 * _threads.CHUNK + 7])
def test_every_element_is_written_once_in_either_way(size):
    x = np.arange(size, dtype=np.int64)
    for min_size in (0, size + 1):  # split, and not split
        calls, out = [], np.full(size, -1, dtype=np.int64)
        assert _threads.run_checked(_recording_kernel(calls, -5), x, (3,), out, min_size) == -1
        np.testing.assert_array_equal(out, 3 * x)
        assert sum(n for _, n in calls) == size
        if min_size > size:
            assert len(calls) == 1


def test_long_inputs_are_shared_between_two_threads_when_there_are_two_cores():
    if _threads._cores() < 2:
        pytest.skip("one core: the kernel runs on the calling thread")
    full = np.arange(1 << 16, dtype=np.int16)
    x = np.random.default_rng(1).integers(0, 1 << 16, 256 * _threads.CHUNK)
    seen = []

    def kernel(x, full, lo, out):  # the real look-up (it releases the GIL), recorded
        seen.append(threading.get_ident())
        return K.gather_codes(x, full, lo, out)

    out = np.empty(x.size, dtype=np.int16)
    assert _threads.run_checked(kernel, x, (full, 0), out, 0) == -1
    np.testing.assert_array_equal(out, x.astype(np.int16))
    assert len(seen) == 256 and len(set(seen)) == 2


@pytest.mark.parametrize("positions", [[3], [_threads.CHUNK * 7 + 1, _threads.CHUNK * 2 + 9],
                                       [_threads.CHUNK * 9 - 1, 4, _threads.CHUNK * 3]])
def test_the_first_bad_position_over_all_chunks_is_returned(positions):
    x = np.zeros(10 * _threads.CHUNK, dtype=np.int64)
    x[positions] = -5
    got = _threads.run_checked(_recording_kernel([], -5), x, (1,), np.empty_like(x), 0)
    assert got == min(positions)

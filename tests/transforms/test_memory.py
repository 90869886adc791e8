import platform
import weakref

import pytest

from transforms import memory


class _Node:
    pass


def test_release_collects_garbage_held_in_cycles():
    node = _Node()
    node.self = node  # a cycle: only the garbage collector frees it
    gone = weakref.ref(node)
    del node
    memory.release()
    assert gone() is None


def test_release_uses_malloc_trim_on_glibc():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert callable(memory._malloc_trim())

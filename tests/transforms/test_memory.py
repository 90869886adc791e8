import gc
import platform
import weakref

import psutil
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


def test_release_hands_freed_heap_memory_back_on_glibc():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("returning a fragmented heap needs glibc's malloc_trim")
    process = psutil.Process()
    gc.collect()
    base = process.memory_info().rss
    blocks = [bytearray(4000) for _ in range(40_000)]  # about 160 MB from malloc, not pymalloc
    survivors = [*blocks[::500], bytearray(4000)]  # they pin the heap: free() alone keeps it
    del blocks
    held = process.memory_info().rss - base
    memory.release()
    kept = process.memory_info().rss - base
    assert held > 100 << 20
    assert kept < held // 4
    assert len(survivors) == 81


def test_trim_hands_freed_heap_memory_back_without_a_collection():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("returning a fragmented heap needs glibc's malloc_trim")
    process = psutil.Process()
    gc.collect()
    base = process.memory_info().rss
    blocks = [bytearray(4000) for _ in range(40_000)]
    survivors = blocks[::500]  # they pin the heap: free() alone keeps it
    del blocks
    held = process.memory_info().rss - base
    memory.trim()
    assert held > 100 << 20
    assert process.memory_info().rss - base < held // 4
    assert len(survivors) == 80


def test_trim_leaves_cycles_to_the_collector():
    node = _Node()
    node.self = node
    gone = weakref.ref(node)
    gc.disable()  # an automatic collection would free it, and the case would prove nothing
    try:
        del node
        memory.trim()
        assert gone() is not None
    finally:
        gc.enable()
        gc.collect()

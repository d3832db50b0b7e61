"""Where a server's memory goes, on signal: put this folder on the server's PYTHONPATH.

    MEMHOOK_OUT=/tmp/split.jsonl PYTHONPATH=bench/memory_hook .venv/bin/python bench/memory_jobs.py
    kill -USR1 <server pid>    # append one JSON line to $MEMHOOK_OUT
    kill -USR2 <server pid>    # the same after malloc_trim(0)

Each line: VmRSS / RssAnon / RssFile / RssShmem (MB), glibc's mallinfo2() (arena, mmap, in use,
free but kept, MB), pymalloc (arenas // 4, MB in blocks; parsed from sys._debugmallocstats),
SQLite's own allocations (MB, page cache overflow MB), the objects the collector tracks outside
the frozen generation and the frozen count, the CPU of the full collections (gc.collect(2),
timed through gc.callbacks) since the last line (count and median ms), and the types whose count
grew by more than 200 since the last line.
Python loads sitecustomize at start-up, so the app's code stays untouched. Linux, glibc only.
"""

import os

if os.environ.get("MEMHOOK_OUT"):
    import collections
    import ctypes
    import gc
    import json
    import re
    import signal
    import sys
    import tempfile
    import threading
    import time

    class _MI2(ctypes.Structure):
        _fields_ = [
            (n, ctypes.c_size_t)
            for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
        ]

    _libc = ctypes.CDLL("libc.so.6")
    _libc.mallinfo2.restype = _MI2
    _sq = ctypes.CDLL("libsqlite3.so.0")

    def _sqlite_mem():
        cur, hi = ctypes.c_int64(), ctypes.c_int64()
        _sq.sqlite3_status64(0, ctypes.byref(cur), ctypes.byref(hi), 0)  # SQLITE_STATUS_MEMORY_USED
        pc, pchi = ctypes.c_int64(), ctypes.c_int64()
        _sq.sqlite3_status64(2, ctypes.byref(pc), ctypes.byref(pchi), 0)  # SQLITE_STATUS_PAGECACHE_OVERFLOW
        return cur.value >> 20, pc.value >> 20

    def _pym():
        fd = os.dup(2)
        with tempfile.TemporaryFile() as f:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
            os.dup2(fd, 2)
            os.close(fd)
            f.seek(0)
            text = f.read().decode()
        cur = int(re.search(r"# arenas allocated current\s*=\s*([\d,]+)", text).group(1).replace(",", ""))
        used = int(re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text).group(1).replace(",", ""))
        return cur * 256 // 1024, used >> 20  # the first is the arena count // 4 (1 MiB arenas)

    _prev = {}
    _full_gc_ms = []
    _gc_began = [0.0]

    def _time_full_gc(phase, info):
        if info["generation"] == 2:
            if phase == "start":
                _gc_began[0] = time.thread_time()
            else:
                _full_gc_ms.append((time.thread_time() - _gc_began[0]) * 1000)

    gc.callbacks.append(_time_full_gc)

    def _dump(trim):
        if trim:
            _libc.malloc_trim(0)
        st = {}
        for line in open("/proc/self/status"):
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                st[k] = int(v.split()[0]) // 1024
            if k == "Threads":
                st[k] = int(v)
        m = _libc.mallinfo2()
        objs = gc.get_objects()
        types = collections.Counter(type(o).__name__ for o in objs)
        grew = {k: v - _prev.get(k, 0) for k, v in types.items() if v - _prev.get(k, 0) > 200}
        _prev.clear()
        _prev.update(types)
        del objs
        row = dict(
            trim=trim,
            **st,
            arenaMB=m.arena >> 20,
            mmapMB=m.hblkhd >> 20,
            usedMB=m.uordblks >> 20,
            freeMB=m.fordblks >> 20,
            pym=_pym(),
            sqlite=_sqlite_mem(),
            blocks=sys.getallocatedblocks(),
            objs=sum(types.values()),
            frozen=gc.get_freeze_count(),
            full_gcs=len(_full_gc_ms),
            full_gc_ms=round(sorted(_full_gc_ms)[len(_full_gc_ms) // 2], 2) if _full_gc_ms else None,
            threads=len(threading.enumerate()),
            fds=len(os.listdir("/proc/self/fd")),
            grew=grew,
        )
        _full_gc_ms.clear()
        with open(os.environ["MEMHOOK_OUT"], "a") as f:
            f.write(json.dumps(row) + "\n")

    signal.signal(signal.SIGUSR1, lambda *a: _dump(False))
    signal.signal(signal.SIGUSR2, lambda *a: _dump(True))

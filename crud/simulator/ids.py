"""ObjectId-like document ids: 24 lowercase hex digits, as crud-service serialises MongoDB's.

Same layout as MongoDB's: 4 bytes of seconds, 5 random bytes fixed per process, a 3-byte counter.
Ids made by one process grow, so `_s=_id` walks them in creation order.
"""

import itertools
import os
import secrets
import threading
import time

_PROCESS = secrets.token_bytes(5)
_counter = itertools.count(secrets.randbelow(0x7FFFFF))  # room for 8M ids before a wrap
_lock = threading.Lock()
_pid = os.getpid()


def new_object_id() -> str:
    global _PROCESS, _pid  # a forked process must not repeat its parent's ids
    with _lock:
        if os.getpid() != _pid:
            _PROCESS, _pid = secrets.token_bytes(5), os.getpid()
        count = next(_counter) & 0xFFFFFF
    return (int(time.time()).to_bytes(4, "big") + _PROCESS + count.to_bytes(3, "big")).hex()

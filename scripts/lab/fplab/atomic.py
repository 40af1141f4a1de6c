"""Files written whole or not at all, as flowpic's own (include/flowpic/core/atomic_file.hpp): a
temporary .NAME.flowpic-XXXXXX in the target's directory, flushed, fsync'ed and renamed over it."""

import contextlib
import os
import random
import string

MARKER = ".flowpic-"


@contextlib.contextmanager
def atomic_open(path, mode="w", **kw):
    """open() for writing whose file replaces `path` when the block ends without an exception."""
    d, name = os.path.split(os.path.abspath(path))
    letters = string.ascii_letters + string.digits
    for _ in range(100):
        tmp = os.path.join(d, "." + name[:200] + MARKER + "".join(random.choice(letters) for _ in range(6)))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise OSError("%s: no free temporary name in its directory" % path)
    try:
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

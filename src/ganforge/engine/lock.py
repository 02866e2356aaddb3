"""One writer per run directory: a lock file that a crashed process does not leave stuck."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from ganforge.errors import RunError

LOCK_NAME = ".lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class RunLock:
    """``with RunLock(run_dir):`` holds ``run_dir/.lock`` (pid, host) for the block.

    A lock whose process is gone (same host, pid not alive) is stale and taken over, so a
    SIGKILL never leaves a run locked. A lock from another host is respected.
    """

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK_NAME
        self.held = False

    def _owner(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                pid, host = owner.get("pid"), owner.get("host")
                if not owner or (host == me["host"] and isinstance(pid, int) and not _alive(pid)):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                where = "" if host == me["host"] else f" on {host}"
                raise RunError(
                    f"run directory {self.path.parent} is in use by process {pid}{where}; "
                    f"wait for it to finish, or delete {self.path} if that process is gone"
                ) from None
            except OSError as exc:
                raise RunError(
                    f"cannot write in {self.path.parent}: {exc.strerror}; choose another --out"
                ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(me))
            self.held = True
            return
        raise RunError(f"could not lock {self.path.parent}; try again")

    def release(self) -> None:
        if self.held:
            if self._owner().get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

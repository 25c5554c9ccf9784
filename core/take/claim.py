"""A claim on a take folder: one worker at a time makes a take, whatever the farm.

The claim is a small JSON file in the take folder (``.claim``: host, process id, when),
linked into place so that of two workers only one can make it. A claim is
stale when its process is gone (same host) or when it has not been refreshed for
``STALE_S`` (another host; the holder refreshes it while it works): a stale claim is
taken over by renaming it away first, which again only one worker can do.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

from ..errors import OutputError
from .frames import output_error

CLAIM_FILE = ".claim"
STALE_S = 600.0  # a claim from another host not refreshed for this long is abandoned
REFRESH_S = 30.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _place(source: Path, target: Path, info: dict) -> None:
    """Create ``target`` with ``source``'s content, failing with FileExistsError if it is
    there: a hard link, or, on storage without them, an exclusive create."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # no hard links here (some network shares)
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(info))


class Claim:
    """Held by this process once ``acquire`` returned True; ``release`` lets it go."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / CLAIM_FILE
        self.token = uuid.uuid4().hex
        self._refreshed = 0.0

    def holder(self) -> dict | None:
        """Who holds the claim now (None when nobody, or when the claim is stale)."""
        try:
            info = json.loads(self.path.read_text())
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        except (ValueError, OSError):
            return None  # unreadable: a claim half-written by a killed worker
        if info.get("host") == socket.gethostname():
            return info if _alive(int(info.get("pid", -1))) else None
        return info if age < STALE_S else None

    def acquire(self) -> bool:
        """Claim the folder; False when another live worker holds it."""
        folder = self.path.parent
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file, not a folder; choose a folder for the take.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(self.path, exc) from exc
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": self.token,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        # Written whole under a private name, then linked into place: the link fails if a
        # claim is there already, and nobody ever reads a half-written claim.
        mine = self.path.with_name(f"{CLAIM_FILE}.{self.token}")
        try:
            mine.write_text(json.dumps(info))
        except OSError as exc:
            mine.unlink(missing_ok=True)
            raise output_error(self.path.parent, exc) from exc
        try:
            for _ in range(3):
                try:
                    _place(mine, self.path, info)
                except FileExistsError:
                    if self.holder() is not None:
                        return False
                    self._take_over_stale()
                    continue
                self._refreshed = time.monotonic()
                return True
        finally:
            mine.unlink(missing_ok=True)
        return False

    def _take_over_stale(self) -> None:
        """Move a stale claim aside (only one worker can); if what was moved turns out to
        be a fresh claim that another worker made meanwhile, put it back."""
        try:
            stale = json.loads(self.path.read_text()).get("token")
        except (OSError, ValueError):
            stale = None
        aside = self.path.with_name(f"{CLAIM_FILE}.stale.{self.token}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            moved = json.loads(aside.read_text()).get("token")
        except (OSError, ValueError):
            moved = stale
        if moved != stale:
            try:
                os.link(aside, self.path)  # fails if yet another claim stands there now
            except OSError:
                pass
        aside.unlink(missing_ok=True)

    def refresh(self) -> None:
        """Show that the holder still works (for workers on other hosts); cheap to call often."""
        now = time.monotonic()
        if now - self._refreshed >= REFRESH_S:
            self._refreshed = now
            try:
                os.utime(self.path)
            except OSError:
                pass

    def release(self) -> None:
        """Remove the claim if it is still ours, and the folder if nothing else is in it."""
        try:
            if json.loads(self.path.read_text()).get("token") == self.token:
                self.path.unlink()
                self.path.parent.rmdir()  # only when empty: a clip refused up front
        except (OSError, ValueError):
            pass


def describe(holder: dict) -> str:
    """'process 123 on host-a since ...' for messages."""
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"

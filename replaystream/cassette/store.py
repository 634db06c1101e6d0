"""Saving a cassette that other sessions may be saving too, and writing its file safely.

- **Lock**: a save holds ``.<name>.lock`` beside the cassette (``fcntl.flock``; on
  Windows ``msvcrt.locking``), so threads, processes and xdist workers recording into one
  cassette take turns. The lock file is removed afterwards; one left by a killed process
  is harmless (the kernel released its lock with the process).
- **Merge on save**: under the lock the file is read as it is *now* and only this
  session's new interactions are appended (every one of them: identical repeats a test
  really made are kept), so two sessions never overwrite each other's recordings.
- **Rewrite once per run**: ``rewrite`` replaces the file's interactions with the first
  save of a run; later saves of the same run (other tests, other workers) merge. The run
  is named by a run id, and the first save leaves a marker in the temp folder.
- **File**: written atomically (temp file in the same folder, fsync, rename); it keeps
  the mode of the file it replaces (a new file follows the umask, like any file the user
  writes), and a symlinked cassette is followed: its target is updated, the link stays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Cassette, Interaction, Record

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then OSError (a RecordingError)
else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for the holder; released when it closes or dies


def real_target(path: str | os.PathLike[str]) -> Path:
    """The file a save writes: a symlink (or a chain of them) is followed to its target."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _umask() -> int:
    try:  # Linux: read without changing it (os.umask would, for every thread, for an instant)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def atomic_write(target: Path, payload: bytes) -> None:
    """Replace ``target`` with ``payload`` so that no reader ever sees half a file; its mode
    is kept (a new file gets ``0o666`` less the umask) and a symlink's target is written."""
    target = real_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    # Hidden, named after the cassette; a short name when the cassette's is near the 255-byte limit.
    prefix = f".{target.name}." if len(target.name.encode("utf-8", "surrogateescape")) <= 200 else ".rs-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the cassette's lock (shared by every thread and process); yields the real file."""
    target = real_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(target)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _lock_fd(fd)
        except BaseException:
            os.close(fd)
            raise
        try:  # the holder before us may have removed the file: then lock the new one
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield target
    finally:
        with contextlib.suppress(OSError):  # Windows cannot remove an open file: it stays
            os.unlink(lock)  # still held: a waiter sees the inode change and retries
        os.close(fd)


def _run_marker(run: str, target: Path) -> Path:
    digest = hashlib.sha256(str(target).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"replaystream-run-{run}" / digest


def first_rewrite_of_run(run: str | None, target: Path) -> bool:
    """Whether this is the run's first rewrite of ``target`` (call under its lock).
    Without a run id every rewrite is the first (the library: one block, one file)."""
    if run is None:
        return True
    marker = _run_marker(run, target)
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def forget_run(run: str) -> None:
    """Remove a run's rewrite markers (the controller, once the run is over)."""
    shutil.rmtree(Path(tempfile.gettempdir()) / f"replaystream-run-{run}", ignore_errors=True)


def save_merged(path: Path, mine: Cassette, new: list[Interaction], records_before: list[Record], *,
                rewrite: bool = False, run: str | None = None,
                prepare: Callable[[Cassette], object] | None = None) -> Cassette:
    """Write this session's ``new`` interactions (and the records it added) into the file
    at ``path`` as it is now, under the cassette's lock; returns what was written.

    ``mine`` is the session's cassette (its records and meta), ``records_before`` its
    records when the session started. With ``rewrite`` the run's first save replaces the
    file's interactions; the later ones merge. ``prepare`` sees the merged cassette before it
    is written (the scrubber's whole-cassette pass: a value learned late goes from everywhere).
    """
    from .model import FORMAT_META, Cassette

    with locked(path) as target:
        if (rewrite and first_rewrite_of_run(run, target)) or not target.exists():
            current = Cassette(records=list(records_before), meta=dict(mine.meta))
        else:
            current = Cassette.load(target)
        added = mine.records[len(records_before):] if mine.records[:len(records_before)] == records_before \
            else None
        records = current.records + added if added is not None else list(mine.records)
        meta = {**mine.meta, **current.meta}
        meta.setdefault("format", FORMAT_META)
        merged = Cassette(current.interactions + new, records, meta, path)
        if prepare is not None:
            prepare(merged)
        atomic_write(target, merged.dumps().encode("utf-8"))
    return merged

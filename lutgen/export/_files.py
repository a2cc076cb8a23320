"""Writing artifacts to disk: all or none, one writer per folder at a time.

Two ways, for two kinds of folder:

* :func:`write_artifacts` (``lutgen build``) shares its folder with other files. Every
  file is written to a temporary beside its target; only when all are written are they
  renamed into place, and a failed rename puts back the versions already replaced.
* :func:`replace_folder` (``lutgen batch``) owns its folder. The whole set is written
  into a fresh sibling folder, then swapped in by one rename (the old folder is renamed
  aside, then removed), so the folder holds either the old set or the new one.

Both hold a lock (``fcntl.flock`` on ``.<folder>.lock`` beside the folder) for the whole
write, so a second writer into the same folder stops with one error instead of
interleaving; both remove the parent folders they created when they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from ..errors import ExportError
from ._common import current_umask, stage_file

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; writes stay all-or-none
    fcntl = None

__all__ = ["write_artifacts", "replace_folder"]


def write_artifacts(artifacts, outdir) -> list[Path]:
    """Write rendered artifacts into ``outdir``, beside whatever else it holds: all or none.

    A failure (a name too long, a full disk, a failed rename) leaves no temporary behind,
    every file as it was before, and no folder this call created.
    """
    out = Path(outdir)
    _check_folder(out)
    created = _make_parents(out)
    try:
        with _locked(out):
            made = _make_folder(out)
            staged: list[tuple[str, Path]] = []
            try:
                if not os.access(out, os.W_OK):
                    raise ExportError(f"output directory {str(out)!r} is not writable")
                _remove_stale(out, [a.filename for a in artifacts])
                for art in artifacts:
                    path = out / art.filename
                    try:
                        staged.append((stage_file(path, art.text), path))
                    except OSError as exc:
                        raise ExportError(f"cannot write {str(path)!r}: {exc.strerror}") from None
                _commit(staged)
            except BaseException:
                for tmp, _ in staged:
                    _unlink(tmp)
                if made:
                    _rmdir(out)
                raise
    except BaseException:
        _remove_dirs(created)
        raise
    return [path for _, path in staged]


def _commit(staged: list[tuple[str, Path]]) -> None:
    """Rename every temporary into place; on any failure restore what was there."""
    done: list[tuple[Path, Path | None]] = []  # (target, backup of its previous version)
    try:
        for tmp, path in staged:
            if os.path.isdir(path) and not os.path.islink(path):
                raise ExportError(f"cannot write {str(path)!r}: it is a folder")
            done.append((path, _backup(path) if os.path.lexists(path) else None))
            os.replace(tmp, path)
    except BaseException as exc:
        for path, backup in reversed(done):
            try:
                if backup is not None:
                    os.replace(backup, path)
                    _unlink(backup)  # rename between two links of one file does nothing
                else:
                    _unlink(path)
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {str(path)!r}: {exc.strerror}") from None
        raise
    for _, backup in done:
        if backup is not None:
            _unlink(backup)


def _backup(path: Path) -> Path:
    """A second name for ``path``'s current version (a hard link, else a copy)."""
    for _ in range(100):
        keep = path.parent / f".{path.name}.{secrets.token_hex(4)}.bak"
        try:
            os.link(path, keep, follow_symlinks=False)
            return keep
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system
            break
    fd, keep = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".bak", dir=path.parent)
    os.close(fd)
    shutil.copy2(path, keep, follow_symlinks=False)
    return Path(keep)


def replace_folder(artifacts, outdir, owner_file: str | None = None) -> list[Path]:
    """Make ``outdir`` hold exactly ``artifacts``, swapped in by one rename.

    ``owner_file`` names the file that marks a folder this writer made before (a batch's
    ``manifest.json``): a non-empty folder without it is refused rather than replaced.
    """
    out = Path(os.path.abspath(outdir))
    if os.path.islink(out):
        out = out.resolve()  # swap the folder the link points to; the link stays
    _check_folder(out)
    cwd = Path.cwd()
    if out == cwd or out in cwd.parents:
        raise ExportError(f"output directory {str(outdir)!r} holds the current folder; "
                          "give a folder of its own")
    if owner_file is not None and os.path.isdir(out) and not os.path.isfile(out / owner_file) \
            and any(out.iterdir()):
        raise ExportError(
            f"output directory {str(outdir)!r} is not empty and holds no {owner_file}: "
            "the build replaces its whole output folder; give a new or empty folder"
        )
    created = _make_parents(out)
    try:
        with _locked(out):
            _remove_stale_folders(out)
            try:
                new = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".new",
                                            dir=out.parent))
            except OSError as exc:
                raise ExportError(f"cannot create output directory {str(out)!r}: "
                                  f"{exc.strerror}") from None
            try:
                os.chmod(new, 0o777 & ~current_umask())  # mkdtemp makes 0700
                for art in artifacts:
                    try:
                        (new / art.filename).write_bytes(art.text.encode("utf-8"))
                    except OSError as exc:
                        raise ExportError(f"cannot write {str(out / art.filename)!r}: "
                                          f"{exc.strerror}") from None
                _swap(new, out)
            except BaseException:
                shutil.rmtree(new, ignore_errors=True)
                raise
    except BaseException:
        _remove_dirs(created)
        raise
    return [out / art.filename for art in artifacts]


def _swap(new: Path, out: Path) -> None:
    """Put folder ``new`` at ``out``; the old ``out`` is renamed aside, then removed."""
    try:
        if not os.path.lexists(out):
            os.rename(new, out)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        try:
            os.rename(out, old)  # over the empty `old`: atomic
        except BaseException:
            _rmdir(old)
            raise
        try:
            os.rename(new, out)
        except BaseException:
            os.rename(old, out)
            raise
    except OSError as exc:
        raise ExportError(f"cannot replace output directory {str(out)!r}: "
                          f"{exc.strerror}") from None
    shutil.rmtree(old, ignore_errors=True)


# ---- folders ---------------------------------------------------------------------------------
def _check_folder(out: Path) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise ExportError(f"output directory {str(out)!r} is a file; give a directory")


def _make_parents(out: Path) -> list[Path]:
    """Create the missing ancestors of ``out`` (not ``out``); return them, outermost first."""
    missing = []
    for parent in Path(os.path.abspath(out)).parents:
        if os.path.exists(parent):
            break
        missing.append(parent)
    created: list[Path] = []
    for parent in reversed(missing):
        try:
            parent.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            _remove_dirs(created)
            raise ExportError(f"cannot create output directory {str(out)!r}: "
                              f"{exc.strerror}") from None
        created.append(parent)
    return created


def _make_folder(out: Path) -> bool:
    """Create ``out`` itself; True if this call made it."""
    try:
        out.mkdir()
        return True
    except FileExistsError:
        _check_folder(out)
        return False
    except OSError as exc:
        raise ExportError(f"cannot create output directory {str(out)!r}: "
                          f"{exc.strerror}") from None


def _remove_dirs(created: list[Path]) -> None:
    for d in reversed(created):
        _rmdir(d)


def _remove_stale(out: Path, filenames) -> None:
    """Temporaries and backups of these files left by a writer that was killed."""
    names = {re.escape(f) for f in filenames}
    if not names:
        return
    stale = re.compile(rf"^\.({'|'.join(names)})\.[a-z0-9_]{{8}}\.(tmp|bak)$")
    for entry in os.listdir(out):
        if stale.match(entry):
            _unlink(out / entry)


def _remove_stale_folders(out: Path) -> None:
    """Folders beside ``out`` left by a writer that was killed; one killed between its two
    renames left ``out`` missing and the old folder aside: that one is put back first."""
    stale = re.compile(rf"^\.{re.escape(out.name)}\.[a-z0-9_]{{8}}\.(new|old)$")
    for entry in sorted(os.listdir(out.parent)):
        if stale.match(entry):
            if entry.endswith(".old") and not os.path.lexists(out):
                with contextlib.suppress(OSError):
                    os.rename(out.parent / entry, out)
                    continue
            shutil.rmtree(out.parent / entry, ignore_errors=True)


# ---- the lock --------------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(out: Path):
    """Hold the write lock of folder ``out``: ``.<name>.lock`` beside it, removed after."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    out = Path(os.path.abspath(out))
    lock = out.parent / f".{out.name}.lock"
    busy = ExportError(f"another lutgen is writing into {str(out)!r}; wait for it to finish, "
                       "then run again")
    fd = None
    for _ in range(10):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask())
        except OSError as exc:
            if not os.path.isdir(out):
                raise ExportError(f"cannot create output directory {str(out)!r}: "
                                  f"{exc.strerror}") from None
            lock, fd = None, os.open(out, os.O_RDONLY)  # no writable parent: lock the folder
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        if lock is None or _same_file(fd, lock):
            break
        os.close(fd)  # the previous holder removed that lock file: lock the one there now
        fd = None
    if fd is None:
        raise busy
    try:
        yield
    finally:
        if lock is not None:
            _unlink(lock)  # while still held: a writer waiting on it then tries again
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _rmdir(path) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass

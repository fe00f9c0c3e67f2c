"""A results folder that is written whole or not at all, by one run at a time.

Why: a country team publishes what lands in ``--out``. Writing each file atomically is not
enough — a run killed half-way, two runs into one folder, or a rerun that produces fewer files
would leave a folder that *looks* complete but mixes runs. So a run

1. refuses an ``--out`` that is, contains or lies inside one of its inputs (inputs are
   read-only to clrisk);
2. takes a lock (``fcntl.flock`` on a hidden sibling file) so a second concurrent run into the
   same folder stops with a message instead of interleaving files;
3. writes every file into a new hidden sibling folder (same file system) and, at the end,
   swaps it in for the old folder (an atomic exchange where the kernel offers it, else two
   renames), then deletes the old one. A reader sees the previous complete result or the new
   one — never a mix; files the new run does not produce disappear with the old folder;
4. cleans the leftovers of a killed run (its hidden staging or old folders) on the next run;
5. refuses to replace a non-empty folder that is not a clrisk results folder (no
   ``manifest.json``), so a mistyped ``--out`` cannot wipe a team's documents.

File-system failures (not writable, read-only, disk full, ``--out`` is a file) become an
:class:`~clrisk.errors.OutputError` with one translated line naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from clrisk.errors import DataError, OutputError
from clrisk.i18n import _

MANIFEST = "manifest.json"
STAGING_TAG = ".clrisk-new-"
OLD_TAG = ".clrisk-old-"
LOCK_TAG = ".clrisk-lock"


def _resolved(path: str | Path) -> Path:
    """Absolute path with symlinks resolved (also for parts that do not exist yet)."""
    return Path(os.path.abspath(Path(path).expanduser())).resolve(strict=False)


def check_not_input(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """Refuse an output folder that is, contains or lies inside an input file or folder."""
    target = _resolved(out)
    for item in inputs:
        src = _resolved(item)
        if target == src or src.is_relative_to(target) or target.is_relative_to(src):
            raise DataError(_(
                "--out {out}: the output folder overlaps the input {src}; clrisk never writes "
                "into its inputs. Fix: choose an output folder outside the data folder, e.g. "
                "{hint}").format(out=out, src=src, hint=src.parent.parent / "results"
                                 if src.is_file() else src.parent / (src.name + "-results")))


def os_error(exc: OSError, path: str | Path) -> OutputError:
    """One translated line for a file-system failure while writing ``path``."""
    code = exc.errno
    where = str(path)
    if code in (errno.EACCES, errno.EPERM):
        msg = _("cannot write to {path}: permission denied. Fix: choose a folder you can write "
                "to with --out, or change its permissions")
    elif code == errno.EROFS:
        msg = _("cannot write to {path}: the file system is read-only. Fix: choose an output "
                "folder on a writable disk with --out")
    elif code in (errno.ENOSPC, errno.EDQUOT):
        msg = _("cannot write to {path}: the disk is full (nothing was changed). Fix: free "
                "some space or choose another disk with --out")
    elif code in (errno.ENOTDIR, errno.EEXIST):
        msg = _("cannot write to {path}: a file (not a folder) is in the way. Fix: give --out "
                "a folder name that is not an existing file")
    elif code == errno.ENAMETOOLONG:
        msg = _("cannot write to {path}: the name is too long. Fix: choose a shorter --out")
    else:
        msg = _("cannot write to {path}: {reason}. Fix: check the folder given with --out")
    return OutputError(msg.format(path=where, reason=exc.strerror or str(exc)))


# Files clrisk run wrote before manifests existed: a folder holding only these (and no
# sub-folders) is an earlier results folder, safe to replace.
LEGACY_OUTPUTS = {"territories.csv", "territories.gpkg", "ivti.csv", "model.json",
                  "coefficients.csv", "factor_weights.csv", "national_factors.csv", "report.md",
                  "markers.csv", "benchmark.csv"}


def _is_results_folder(path: Path) -> bool:
    if (path / MANIFEST).is_file():
        return True
    entries = list(path.iterdir()) if path.is_dir() else []
    return bool(entries) and all(
        p.is_file() and (p.name in LEGACY_OUTPUTS or (p.name.startswith("map_")
                                                      and p.suffix in (".png", ".svg")))
        for p in entries)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries (Linux ``renameat2(RENAME_EXCHANGE)``)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


class ResultsFolder:
    """Lock, stage and swap in a results folder (use as a context manager).

    ``with ResultsFolder(out, inputs) as folder:`` checks ``out``, takes the lock and cleans
    leftovers; write files into ``folder.staging``; call ``folder.commit()`` to swap them in.
    Leaving the block without ``commit()`` (an error, Ctrl-C) discards the staging folder and
    leaves the previous result untouched.
    """

    def __init__(self, out: str | Path, inputs: Iterable[str | Path] = ()) -> None:
        self.given = Path(out)
        self.target = _resolved(out)
        self.inputs = list(inputs)
        self.parent = self.target.parent
        self.lock_path = self.parent / f".{self.target.name}{LOCK_TAG}"
        self._lock_fd: int | None = None
        self._staging: Path | None = None
        self.committed = False

    # -- checks ----------------------------------------------------------------------------
    def check(self) -> None:
        """Everything that can be refused before any computation."""
        check_not_input(self.given, self.inputs)
        if self.target.exists() and not self.target.is_dir():
            raise OutputError(_("--out {path} is an existing file, not a folder. Fix: give a "
                                "folder name (it is created if missing)").format(
                                    path=self.given))
        if (self.target.is_dir() and any(self.target.iterdir())
                and not _is_results_folder(self.target)):
            raise OutputError(_(
                "--out {path} is a non-empty folder that is not a clrisk results folder (it "
                "has no {manifest}); clrisk replaces the whole folder, so it will not use it. "
                "Fix: choose a new or empty folder, or remove this one yourself").format(
                    path=self.given, manifest=MANIFEST))

    # -- lock ------------------------------------------------------------------------------
    def _acquire(self) -> None:
        import fcntl

        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, self.parent) from exc
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise os_error(exc, self.given) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                os.close(fd)
                raise OutputError(_(
                    "--out {path}: another clrisk run is writing into this folder right now. "
                    "Fix: wait for it to finish, or choose another --out").format(
                        path=self.given)) from exc
            # The holder before us may have removed the lock file after unlocking; a lock on
            # an unlinked file protects nothing, so retry on the file now at that path.
            try:
                same = os.stat(self.lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._lock_fd = fd
                return
            os.close(fd)

    def _release(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.lock_path)
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- leftovers -------------------------------------------------------------------------
    def leftovers(self) -> list[Path]:
        """Hidden staging/old folders of earlier runs into this folder (killed runs)."""
        stem = f".{self.target.name}"
        if not self.parent.is_dir():
            return []
        return sorted(p for p in self.parent.iterdir()
                      if p.name.startswith(stem + STAGING_TAG) or p.name.startswith(stem + OLD_TAG))

    def _clean_leftovers(self) -> None:
        """Under the lock, no other run owns a leftover: restore or delete it."""
        for p in self.leftovers():
            if (OLD_TAG in p.name and not self.target.exists() and _is_results_folder(p)):
                os.rename(p, self.target)  # killed between the two renames: put it back
            else:
                shutil.rmtree(p, ignore_errors=True)

    # -- staging and swap ------------------------------------------------------------------
    @property
    def staging(self) -> Path:
        """The hidden sibling folder this run writes into (created on first use)."""
        if self._staging is None:
            name = f".{self.target.name}{STAGING_TAG}{os.getpid()}"
            path = self.parent / name
            try:
                if path.exists():
                    shutil.rmtree(path)
                path.mkdir()
            except OSError as exc:
                raise os_error(exc, self.given) from exc
            self._staging = path
        return self._staging

    def commit(self) -> None:
        """Swap the staging folder in for the target and delete the previous result."""
        staging = self.staging
        old = self.parent / f".{self.target.name}{OLD_TAG}{os.getpid()}"
        try:
            if self.target.exists():
                if _exchange(staging, self.target):
                    os.rename(staging, old)  # staging now holds the previous result
                else:
                    os.rename(self.target, old)
                    os.rename(staging, self.target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(staging, self.target)
        except OSError as exc:
            raise os_error(exc, self.given) from exc
        self._staging = None
        self.committed = True
        _fsync_dir(self.parent)

    def discard(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def __enter__(self) -> ResultsFolder:
        self.check()
        self._acquire()
        try:
            self._clean_leftovers()
            self.check()  # a leftover may have been restored
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if not self.committed:
                self.discard()
        finally:
            self._release()


def _fsync_dir(path: Path) -> None:
    """Make the renames durable (a power cut after the run keeps the new folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def translate_os_errors(path: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing into a one-line :class:`OutputError`."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise os_error(exc, path) from exc

"""Files that are complete or absent: atomic writes, atomic folders, hashes, append-only logs.

Every file the library writes goes through this module. A file is written to a temporary
sibling name, flushed to disk and renamed into place (``os.replace`` is atomic on POSIX), so a
crash leaves either the old file or the new one, never a truncated mix. A folder (a saved
model) is assembled in a temporary sibling folder and renamed into place; replacing one moves
the old folder aside first, so no stale file of the old folder survives. Output paths are
checked against the inputs of a command before any work starts (:func:`check_output`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = [
    "append_lines",
    "atomic_folder",
    "atomic_write",
    "check_output",
    "sha256_file",
    "write_text",
]


def _fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` by calling ``write(tmp)`` on a temporary sibling, then renaming it.

    Parameters
    ----------
    path : path
        The file to (re)place; its folder is created if needed.
    write : callable
        Writes the complete content to the path it is given (e.g.
        ``lambda p: df.to_csv(p, index=False)``); the temporary name keeps ``path``'s
        suffixes, so writers that infer a format from them (``.csv.gz``, ``.png``) still do.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix="".join(
        path.suffixes))
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``; see :func:`atomic_write`."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary sibling name; rename it to ``path`` on success.

    Parameters
    ----------
    path : path
        The folder to create.
    overwrite : bool
        Replace an existing ``path`` as a whole (nothing of the old folder is left). Without
        it, an existing non-empty ``path`` is refused before anything is written.

    Yields
    ------
    Path
        The temporary folder to write into; removed if the block raises.

    Raises
    ------
    FileExistsError
        If ``path`` exists (a file, or a non-empty folder) and ``overwrite`` is False.
    """
    path = Path(path)
    _refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                with open(child, "rb+") as fh:
                    os.fsync(fh.fileno())
        _refuse_existing(path, overwrite)  # another writer may have been faster
        old = None
        if path.exists() or path.is_symlink():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old-"))
            os.replace(path, old / "folder")
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _refuse_existing(path: Path, overwrite: bool) -> None:
    if overwrite or not (path.exists() or path.is_symlink()):
        return
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        return
    raise FileExistsError(f"{path} already exists; pass overwrite (--overwrite) to replace it")


def check_output(
    out: str | Path, inputs: Iterable[str | Path | None] = (), *, overwrite: bool = False
) -> Path:
    """Refuse an output path that is one of the inputs, or that exists without ``overwrite``.

    Call it before any work starts, so a refused command costs nothing.

    Parameters
    ----------
    out : path
        The file or folder to write.
    inputs : iterable of path
        Files or folders the command reads (None entries are skipped); ``out`` may be none of
        them, nor lie inside an input folder, nor contain an input, even with ``overwrite``.
    overwrite : bool
        Allow replacing an existing ``out``.

    Returns
    -------
    Path

    Raises
    ------
    FileExistsError
        Naming the clash.
    """
    out = Path(out)
    target = out.resolve()
    for item in inputs:
        if item is None:
            continue
        source = Path(item).resolve()
        if target == source or source in target.parents or target in source.parents:
            raise FileExistsError(
                f"output {out} would overwrite the input {item}; choose another output path"
            )
    _refuse_existing(out, overwrite)
    return out


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 digest of the file ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def append_lines(path: str | Path, lines: Iterable[str]) -> None:
    """Append ``lines`` (each ending with a newline) to ``path`` and fsync it.

    The log then survives a kill at any later moment; a kill during this call leaves at most
    an incomplete last line, which readers must drop (as :class:`fits.scan.store.ScanStore`
    does).
    """
    text = "".join(lines)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())

"""Reading input folders: one listing and one reader for every registry and rule file.

Everything that reads a registry or a rulebook (the loader, the result memo's
key, the cache of compiled rulebooks, lint, the rule cases, fmt) lists its
folder with `listing` and reads each file with `read`, so that none of them
can read what another refuses:

- a folder is listed with os.scandir; a folder that cannot be listed (no
  permission) is a problem naming it (`unreadable-folder`), never a folder
  silently left out; symlinked folders are not followed;
- an entry is a file only if it is a regular file (lstat): a FIFO, a socket
  or a device is a problem (`unreadable-file`, "not a regular file") and is
  never opened;
- a symbolic link is resolved first: one whose target lies outside the folder
  being read (`~/.netrc`, `/dev/stdin`, a YAML file elsewhere) is a problem
  (`symlink-outside`), reported without opening, reading or quoting the target;
  a link to a file inside the folder is read as that file; a broken link or a
  loop is `unreadable-file`;
- a file is opened with O_NONBLOCK and O_NOFOLLOW (a FIFO swapped in after the
  listing neither blocks the open nor is read), and its open descriptor is
  checked (fstat) to be the same regular file the listing saw;
- at most MAX_FILE_BYTES are read: a larger file is `file-too-large`.

A problem is an `FsProblem(code, rel, message)`: what to call the file is up
to the caller, which turns it into its own diagnostic.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

MAX_FILE_BYTES = 64 * 1024 * 1024
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass
class FsProblem(Exception):
    code: str  # unreadable-folder, unreadable-file, symlink-outside, file-too-large
    rel: str  # the path below the folder read, "/"-separated ("" for the folder itself)
    message: str  # says what is wrong, naming the file by `rel`; never quotes a link's target

    def say(self, where: str) -> str:
        """The message, naming the file (or folder) as the caller shows it."""
        return self.message.replace("\0PATH\0", where)


@dataclass(frozen=True)
class Entry:
    """A file of a listing: its parts below the folder, its path to open, and (st_dev, st_ino) as listed."""
    parts: tuple
    path: str
    ident: tuple

    @property
    def rel(self) -> str:
        return "/".join(self.parts)


def _why(e: OSError) -> str:
    return (e.strerror or str(e)).lower() if isinstance(e, PermissionError) else (e.strerror or str(e))


def listing(root, *, want=None, hidden: bool = False, skip_dirs=(),
            wanted_folders: bool = False, recursive: bool = True) -> tuple[list[Entry], list[FsProblem]]:
    """The files below `root` that `want(name)` accepts (all if None), sorted by parts, and every problem.

    `hidden`: also names beginning with "." (files and folders). `skip_dirs`: folder names not entered.
    `recursive`: False lists the folder's own files only.
    `wanted_folders`: a folder whose name `want` accepts (`a.rules/`) is a problem too ("not a regular file").
    The folder itself not listable is a problem with rel "". Raises nothing for a missing folder: the
    caller checks that first (and says "does not exist" in its own words).
    """
    root = os.fspath(root)
    try:
        real_root = os.path.realpath(root, strict=True)
    except OSError as e:
        return [], [FsProblem("unreadable-folder", "", f"cannot list folder \0PATH\0: {_why(e)}")]
    inside = real_root.rstrip(os.sep) + os.sep
    files: list[Entry] = []
    problems: list[FsProblem] = []

    def walk(folder: str, parts: tuple):
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda d: d.name)
        except OSError as e:
            problems.append(FsProblem("unreadable-folder", "/".join(parts),
                                      f"cannot list folder \0PATH\0: {_why(e)}"))
            return
        for d in entries:
            name = d.name
            if not hidden and name.startswith("."):
                continue
            sub = parts + (name,)
            rel = "/".join(sub)
            try:
                if d.is_dir(follow_symlinks=False):
                    if wanted_folders and want is not None and want(name):
                        problems.append(FsProblem("unreadable-file", rel, "\0PATH\0 is not a regular file"))
                    if recursive and name not in skip_dirs:
                        walk(d.path, sub)
                    continue
                if want is not None and not want(name):
                    continue
                if d.is_symlink():
                    entry = _link(d.path, sub, rel, inside)
                    if isinstance(entry, FsProblem):
                        problems.append(entry)
                    elif entry is not None:
                        files.append(entry)
                    continue
                st = d.stat(follow_symlinks=False)
            except OSError as e:
                problems.append(FsProblem("unreadable-file", rel, f"cannot read \0PATH\0: {_why(e)}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append(FsProblem("unreadable-file", rel, "\0PATH\0 is not a regular file"))
                continue
            files.append(Entry(sub, d.path, (st.st_dev, st.st_ino)))

    walk(root, ())
    files.sort(key=lambda e: e.parts)
    problems.sort(key=lambda p: p.rel.split("/"))
    return files, problems


def rule_files(root) -> tuple[list[Entry], list[FsProblem]]:
    """The *.rules files of a rulebook folder, its tests/ folders left out (the compiler's, lint's, fmt's and
    the rulebook cache's one listing)."""
    return listing(root, want=lambda n: n.endswith(".rules"), hidden=True, skip_dirs=("tests",),
                   wanted_folders=True)


def _link(path: str, parts: tuple, rel: str, inside: str):
    """The Entry a symbolic link stands for, a problem, or None (a link to a folder: not followed)."""
    try:
        real = os.path.realpath(path, strict=True)
    except FileNotFoundError:
        return FsProblem("unreadable-file", rel, "cannot read \0PATH\0: a broken symbolic link (no such file)")
    except OSError as e:  # a loop
        return FsProblem("unreadable-file", rel, f"cannot read \0PATH\0: {_why(e)}")
    if not real.startswith(inside):
        return FsProblem("symlink-outside", rel, "\0PATH\0 is a symbolic link to a file outside the folder; "
                                                 "it is not read")
    try:
        st = os.stat(real, follow_symlinks=False)
    except OSError as e:
        return FsProblem("unreadable-file", rel, f"cannot read \0PATH\0: {_why(e)}")
    if stat.S_ISDIR(st.st_mode):
        return None  # symlinked folders are not followed
    if not stat.S_ISREG(st.st_mode):
        return FsProblem("unreadable-file", rel, "\0PATH\0 is not a regular file")
    return Entry(parts, real, (st.st_dev, st.st_ino))


def read(entry: Entry, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a listed file (at most `limit`); raises FsProblem."""
    rel = entry.rel
    try:
        fd = os.open(entry.path, _FLAGS)
    except OSError as e:
        raise FsProblem("unreadable-file", rel, f"cannot read \0PATH\0: {_why(e)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != entry.ident:
            raise FsProblem("unreadable-file", rel, "\0PATH\0 is not a regular file (it changed while read)")
        if st.st_size > limit:
            raise FsProblem("file-too-large", rel, f"\0PATH\0 is {st.st_size:,} bytes; a file may be at most "
                                                   f"{limit // (1024 * 1024)} MiB")
        chunks, total = [], 0
        while True:
            b = os.read(fd, min(1 << 20, limit + 1 - total))
            if not b:
                break
            chunks.append(b)
            total += len(b)
            if total > limit:
                raise FsProblem("file-too-large", rel, f"\0PATH\0 is over {limit // (1024 * 1024)} MiB; a file "
                                                       f"may be at most {limit // (1024 * 1024)} MiB")
        return b"".join(chunks)
    except OSError as e:
        raise FsProblem("unreadable-file", rel, f"cannot read \0PATH\0: {_why(e)}") from None
    finally:
        os.close(fd)


def given(path) -> Entry | FsProblem:
    """The Entry of a file named on the command line (a what-if proposal): links followed, as the user
    named it, but only a regular file, never opened otherwise. rel is the path as given."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except OSError as e:
        return FsProblem("unreadable-file", "", f"cannot read \0PATH\0: {_why(e)}")
    if not stat.S_ISREG(st.st_mode):
        return FsProblem("unreadable-file", "", "\0PATH\0 is not a regular file")
    return Entry((), os.path.realpath(path), (st.st_dev, st.st_ino))


def one_file(folder, name: str) -> Entry | None | FsProblem:
    """The Entry of `folder/name` as `listing` would see it, None if absent (or a folder), or a problem."""
    folder = os.fspath(folder)
    path = os.path.join(folder, name)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return FsProblem("unreadable-file", name, f"cannot read \0PATH\0: {_why(e)}")
    if stat.S_ISLNK(st.st_mode):
        try:
            inside = os.path.realpath(folder, strict=True).rstrip(os.sep) + os.sep
        except OSError as e:
            return FsProblem("unreadable-folder", "", f"cannot list folder \0PATH\0: {_why(e)}")
        return _link(path, (name,), name, inside)
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return FsProblem("unreadable-file", name, "\0PATH\0 is not a regular file")
    return Entry((name,), path, (st.st_dev, st.st_ino))

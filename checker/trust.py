"""What the caches trust: a folder only its owner can write, and a key only its owner can read.

Every cache of torcheck (compiled rulebooks, checker.rulecache; registry
files, checker.cache; kept results and SQLite databases, checker.memo) is
keyed by a digest of public inputs, so a key alone proves nothing: anyone
who can write the cache folder could put there an entry that says "no
violations". An entry is therefore used only if it is sealed: it carries an
HMAC-SHA256, under a secret key of the user's, of what it says (its kind, its
key and its bytes). An entry that is not sealed, or not under this key, or
under the key of another entry, is a miss: the work is done again and the
entry written again.

The secret key is a file outside the cache folder, never copied with it:
`$TORCHECK_CACHE_KEY_FILE`, or `$XDG_CONFIG_HOME/torcheck/cache-key`, or
`~/.config/torcheck/cache-key`. The first run that needs it makes it (32
random bytes, hex; mode 0600 in a folder made 0700; written to a temporary
file and linked into place, so that two runs at once agree on one key). It is
trusted, as ssh trusts a private key, only if it is a regular file (not a
symbolic link) owned by the user, that neither its group nor others may read
or write, in a folder owned by the user (or root) that neither group nor
others may write, and not inside the cache folder.

The cache folder is used only if it, and every folder of it torcheck uses,
is a folder (below the cache folder: not a symbolic link) owned by the user
(or root) that neither its group nor others may write; torcheck makes the
folders it needs with mode 0700. Entries are read only if they are regular
files (opened without following a symbolic link and without waiting on a
FIFO); they are written to a temporary file (mode 0600) and renamed into
place.

When the key or the folder is not trusted, no cache is read or written at
all, and one warning says why on standard error (once per run; the report and
the exit status are those of `--no-cache`). A folder or key that cannot be
made (a read-only home, a file where the folder would be) only makes the cache
useless, silently, as before.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path

KEY_ENV = "TORCHECK_CACHE_KEY_FILE"
MIN_KEY = 32  # bytes of a key file, at least
_MAC_FIELD = b',"mac":"'
_TAIL = len(_MAC_FIELD) + 64 + 2  # ,"mac":"<64 hex digits>"}

_warned: set = set()
_opened: dict = {}


def key_file() -> Path:
    """Where the user's cache key is (or will be)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "torcheck" / "cache-key"


def _warn(path, reason: str) -> None:
    if str(path) in _warned:
        return
    _warned.add(str(path))
    try:
        print(f"{path}: warning[untrusted-cache]: the cache is not used: {reason} "
              "(see \"What the caches trust\" in torcheck's README)", file=sys.stderr)
    except (OSError, ValueError):
        pass


class _Untrusted(Exception):
    """A folder or file someone else could have written: the cache is not used, and the user is told."""


class _Unusable(Exception):
    """A folder or key that cannot be made or read: the cache is useless, silently."""


def _owner_ok(st) -> bool:
    return st.st_uid == os.getuid() or st.st_uid == 0


def _check_folder(st, path) -> None:
    if not stat.S_ISDIR(st.st_mode):
        raise _Unusable(f"{path} is not a folder")
    if not _owner_ok(st):
        raise _Untrusted("it is owned by another user")
    if st.st_mode & 0o022:
        raise _Untrusted("its group or others may write to it")


def _make_folders(path: Path) -> None:
    """Make path and any missing folder above it, each with mode 0700 (mkdir -p would honour the umask)."""
    missing = []
    p = path
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError:
            pass
        except OSError as e:
            raise _Unusable(str(e)) from None


def _root(path: Path) -> Path:
    """The real path of a folder that is the top of a cache or holds the key, made if missing and checked."""
    _make_folders(path)
    real = Path(os.path.realpath(path))
    try:
        st = os.lstat(real)
    except OSError as e:
        raise _Unusable(str(e)) from None
    try:
        _check_folder(st, real)
    except _Untrusted as e:
        raise _Untrusted((real, str(e))) from None
    return real


def _read_key(path: Path, cache_root: Path) -> bytes:
    folder = _root(path.parent)
    real = folder / path.name
    if real == cache_root or cache_root in real.parents:
        raise _Untrusted((real, "the key is inside the cache folder (it would be copied with it)"))
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)
    except FileNotFoundError:
        fd = _make_key(real)
    except OSError as e:
        if os.path.islink(real):
            raise _Untrusted((real, "the key is a symbolic link")) from None
        raise _Unusable(str(e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Untrusted((real, "the key is not a regular file"))
        if st.st_uid != os.getuid():
            raise _Untrusted((real, "the key is owned by another user"))
        if st.st_mode & 0o077:
            raise _Untrusted((real, "its group or others may read or write the key (chmod 600 it)"))
        data = os.read(fd, 4096).strip()
    finally:
        os.close(fd)
    if len(data) < MIN_KEY:
        raise _Untrusted((real, f"the key is shorter than {MIN_KEY} bytes"))
    return data


def _make_key(path: Path) -> int:
    """Make the key file (all at once: a temporary file linked into place) and open it."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mode 0600
    except OSError as e:
        raise _Unusable(str(e)) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another run made it first: its key is the key
    except OSError as e:
        raise _Unusable(str(e)) from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise _Unusable(str(e)) from None


def _subfolder(p: Path) -> Path | None:
    """p, a folder of the cache (made 0700 if missing), if it is one only its owner can write."""
    try:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            try:
                os.mkdir(p, 0o700)
            except FileExistsError:
                pass
            st = os.lstat(p)
        _check_folder(st, p)  # a symbolic link is not a folder: lstat does not follow it
    except _Untrusted as e:
        _warn(p, str(e))
        return None
    except (_Unusable, OSError):
        return None
    return p


class Cache:
    """A trusted cache folder and the key its entries are sealed with."""

    def __init__(self, root: Path, secret: bytes):
        self.root = root
        self._secret = secret
        self._folders: dict = {}

    # ------------------------------------------------------------ folders
    def folder(self, *parts: str) -> Path | None:
        """root/parts..., each folder made (0700) if missing and checked; None if one is not usable."""
        p = self.root
        for i, name in enumerate(parts):
            sub = parts[: i + 1]
            if sub not in self._folders:
                self._folders[sub] = _subfolder(p / name)
            p = self._folders[sub]
            if p is None:
                return None
        return p

    # ------------------------------------------------------------ sealing
    def mac(self, purpose: str, key: str, *chunks) -> str:
        h = hmac.new(self._secret, b"torcheck cache\0%s\0%s\0" % (purpose.encode(), key.encode()), hashlib.sha256)
        for c in chunks:
            h.update(c)
        return h.hexdigest()

    def seal(self, purpose: str, key: str, body: bytes) -> bytes:
        """A JSON object's bytes with its seal as a last member, "mac": still a plain JSON object."""
        if not body.endswith(b"}") or body == b"{}":
            raise ValueError("not a JSON object with members")
        return b"%s%s%s\"}" % (body[:-1], _MAC_FIELD, self.mac(purpose, key, body).encode())

    def opens(self, purpose: str, key: str, raw: bytes) -> bool:
        """Whether raw is a body sealed by `seal` for purpose and key, under this key."""
        if len(raw) < _TAIL + 2 or raw[-_TAIL:-_TAIL + len(_MAC_FIELD)] != _MAC_FIELD or raw[-2:] != b'"}':
            return False
        mv = memoryview(raw)
        expected = self.mac(purpose, key, mv[:-_TAIL], b"}")
        return hmac.compare_digest(expected.encode(), raw[-66:-2])

    # ------------------------------------------------------------ files
    @staticmethod
    def read(path) -> bytes | None:
        """The bytes of a regular file (never a FIFO, a device or a symbolic link), or None."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            with os.fdopen(fd, "rb", closefd=False) as fh:
                return fh.read()
        except (OSError, MemoryError):
            return None
        finally:
            os.close(fd)

    @staticmethod
    def write(path: Path, data: bytes) -> bool:
        """Write data to path all at once (a temporary file, mode 0600, renamed into place)."""
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            return True
        except BaseException as e:  # an interrupted write leaves no temporary file behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(e, OSError):
                return False
            raise


def open_cache(root=None) -> Cache | None:
    """The cache at root (default: checker.cache.cache_dir()) if it and the key are trusted, else None."""
    if root is None:
        from .cache import cache_dir

        try:
            root = cache_dir()
        except (RuntimeError, OSError):  # no home folder
            return None
    try:
        kf = key_file()
    except (RuntimeError, OSError):  # no home folder
        return None
    memo_key = (str(root), str(kf), os.getuid())
    if memo_key in _opened:
        return _opened[memo_key]
    cache = None
    try:
        real = _root(Path(root))
        cache = Cache(real, _read_key(Path(kf), real))
    except _Untrusted as e:
        where, reason = e.args[0] if isinstance(e.args[0], tuple) else (root, str(e))
        _warn(where, reason)
    except (_Unusable, OSError, ValueError, RuntimeError):
        pass
    _opened[memo_key] = cache
    return cache

"""Where S3 objects are stored under ``--out``: the one mapping from a key to a local path.

A key is any string of up to 1,024 bytes: it may hold ``..``, empty segments (``a//b``, or a
leading ``/`` that would make the rest absolute), NUL, or segments longer than a file name
may be; and ``a/b`` as an object and ``a/b/c`` as another is fine in S3, while one path
cannot be both a file and a folder. So a key is stored at ``<out>/<bucket folder>/<key>``
only when that path is safe and free; any other key gets a name of its own,
``<out>/renamed-keys/<bucket folder>/<digest of the key>/<its last segment, made safe>``,
which no key can reach as a plain path (bucket folders are lower-case logical ids, never
with a ``-``), and which is the same for the same key in every run. The report and the
page name every object by its real key, beside where it was stored.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

RENAMED_FOLDER = "renamed-keys"
# A file name may hold 255 bytes; boto3 downloads to "<name>.<8 hex digits>" first.
MAX_SEGMENT_BYTES = 255 - 9
DIGEST_CHARS = 20


def _as_path(key: str) -> PurePosixPath | None:
    """The key as a relative path, if every segment of it is a plain file name."""
    segments = key.split("/")
    for segment in segments:
        if segment in ("", ".", "..") or "\x00" in segment:
            return None
        try:
            if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
                return None
        except UnicodeEncodeError:  # a lone surrogate: no file name can hold it
            return None
    return PurePosixPath(*segments)


def _safe_name(key: str) -> str:
    """The key's last non-empty segment as a file name: the page finds outputs by name."""
    last = next((s for s in reversed(key.split("/")) if s not in ("", ".", "..")), "object")
    name = last.replace("\x00", "_").encode("utf-8", "replace").decode("utf-8")
    suffix = PurePosixPath(name).suffix
    while len(name.encode("utf-8")) > MAX_SEGMENT_BYTES:  # keep the extension, cut the stem
        stem = name[: len(name) - len(suffix)]
        name = stem[: len(stem) - 1] + suffix if len(suffix) < 16 else name[:-1]
    return name


class LocalPaths:
    """Gives each (bucket folder, key) of a run one path under ``root``, never outside it,
    never one that another key holds, as a file or as a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[tuple[str, str], Path] = {}
        self._files: set[Path] = set()
        self._folders: set[Path] = set()

    def path(self, folder: str, key: str) -> Path:
        """Where the object ``key`` of the bucket stored in ``folder`` goes; it is the key's
        from now on."""
        path = self._choose(folder, key)
        self._paths[(folder, key)] = path
        self._files.add(path)
        self._folders.update(path.parents)
        return path

    def is_renamed(self, path: Path) -> bool:
        return path.is_relative_to(self.root / RENAMED_FOLDER)

    def download(self, s3: Any, bucket: str, key: str, folder: str) -> Path:
        """One object to its local path; returns the path. A key the bucket does not hold
        (ClientError) takes no path."""
        target = self._choose(folder, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))
        return self.path(folder, key)

    def _choose(self, folder: str, key: str) -> Path:
        known = self._paths.get((folder, key))
        if known is not None:
            return known
        relative = _as_path(key)
        path = self.root / folder / relative if relative is not None else None
        if path is None or not self._free(path):
            path = self._renamed(folder, key)
        return path

    def _free(self, path: Path) -> bool:
        """No other key holds the path or a folder of it, and nothing on disk is in the way:
        no file where a folder must be, no folder where the file must be, no link to follow."""
        if path in self._files or path in self._folders:
            return False
        below_root = [p for p in path.parents if p.is_relative_to(self.root) and p != self.root]
        if any(folder in self._files for folder in below_root):
            return False
        for folder in below_root:
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                return False
        return not path.is_symlink() and (not path.exists() or path.is_file())

    def _renamed(self, folder: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        base = self.root / RENAMED_FOLDER / folder
        for length in range(DIGEST_CHARS, len(digest) + 1):  # longer only on a clash
            path = base / digest[:length] / _safe_name(key)
            if self._free(path):
                return path
        raise RuntimeError(f"no free local name for s3 key {key!r}")  # 2**-80: not in practice

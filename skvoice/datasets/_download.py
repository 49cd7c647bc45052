"""Downloading and unpacking corpora: checksums, atomic writes, nothing half-done."""

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from .._io_atomic import atomic_write

__all__ = ["file_digest", "download", "fetch_archive", "unpack"]


def file_digest(path, algorithm):
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url, dest, checksum, opener):
    """Stream ``url`` to ``dest`` atomically, verifying ``checksum`` (``algo:hex``)."""
    from tqdm.auto import tqdm

    algorithm, _, expected = checksum.partition(":") if checksum else ("md5", "", "")
    h = hashlib.new(algorithm or "md5")
    # Interrupted or bad download: atomic_write leaves nothing half-written behind.
    with atomic_write(dest) as tmp, opener(url) as resp:
        total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
        with tqdm(
            total=int(total) if total else None,
            unit="B",
            unit_scale=True,
            desc=f"Downloading {dest.name}",
            disable=None,  # no bar off a terminal
        ) as bar:
            for block in iter(lambda: resp.read(1 << 20), b""):
                tmp.write(block)
                h.update(block)
                bar.update(len(block))
        if expected and h.hexdigest() != expected.lower():
            raise OSError(
                f"Checksum mismatch for {url}: expected {algorithm}:{expected}, got "
                f"{algorithm}:{h.hexdigest()}. The download was removed; try again."
            )


def fetch_archive(url, archive, checksum, opener):
    """Download ``url`` to ``archive`` unless a copy matching ``checksum`` is there."""
    if archive.exists() and checksum:
        algorithm, _, expected = checksum.partition(":")
        if file_digest(archive, algorithm) != expected.lower():
            archive.unlink()
    if not archive.exists():
        download(url, archive, checksum, opener)


def unpack(archive, target, *, root_of=None, verify=None):
    """Extract ``archive`` into ``target`` atomically, then mark it complete.

    The archive is extracted into a staging folder beside ``target`` (tar's
    ``"data"`` filter: no absolute paths, links out or devices). ``root_of(staging)``
    picks the folder to keep (default the staging folder itself) and
    ``verify(root)`` may raise to refuse it; only then does it replace ``target``,
    so an interrupted or refused unpacking leaves nothing behind.
    """
    target = Path(target)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-extract-"))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        root = staging if root_of is None else root_of(staging)
        if verify is not None:
            verify(root)
        if target.exists():
            shutil.rmtree(target)
        os.replace(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    (target / ".complete").touch()

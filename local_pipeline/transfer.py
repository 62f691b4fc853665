"""Uploading a local file to the emulator without the emulator holding it twice.

boto3's ``upload_file`` sends a file over 8 MB in parts. moto then joins the parts in
memory when the upload completes (a ``bytearray`` of the whole object, then a ``bytes``
copy of it) before spooling the object to disk: three copies for a moment, 2.7 GB for a
1 GB CSV. One PUT, streamed from the file, reaches moto as one request body, which it
spools to disk as it stores it: one copy, for the length of the request. S3 takes up to
5 GiB in one PUT; beyond that the upload goes in parts, as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SINGLE_PUT_LIMIT = 5 * 1024**3  # S3's limit for one PUT


def upload_file(s3: Any, path: Path, bucket: str, key: str) -> None:
    """Upload ``path`` as ``key``: one streamed PUT up to S3's limit, parts beyond."""
    size = path.stat().st_size
    if size > SINGLE_PUT_LIMIT:
        s3.upload_file(str(path), bucket, key)
        return
    with path.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentLength=size)

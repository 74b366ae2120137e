"""Request bodies, plain or ``Content-Encoding: gzip``.

A gzip body is inflated while it streams in, never more than ``PROVHUB_MAX_BODY_MB`` of output:
the limit applies to the decompressed size (the compressed size is held to it too, by Flask's
MAX_CONTENT_LENGTH), so a gzip bomb is a 413 after at most that much inflated, not an
out-of-memory. Other encodings are 415.
"""

from __future__ import annotations

import zlib

from flask import request

from provhub.provdm.errors import MalformedDocument, PayloadTooLarge, UnsupportedMediaType

_CHUNK = 1 << 16


def request_body(limit: int) -> bytes:
    """The request's body, decoded; at most ``limit`` bytes (413 above)."""
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        return request.get_data(cache=False)
    if encoding not in ("gzip", "x-gzip"):
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not accepted; send gzip or identity", where="Content-Encoding"
        )
    return _gunzip(request.stream, limit)


def request_text(limit: int) -> str:
    """The request's body as UTF-8 text (:func:`request_body`; 400 naming the byte otherwise)."""
    raw = request_body(limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedDocument(f"the body is not UTF-8 text (byte {exc.start})", where=f"byte {exc.start}") from None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the decompressed request body is larger than this service accepts ({limit / 1048576:g} MiB)", where="body"
    )


def _gunzip(stream, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
    out: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            data = chunk
            while data:
                # never more than what the limit still allows, plus one byte to see it passed
                piece = inflater.decompress(data, min(_CHUNK * 4, limit - size + 1))
                size += len(piece)
                if size > limit:
                    raise _too_large(limit)
                out.append(piece)
                data = inflater.unconsumed_tail
                if inflater.eof:
                    if inflater.unused_data.strip(b"\0"):
                        raise MalformedDocument("the gzip body holds more than one member", where="body")
                    data = b""
    except zlib.error as exc:
        raise MalformedDocument(f"the body is not valid gzip: {exc}", where="body") from None
    if not inflater.eof:
        raise MalformedDocument("the gzip body is truncated", where="body")
    return b"".join(out)

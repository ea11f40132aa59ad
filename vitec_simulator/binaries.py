"""Real, small, deterministic file bytes: PNG pictures and PDF or text documents."""

from __future__ import annotations

import hashlib
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def colour_for(key: str) -> tuple[int, int, int]:
    """A stable RGB colour derived from a key."""
    digest = hashlib.sha256(key.encode()).digest()
    return digest[0], digest[1], digest[2]


def png(key: str, width: int = 32, height: int = 24, min_bytes: int = 0) -> bytes:
    """A valid solid-colour RGB PNG whose colour and text comment derive from `key`, padded with a
    text chunk to at least `min_bytes`."""
    red, green, blue = colour_for(key)
    row = b"\x00" + bytes((red, green, blue)) * width  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [
        PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"tEXt", b"Comment\x00" + key.encode("ascii", "replace")),
        _chunk(b"IDAT", zlib.compress(row * height, 9)),
    ]
    size = sum(map(len, chunks)) + 12  # the IEND chunk
    if size < min_bytes:
        # A chunk's own length, type and CRC take 12 bytes; its data at least the keyword.
        padding = b"Padding\x00"
        chunks.append(_chunk(b"tEXt", padding + b" " * max(0, min_bytes - size - 12 - len(padding))))
    chunks.append(_chunk(b"IEND", b""))
    return b"".join(chunks)


def _pdf_text(value: str) -> bytes:
    encoded = value.encode("cp1252", "replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf(title: str, subtitle: str) -> bytes:
    """A minimal valid one-page PDF 1.4 showing two lines of text, with a correct xref table."""
    stream = b"BT /F1 18 Tf 56 760 Td (" + _pdf_text(title) + b") Tj 0 -28 Td /F1 10 Tf ("
    stream += _pdf_text(subtitle) + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def text_document(title: str, subtitle: str) -> bytes:
    """A plain UTF-8 text document."""
    return f"{title}\n{'=' * len(title)}\n\n{subtitle}\n".encode()

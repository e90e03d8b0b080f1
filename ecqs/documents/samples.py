"""Small generated files for demo applications (and tests): a one-page PDF naming the document,
and a PNG for a photo, so reviewers have something to open. Only ASCII goes into the PDF (no font
needs embedding); the document's Chinese name is the file name."""

from __future__ import annotations

import io
import struct
import zlib

from werkzeug.datastructures import FileStorage

from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules


def sample_pdf(text: str = "e-CQS demo document") -> bytes:
    """A valid one-page PDF showing `text` (ASCII)."""
    safe = "".join(ch for ch in text if 32 <= ord(ch) < 127 and ch not in "()\\")
    stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def sample_png(width: int = 90, height: int = 120, rgb=(70, 130, 180)) -> bytes:
    """A valid PNG of one colour (a stand-in for a 1-inch photo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def sample_file(requirement) -> FileStorage:
    """A file for one document: a PNG for a photo, otherwise a PDF."""
    if "照片" in requirement.name:
        return FileStorage(io.BytesIO(sample_png()), filename=f"{requirement.name}.png")
    pdf = sample_pdf(f"e-CQS demo: document {requirement.id} ({requirement.domain})")
    return FileStorage(io.BytesIO(pdf), filename=f"{requirement.name}.pdf")


def sample_documents(requirements, optional: bool = False) -> dict:
    """{requirement id: [file]} for every required document (and the optional ones if asked)."""
    return {r.id: [sample_file(r)] for r in requirements if r.required or optional}


def attach_samples(parent, user, optional: bool = False) -> int:
    """Attach a generated file to every required document of `parent` that has none yet."""
    present = {d.requirement_id for d in document_rules.current_documents(parent)}
    wanted = [r for r in document_rules.application_requirements(parent) if r.id not in present]
    files = sample_documents(wanted, optional)
    for requirement_id, items in files.items():
        document_operations.attach(parent, requirement_id, items, user)
    return len(files)

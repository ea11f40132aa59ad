"""Print-size copies of estate photos: what a report embeds, made once when an image is mirrored.

Cameras deliver 2400 x 1600 px and more; a report prints a photo at most 17.4 cm wide. Scaling a
camera photo down costs tens of milliseconds a picture (most of a report's render when it was done
per report), so `blobs.mirror` stores the copies next to the original and a report embeds their
bytes as they are. A report whose copies are missing (an image not mirrored yet, or mirrored
before the copies existed) makes them from the original while it renders.

Sizes, for typst's `fit: "cover"` boxes of a 3:2 photo: the cover (174 x 125 mm) gets 1 200 px,
about 165 ppi; a gallery picture (84 x 58 mm) 600 px, about 175 ppi. More pixels would not print
sharper at that size but would cost typst their decoding in every render (it decodes every picture
it embeds), and make the PDF larger.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageOps

COVER_PIXELS = 1200
GALLERY_PIXELS = 600
PRINT_SIZES = (COVER_PIXELS, GALLERY_PIXELS)
JPEG_QUALITY = 80


def print_blob_name(image_blob: str, longest: int) -> str:
    """Where the print-size copy of a mirrored image lives: named after the original's
    content-addressed blob, so no row records it, and other print sizes get other names."""
    return f"{image_blob}.print-{longest}.jpg"


def print_copy(content: bytes, longest: int) -> bytes | None:
    """The image as a JPEG whose longer side is at most `longest` pixels; None when unreadable."""
    copies = print_copies(content, (longest,))
    return None if copies is None else copies[longest]


def print_copies(content: bytes, sizes: Sequence[int] = PRINT_SIZES) -> dict[int, bytes] | None:
    """One JPEG per longest side in `sizes` (never larger than the image); None when unreadable."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            largest = max(sizes)
            scale = min(1.0, largest / max(opened.size))
            # A JPEG is decoded at a reduced scale (1/2, 1/4, 1/8, in the DCT): several times faster
            # than decoding it whole and resizing.
            opened.draft("RGB", (round(opened.width * scale), round(opened.height * scale)))
            image = _on_white(ImageOps.exif_transpose(opened))
            copies: dict[int, bytes] = {}
            for longest in sorted(sizes, reverse=True):  # each copy from the one before: less to resample
                image.thumbnail((longest, longest))
                out = io.BytesIO()
                image.save(out, "JPEG", quality=JPEG_QUALITY)
                copies[longest] = out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # a broken or hostile image is left out of the report, not a failed report
    return copies


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white paper (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image if image.mode == "RGB" else image.convert("RGB")

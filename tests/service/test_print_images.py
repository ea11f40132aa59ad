"""Print-size copies: a camera photo becomes one JPEG per print size, never enlarged, upright, on white."""

from __future__ import annotations

import io

from PIL import Image

from service.print_images import COVER_PIXELS, GALLERY_PIXELS, print_copies, print_copy
from tests.factories.reports import photo


def _size(jpeg: bytes | None) -> tuple[int, int]:
    assert jpeg is not None
    with Image.open(io.BytesIO(jpeg)) as image:
        assert (image.format, image.mode) == ("JPEG", "RGB")
        return image.size


def test_a_camera_photo_gets_a_cover_and_a_gallery_copy() -> None:
    copies = print_copies(photo(7))
    assert copies is not None
    assert {size: _size(jpeg) for size, jpeg in copies.items()} == {
        COVER_PIXELS: (COVER_PIXELS, COVER_PIXELS * 2 // 3),
        GALLERY_PIXELS: (GALLERY_PIXELS, GALLERY_PIXELS * 2 // 3),
    }
    assert len(copies[GALLERY_PIXELS]) < len(copies[COVER_PIXELS]) < len(photo(7)) // 5


def test_a_small_image_is_not_enlarged_and_transparency_lies_on_white() -> None:
    small = io.BytesIO()
    Image.new("RGBA", (120, 80), (255, 0, 0, 0)).save(small, "PNG")
    copy = print_copy(small.getvalue(), GALLERY_PIXELS)
    assert _size(copy) == (120, 80)
    assert copy is not None
    with Image.open(io.BytesIO(copy)) as image:
        assert all(channel > 240 for channel in image.getpixel((60, 40)))  # type: ignore[union-attr]


def test_a_portrait_photo_taken_sideways_is_turned_upright() -> None:
    sideways = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    Image.new("RGB", (1600, 1200), "gray").save(sideways, "JPEG", exif=exif)
    assert _size(print_copy(sideways.getvalue(), COVER_PIXELS)) == (900, 1200)


def test_bytes_that_are_no_picture_give_none() -> None:
    assert print_copies(b"not a picture at all") is None
    assert print_copy(b"\xff\xd8\xff\xe0 truncated jpeg", COVER_PIXELS) is None

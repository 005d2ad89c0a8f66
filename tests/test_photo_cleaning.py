"""Photos are forwarded without their metadata (EXIF, GPS, device)."""

import io

from PIL import Image

from bot.photo_cleaning import strip_metadata
from tests.photos import has_metadata, jpeg_with_metadata, size_of


def test_exif_gps_and_device_are_gone_and_the_picture_stays():
    original = jpeg_with_metadata()
    assert has_metadata(original)
    cleaned, mimetype = strip_metadata(original)
    assert mimetype == "image/jpeg" and not has_metadata(cleaned)
    assert size_of(cleaned) == (64, 32)
    with Image.open(io.BytesIO(cleaned)) as image:
        left, right = image.getpixel((5, 5)), image.getpixel((60, 5))
    assert left[2] > 150 and right[0] > 150   # the blue half stays left, the red half right


def test_a_rotated_photo_is_turned_upright_before_its_orientation_tag_goes():
    cleaned, _ = strip_metadata(jpeg_with_metadata(orientation=6))  # "rotate 90° clockwise to view"
    assert size_of(cleaned) == (32, 64) and not has_metadata(cleaned)


def test_a_png_keeps_its_transparency_and_loses_its_text_chunks():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "51.9,4.4")
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    cleaned, mimetype = strip_metadata(out.getvalue())
    assert mimetype == "image/png" and b"Location" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as back:
        assert back.mode == "RGBA" and back.getpixel((0, 0))[3] == 0


def test_what_is_no_image_is_not_forwarded():
    assert strip_metadata(b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9") is None
    assert strip_metadata(b"") is None

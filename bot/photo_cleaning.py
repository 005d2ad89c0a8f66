"""Photos leave the bot without metadata: no EXIF (GPS position, camera, times), XMP or comments.

A reporter's camera writes where and when a photo was taken and with which device into the
file. Telegram recompresses photos and drops that; Matrix keeps the file as uploaded, so a
Matrix photo is rebuilt from its pixels (turned upright first, as the EXIF orientation asked)
before it is forwarded to anyone. What cannot be read as an image is not forwarded at all.
"""

import io
import logging

from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

MAX_PIXELS = 60_000_000  # larger images are refused, not decoded (decompression bombs)


def strip_metadata(data: bytes) -> tuple[bytes, str] | None:
    """The image re-encoded from its pixels only, with its MIME type; None when it is no readable image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.load()
            upright = ImageOps.exif_transpose(image)
            keeps_alpha = upright.mode in ("RGBA", "LA", "P") and image.format == "PNG"
            mode = "RGBA" if keeps_alpha else "RGB"
            pixels = upright.convert(mode)
            clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        log.info("a photo could not be read as an image: %s", type(error).__name__)
        return None
    out = io.BytesIO()
    if keeps_alpha:
        clean.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"
    clean.save(out, format="JPEG", quality=90)
    return out.getvalue(), "image/jpeg"

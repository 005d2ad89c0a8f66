"""Real photos for tests: a JPEG that carries what a phone camera writes (GPS, device, time)."""

import io

from nio import MemoryDownloadResponse
from nio.crypto.attachments import decrypt_attachment
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION, MAKE, MODEL, DATETIME = 0x0112, 0x010F, 0x0110, 0x0132
SECRET_MARKERS = (b"WeerbaarPhone", b"Model X-42", b"2026:11:30")


def jpeg_with_metadata(width: int = 64, height: int = 32, orientation: int = 1) -> bytes:
    """A photo with EXIF camera make and model, date, orientation and a GPS position (Rotterdam)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):
        for y in range(height):
            image.putpixel((x, y), (20, 20, 220))
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[DATETIME] = "WeerbaarPhone", "Model X-42", "2026:11:30 08:00:00"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (51.0, 53.0, 0.0), 3: "E", 4: (4.0, 24.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95, comment=b"Model X-42 comment")
    return out.getvalue()


def has_metadata(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        found = bool(exif) or bool(image.info.get("exif")) or bool(image.info.get("comment"))
    return found or any(marker in data for marker in SECRET_MARKERS)


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


async def matrix_image_bytes(person, content: dict) -> bytes:
    """The bytes of an ``m.image`` a Matrix test person received (decrypted)."""
    secret = content.get("file")
    response = await person.client.download(mxc=secret["url"] if secret else content["url"])
    assert isinstance(response, MemoryDownloadResponse), response
    if not secret:
        return response.body
    return decrypt_attachment(response.body, secret["key"]["k"], secret["hashes"]["sha256"], secret["iv"])

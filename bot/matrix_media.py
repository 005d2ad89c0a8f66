"""Photos on Matrix: kept by reference, fetched, cleaned and uploaded again when forwarded.

A Matrix photo is stored in the report as a compact JSON string ``{"mx": ...}``: the
``mxc://`` URL of a plain upload, or the whole ``EncryptedFile`` (URL, AES key, IV,
hash) of an encrypted one. Before it reaches any official it is downloaded, decrypted if
need be, and rebuilt from its pixels without metadata (``bot.photo_cleaning``): on Matrix it
is uploaded again (encrypted when the room is), for Telegram the adapter uploads the bytes.
A Telegram photo for a Matrix official goes the other way: its bytes (already without
metadata: Telegram recompresses photos) are uploaded here, encrypted when the room is.
"""

import io
import json
import logging

from nio import AsyncClient, MemoryDownloadResponse, UploadResponse
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from handlers.messages import SharedFile

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 20 * 1024 * 1024
#: A file fetched to pass it to another platform: Telegram takes uploads up to 50 MB.
MAX_FILE_BYTES = 50 * 1024 * 1024


def is_matrix_photo(reference: str | None) -> bool:
    return bool(reference) and reference.startswith('{"mx"')


def _where(content: dict) -> dict:
    """Where a media event's bytes are: its ``mxc://`` URL, with the decryption key when encrypted."""
    encrypted = content.get("file")
    if isinstance(encrypted, dict):
        keep = {name: encrypted[name] for name in ("url", "key", "iv", "hashes", "v") if name in encrypted}
        return {"mx": encrypted.get("url"), "file": keep}
    return {"mx": content.get("url")}


class MatrixMedia:
    def __init__(self, client: AsyncClient):
        self.client = client

    @staticmethod
    def reference(content: dict) -> str:
        """The photo reference of an ``m.image`` event's content (plain or encrypted)."""
        info = content.get("info") or {}
        reference = _where(content)
        reference["mime"] = str(info.get("mimetype") or "image/jpeg")
        return json.dumps(reference, separators=(",", ":"))

    @staticmethod
    def shared_file(content: dict) -> SharedFile:
        """An ``m.file``/``m.video`` event's content as a file reference (plain or encrypted, as photos)."""
        info = content.get("info") or {}
        reference = _where(content)
        video = content.get("msgtype") == "m.video"
        mime = str(info.get("mimetype") or ("video/mp4" if video else "application/octet-stream"))
        size = info.get("size")
        return SharedFile(kind="video" if video else "document", ref=json.dumps(reference, separators=(",", ":")),
                          name=str(content.get("filename") or content.get("body") or "bestand")[:255], mime=mime,
                          size=size if isinstance(size, int) and size >= 0 else 0)

    @staticmethod
    def file_content(shared: dict) -> dict:
        """The ``m.file``/``m.video`` content that points at a Matrix file again: re-sent by reference."""
        reference = json.loads(shared["ref"])
        content = {"msgtype": "m.video" if shared["kind"] == "video" else "m.file", "body": shared["name"],
                   "filename": shared["name"], "info": {"mimetype": shared["mime"], "size": shared["size"]}}
        if reference.get("file"):
            content["file"] = reference["file"]
        else:
            content["url"] = reference["mx"]
        return content

    async def upload_image(self, data: bytes, *, encrypted: bool, mimetype: str = "image/jpeg") -> dict | None:
        """Upload bytes and return the ``m.image`` content pointing at them."""
        return await self.upload_file(data, encrypted=encrypted, mimetype=mimetype, filename="foto.jpg",
                                      msgtype="m.image")

    async def upload_file(self, data: bytes, *, encrypted: bool, mimetype: str, filename: str,
                          msgtype: str) -> dict | None:
        """Upload bytes (encrypted when the room is) and return the ``m.image``/``m.file`` content for them."""
        keys = None
        payload = data
        if encrypted:
            payload, keys = encrypt_attachment(data)
        response, _ = await self.client.upload(
            lambda *_: io.BytesIO(payload), content_type="application/octet-stream" if encrypted else mimetype,
            filename=filename, filesize=len(payload))
        if not isinstance(response, UploadResponse):
            log.warning("upload failed: %s", getattr(response, "message", response))
            return None
        content = {"msgtype": msgtype, "body": filename, "info": {"mimetype": mimetype, "size": len(data)}}
        if keys is not None:
            content["file"] = {**keys, "url": response.content_uri}
        else:
            content["url"] = response.content_uri
        return content

    async def download(self, reference: str, limit: int = MAX_PHOTO_BYTES) -> bytes | None:
        """The photo's (or file's) bytes, decrypted when it was an encrypted attachment; None above ``limit``."""
        data = json.loads(reference)
        url = data.get("mx") or ""
        if not url.startswith("mxc://"):
            return None
        response = await self.client.download(mxc=url)
        if not isinstance(response, MemoryDownloadResponse):
            log.warning("photo download failed: %s", getattr(response, "message", response))
            return None
        body = response.body
        if len(body) > limit:
            return None
        secret = data.get("file")
        if secret:
            body = decrypt_attachment(body, secret["key"]["k"], secret["hashes"]["sha256"], secret["iv"])
        return body

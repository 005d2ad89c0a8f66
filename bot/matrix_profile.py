"""The bot's Matrix profile: the display name and avatar people see, set from the config at start."""

import hashlib
import io
import logging
import mimetypes

from nio import AsyncClient, ProfileGetDisplayNameResponse, UploadResponse

from bot.config import MatrixConfig

log = logging.getLogger(__name__)

AVATAR_MARK = "avatar.sha256"


async def set_profile(client: AsyncClient, config: MatrixConfig) -> None:
    """Set the display name when it differs, and upload the avatar when its file changed."""
    try:
        current = await client.get_displayname(client.user_id)
        if not isinstance(current, ProfileGetDisplayNameResponse) or current.displayname != config.display_name:
            await client.set_displayname(config.display_name)
        if config.avatar is not None:
            await _set_avatar(client, config)
    except (OSError, TimeoutError) as error:
        log.warning("could not set the bot's Matrix profile (%s)", type(error).__name__)


async def _set_avatar(client: AsyncClient, config: MatrixConfig) -> None:
    data = config.avatar.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    mark = config.state_dir / AVATAR_MARK
    if mark.exists() and mark.read_text(encoding="utf-8").strip() == digest:
        return
    content_type = mimetypes.guess_type(config.avatar.name)[0] or "image/png"
    uploaded, _ = await client.upload(lambda *_: io.BytesIO(data), content_type=content_type,
                                      filename=config.avatar.name, filesize=len(data))
    if not isinstance(uploaded, UploadResponse):
        log.warning("could not upload the bot's avatar: %s", getattr(uploaded, "message", uploaded))
        return
    await client.set_avatar(uploaded.content_uri)
    mark.write_text(digest, encoding="utf-8")

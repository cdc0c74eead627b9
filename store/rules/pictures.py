"""A customer's profile picture: what is accepted, and the small file that is kept.

A picture is a PNG, JPEG or WebP file of at most `MAX_FILE_BYTES`; its format is
read from its content, never from its name. Every picture is decoded and saved
again in its own format, upright as its EXIF orientation said, at most
`KEEP_PIXELS` on its longest side, and with nothing but its pixels: no EXIF (a
phone's GPS position, the camera's serial number), no text chunks, no colour
profile, nothing appended after the image, so nothing of the file but the
picture reaches the store or a vCard export. A file too large to open safely
(a "decompression bomb": a few kilobytes that decode to gigapixels) is refused
from its header, before it is decoded.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from store.base.errors import RuleViolation, UnreadableInput
from store.base.files import read_regular

if TYPE_CHECKING:
    from PIL import Image

MAX_FILE_BYTES = 20 * 1024 * 1024  # a phone camera's photo fits; a video renamed .jpg does not
MAX_PIXELS = 50_000_000  # decoded size refused beyond this (50 megapixels), below Pillow's own limit
KEEP_PIXELS = 512  # longest side of the picture kept
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
# The modes each format is saved in (anything else is converted first).
_SAVED_MODES = {"jpg": ("RGB", "L"), "png": ("RGB", "RGBA", "L", "LA"), "webp": ("RGB", "RGBA")}


@dataclass(frozen=True)
class Picture:
    data: bytes
    suffix: str  # png, jpg, webp

    @property
    def name(self) -> str:
        """The file it is kept in: named by its content, so a restored record finds its picture."""
        return f"{hashlib.sha256(self.data).hexdigest()}.{self.suffix}"


def mime_type(name: str) -> str:
    """The media type of a kept picture's file name (vCard PHOTO, the web)."""
    suffix = Path(name).suffix.lstrip(".")
    return next(mime for kept, mime in FORMATS.values() if kept == suffix)


def read_picture(path: Path) -> Picture:
    """The picture to keep from the file at `path`, or a one-line refusal naming it."""
    try:
        data = read_regular(path, MAX_FILE_BYTES, "a profile picture")
    except UnreadableInput as err:
        raise RuleViolation(str(err)) from None
    return prepare_picture(data, str(path))


def prepare_picture(data: bytes, where: str) -> Picture:
    """`data` checked (format, size) and saved again: upright, at most `KEEP_PIXELS` on a
    side, with no metadata (see the module's docstring)."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # (Pillow: loaded only when a picture is set)

    # Pillow's own bomb check warns on stderr beyond 89 megapixels (a line above the refusal)
    # and raises beyond 178; the size is checked here instead, from the header, against the
    # smaller MAX_PIXELS, before anything is decoded. (Set, never toggled: threads agree.)
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except (UnidentifiedImageError, OSError, ValueError):
        raise RuleViolation(f"{where}: not a picture custdesk can keep (PNG, JPEG or WebP)") from None
    if image.format not in FORMATS:
        raise RuleViolation(f"{where}: a {image.format} image; a profile picture is PNG, JPEG or WebP")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise RuleViolation(f"{where}: {width}x{height} pixels is too large to open safely")
    suffix = FORMATS[image.format][0]
    try:
        image.draft(image.mode, (KEEP_PIXELS, KEEP_PIXELS))  # (a JPEG is decoded at a scale still larger than kept)
        upright = ImageOps.exif_transpose(image)  # (decodes it; turned as the camera was held)
        upright.thumbnail((KEEP_PIXELS, KEEP_PIXELS))
        clean = _pixels_only(upright, suffix)
    except Exception as err:  # Pillow raises many kinds (OSError, SyntaxError, struct.error …) for a damaged file
        raise RuleViolation(f"{where}: the picture is damaged ({str(err) or type(err).__name__})") from None
    out = io.BytesIO()
    clean.save(out, format=_pil_format(suffix), **({"quality": 85} if suffix in ("jpg", "webp") else {"optimize": True}))
    return Picture(out.getvalue(), suffix)


def _pixels_only(image: Image.Image, suffix: str) -> Image.Image:
    """A new image of `image`'s pixels alone, in a mode its format saves: none of the
    source's info (EXIF, ICC profile, text chunks, comments) comes along to be saved."""
    from PIL import Image

    modes = _SAVED_MODES[suffix]
    if image.mode not in modes:  # (CMYK or 16-bit, a palette, greyscale with alpha in a JPEG …)
        has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha and "RGBA" in modes else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _pil_format(suffix: str) -> str:
    return next(name for name, (kept, _mime) in FORMATS.items() if kept == suffix)

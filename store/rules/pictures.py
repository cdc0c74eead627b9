"""A customer's profile picture: what is accepted, and the small file that is kept.

A picture is a PNG, JPEG or WebP file of at most `MAX_FILE_BYTES`; its format is
read from its content, never from its name. A larger image is scaled down to
`KEEP_PIXELS` on its longest side and saved again in its own format, so the
store's folder of pictures stays small; a file too large to open safely (a
"decompression bomb": a few kilobytes that decode to gigapixels) is refused
before it is decoded.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from store.errors import RuleViolation

MAX_FILE_BYTES = 20 * 1024 * 1024  # a phone camera's photo fits; a video renamed .jpg does not
MAX_PIXELS = 50_000_000  # decoded size refused beyond this (50 megapixels)
KEEP_PIXELS = 512  # longest side of the picture kept
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}


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
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise RuleViolation(f"{path}: cannot be read ({err.strerror or err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise RuleViolation(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a profile picture must be smaller")
    return prepare_picture(data, str(path))


def prepare_picture(data: bytes, where: str) -> Picture:
    """`data` checked (format, size) and scaled down when larger than it needs to be."""
    from PIL import Image, UnidentifiedImageError  # (Pillow: loaded only when a picture is set)

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
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise RuleViolation(f"{where}: the picture is damaged ({err})") from None
    if max(width, height) <= KEEP_PIXELS:
        return Picture(data, suffix)
    image.thumbnail((KEEP_PIXELS, KEEP_PIXELS))
    small: Image.Image = image
    if suffix == "jpg" and small.mode != "RGB":  # (a CMYK or greyscale-with-alpha JPEG)
        small = small.convert("RGB")
    elif small.mode not in ("RGB", "RGBA", "L", "LA", "P"):  # (16-bit PNG …)
        small = small.convert("RGBA")
    out = io.BytesIO()
    small.save(out, format=_pil_format(suffix), **({"quality": 85} if suffix in ("jpg", "webp") else {"optimize": True}))
    return Picture(out.getvalue(), suffix)


def _pil_format(suffix: str) -> str:
    return next(name for name, (kept, _mime) in FORMATS.items() if kept == suffix)

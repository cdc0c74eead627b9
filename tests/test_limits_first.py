"""Limits before resources (issue 24): every file a user names is looked at before it is
read. Too large for what it may be, a FIFO or a device, a picture claiming more pixels
than it may decode to, a config.toml nested too deeply: one line naming the file, never a
hang, a MemoryError, a warning or a traceback."""
from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import ROOT, custdesk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from importers import UnreadableFile, read_table
from importers.limits import MAX_FILE_BYTES
from importers.sync import read_export
from store import Store, StoreError
from store.base.errors import RuleViolation
from store.base.files import read_regular
from store.rules.pictures import KEEP_PIXELS, MAX_PIXELS, prepare_picture, read_picture
from tui.config import MAX_CONFIG_BYTES, SETTINGS, ConfigError, load_config


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no room on disk: read whole, it would fill the memory."""
    with open(path, "wb") as file:
        file.truncate(size)
    return path


def returns_soon(call: Callable[[], object], seconds: float = 10.0) -> BaseException | None:
    """Run `call` in a thread: it must end (with the exception it raised) within `seconds`."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as err:  # (handed to the test to look at)
            outcome.append(err)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still blocked after {seconds} s"
    return outcome[0]


# -- files to import or sync: their size before their bytes ----------------------------
@pytest.mark.parametrize("name", ["huge.csv", "huge.xlsx", "huge.json"])
def test_a_file_over_the_limit_is_refused_from_its_size_before_it_is_read(tmp_path, name):
    path = sparse(tmp_path / name, MAX_FILE_BYTES + 1)
    message = f"{path}: {MAX_FILE_BYTES + 1:,} bytes, larger than a file to import may be (at most 2 GiB)"
    reader = read_export if name.endswith(".json") else read_table
    with pytest.raises(UnreadableFile) as refused:
        reader(path)
    assert str(refused.value) == message


@pytest.mark.parametrize("command", [("import",), ("sync",)])
def test_import_and_sync_refuse_a_huge_file_in_one_line(tmp_path, command):
    path = sparse(tmp_path / "customers.csv", 3 * 1024 ** 3)
    result = custdesk("--db", tmp_path / "s.json", *command, path, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"custdesk: {path}: 3 GiB, larger than a file to import may be (at most 2 GiB)\n"


@pytest.mark.parametrize("command", ["import", "sync"])
def test_under_a_2_gb_memory_cap_a_file_within_the_limit_is_one_line_not_a_memory_error(tmp_path, command):
    message = "{path}: 1.9 GiB is more than the memory available holds; split the file"
    path = sparse(tmp_path / "customers.csv", int(1.9 * 1024 ** 3))

    def capped() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
    code = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-c", code, "--db", str(tmp_path / "s.json"), command, str(path)],
                            capture_output=True, text=True, timeout=120, preexec_fn=capped, check=False, cwd=ROOT)
    assert (result.returncode, result.stderr) == (2, f"custdesk: {message.format(path=path)}\n")


# -- no FIFO, device or folder wherever a file is expected -------------------------------
@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_read_regular_refuses_what_is_not_a_regular_file_without_opening_it(fifo, tmp_path):
    for path, what in ((fifo, "is not a regular file (a pipe, a device or a socket)"),
                       (Path("/dev/zero"), "is not a regular file (a pipe, a device or a socket)"),
                       (tmp_path, "is a folder, not a file"),
                       (tmp_path / "none", "no such file")):
        err = returns_soon(lambda p=path: read_regular(p, 100))
        assert isinstance(err, StoreError) and str(err) == f"{path}: {what}"


def test_a_file_that_grows_past_the_limit_while_read_is_cut_and_refused(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, 100) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(StoreError, match=r"f.txt: 101 bytes, larger than the file may be \(at most 100 bytes\)"):
        read_regular(path, 100)


@pytest.mark.parametrize("reader", [read_picture, load_config, read_table, read_export])
def test_a_fifo_as_a_picture_config_import_or_export_is_refused_at_once(fifo, reader):
    err = returns_soon(lambda: reader(fifo))
    assert isinstance(err, StoreError) and str(err) == f"{fifo}: is not a regular file (a pipe, a device or a socket)"


@pytest.mark.parametrize("args", [
    ("picture", "C-000001", "{fifo}"),
    ("mail", "templates", "add", "hello", "--body", "{fifo}"),
    ("import", "{fifo}"),
    ("sync", "{fifo}"),
])
def test_the_command_line_refuses_a_fifo_in_one_line(tmp_path, fifo, args):
    store_path = tmp_path / "s.json"
    with Store(store_path) as store:
        store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    result = custdesk("--db", store_path, *(a.format(fifo=fifo) for a in args), timeout=60)
    assert (result.returncode, result.stderr) == (2, f"custdesk: {fifo}: is not a regular file (a pipe, a device or a socket)\n")


def test_a_fifo_as_config_toml_or_as_the_store_file_is_refused(tmp_path, fifo):
    (tmp_path / "cfg").mkdir()
    os.mkfifo(tmp_path / "cfg" / "config.toml")
    result = custdesk("--db", tmp_path / "s.json", "stats", env={"CUSTDESK_CONFIG_DIR": str(tmp_path / "cfg")}, timeout=60)
    assert result.returncode == 2 and result.stderr.endswith("config.toml: is not a regular file (a pipe, a device or a socket)\n")
    result = custdesk("--db", fifo, "stats", timeout=60)
    assert (result.returncode, result.stderr) == (2, f"custdesk: {fifo}: is not a regular file (a pipe, a device or a socket)\n")


@pytest.mark.parametrize("target", ["config.toml", "nowhere.toml"])
def test_a_config_link_in_a_loop_or_to_nothing_is_said_not_taken_for_no_config(tmp_path, target):
    path = tmp_path / "config.toml"
    path.symlink_to(tmp_path / target)
    with pytest.raises(ConfigError, match=r"config.toml: (cannot be read|no such file)"):
        load_config(path)


# -- config.toml: its size and its depth -----------------------------------------------------
def test_a_deeply_nested_config_is_one_refusal_not_a_recursion_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("theme = " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value) == f"{path}: nested too deeply for a configuration file"


def test_a_config_over_its_size_is_refused_before_it_is_read(tmp_path):
    path = sparse(tmp_path / "config.toml", MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match=r"config.toml: 65,537 bytes, larger than a configuration file may be \(at most 64 KiB\)"):
        load_config(path)


_toml_fragments = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda key, depth, bracket: f"{key} = " + bracket[0] * depth + bracket[1] * depth,
              st.sampled_from(SETTINGS), st.integers(0, 3000), st.sampled_from(["[]", "{}"])),
    st.builds(lambda key, value: f"{key} = {value}", st.sampled_from([*SETTINGS, "keymap.new", "keymap.nope", "x"]),
              st.sampled_from(['"nord"', '"DE"', "1e400", "[1, [2]]", '{a = "b"}', '"%d.%m.%Y"', '"\\ud800"', "true"])),
).map(lambda value: value if isinstance(value, bytes) else value.encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_toml_fragments, app=st.booleans())
def test_config_bytes_are_a_configuration_or_a_config_error_never_anything_else(tmp_path, data, app):
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    try:
        load_config(path, app=app)
    except ConfigError as err:
        assert str(err).startswith(f"{path}") and "\n" not in str(err)


# -- pictures: pixels by the header before any decode; nothing kept but the pixels -----------
def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels and holds none of them."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


# Over custdesk's limit; where Pillow would warn (89 megapixels); where it would raise (178); the most a PNG claims.
@pytest.mark.parametrize("size", [(8000, 7000), (10000, 10000), (20000, 10000), (65535, 65535)])
def test_a_picture_claiming_too_many_pixels_is_one_line_with_no_warning(tmp_path, size):
    message = f"{size[0]}x{size[1]} pixels is too large to open safely"
    assert size[0] * size[1] > MAX_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(*size))
    with Store(tmp_path / "s.json") as store:
        store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    result = custdesk("--db", tmp_path / "s.json", "picture", "C-000001", path, timeout=60)
    assert (result.returncode, result.stderr) == (2, f"custdesk: {path}: {message}\n")


def _photo(fmt: str, size=(300, 200), *, orientation: int = 1) -> bytes:
    """A photo as a phone saves it: EXIF with a GPS position and the orientation, a colour
    profile, a comment; and a payload appended after the image's end."""
    image = Image.new("RGB", size)
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))  # left half red
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    out = io.BytesIO()
    extra = {"PNG": {"pnginfo": _png_text()}, "JPEG": {"comment": b"secret comment"}, "WEBP": {"xmp": b"<x:secret/>"}}[fmt]
    image.save(out, format=fmt, exif=exif.tobytes(), icc_profile=_srgb_profile(), **extra)
    return out.getvalue() + b"APPENDED-SECRET-PAYLOAD"


def _png_text():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "secret comment")
    return info


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("orientation", [1, 6, 8, 3])
def test_every_picture_is_saved_again_upright_with_nothing_but_its_pixels(fmt, orientation):
    data = _photo(fmt, orientation=orientation)
    picture = prepare_picture(data, "photo")
    for secret in (b"APPENDED-SECRET-PAYLOAD", b"PhoneMaker", b"secret comment", b"<x:secret/>", b"Exif", b"sRGB"):
        assert secret not in picture.data
    kept = Image.open(io.BytesIO(picture.data))
    assert kept.format == fmt and not kept.getexif() and "icc_profile" not in kept.info and "exif" not in kept.info
    assert not {"comment", "Comment", "xmp", "XML:com.adobe.xmp"} & set(kept.info)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert kept.size == expected.size  # turned as the camera was held: no orientation is left to apply
    for corner in ((2, 2), (kept.width - 3, kept.height - 3)):
        got, want = kept.convert("RGB").getpixel(corner), expected.convert("RGB").getpixel(corner)
        assert all(abs(a - b) < 40 for a, b in zip(got, want, strict=True))


@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from(["PNG", "JPEG", "WEBP"]), width=st.integers(1, 700), height=st.integers(1, 700),
       mode=st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "CMYK", "1", "I;16"]), orientation=st.integers(1, 8))
def test_any_picture_is_kept_small_in_its_format_with_no_metadata(fmt, width, height, mode, orientation):
    image = Image.new(mode, (width, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    try:
        image.save(out, format=fmt, exif=exif.tobytes())
    except (OSError, ValueError, KeyError):
        return  # a mode this format cannot hold: no such file exists to be set
    picture = prepare_picture(out.getvalue(), "x")
    kept = Image.open(io.BytesIO(picture.data))
    assert kept.format == fmt and max(kept.size) <= max(KEEP_PIXELS, 1) and not kept.getexif()
    assert sorted(kept.size) == sorted(ImageOps.exif_transpose(image).size) or max(width, height) > KEEP_PIXELS


def test_a_picture_over_its_file_size_is_refused_from_its_size(tmp_path):
    path = sparse(tmp_path / "video.jpg", 3 * 1024 ** 3)
    with pytest.raises(RuleViolation) as refused:
        read_picture(path)
    assert str(refused.value) == f"{path}: 3 GiB, larger than a profile picture may be (at most 20 MiB)"

"""Profile pictures: what is kept and where, what is refused, and how the other rules
(undo, merge, obfuscation, vCard export) treat them."""
import base64
import io
import re

import pytest
from helpers import contents, custdesk
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from store import Store
from store.base.errors import RuleViolation
from store.rules.pictures import KEEP_PIXELS, MAX_FILE_BYTES, prepare_picture


def picture_file(path, size=(64, 48), fmt="PNG", colour=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    image.save(out, format=fmt)
    path.write_bytes(out.getvalue())
    return out.getvalue()


@pytest.fixture
def ada(store):
    return store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})


def test_a_small_picture_is_kept_saved_again_with_the_same_pixels(store, ada, tmp_path):
    data = picture_file(tmp_path / "ada.png")
    assert not store.has_pictures()
    customer = store.set_picture(ada["id"], tmp_path / "ada.png")
    assert store.picture_names() == {customer["picture"]} and store.has_pictures()
    kept, media_type = store.picture(ada["id"])
    assert media_type == "image/png" and kept == prepare_picture(data, "x").data  # (saved again: nothing but pixels)
    assert Image.open(io.BytesIO(kept)).tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert store.journal(1)[0]["summary"] == "Set the picture of customer C-000001"


def test_a_large_photo_is_scaled_down_in_its_own_format(store, ada, tmp_path):
    picture_file(tmp_path / "big.jpg", size=(2000, 1000), fmt="JPEG")
    store.set_picture(ada["id"], tmp_path / "big.jpg")
    data, media_type = store.picture(ada["id"])
    assert media_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (KEEP_PIXELS, KEEP_PIXELS // 2)


@pytest.mark.parametrize("name,write,problem", [
    ("notes.png", lambda p: p.write_text("not a picture"), "not a picture custdesk can keep"),
    ("anim.gif", lambda p: picture_file(p, fmt="GIF"), "a GIF image; a profile picture is PNG, JPEG or WebP"),
    ("bomb.png", lambda p: Image.new("1", (9000, 9000)).save(p), "too large to open safely"),
    ("cut.png", lambda p: p.write_bytes(picture_file(p, size=(400, 400))[:200]), "damaged"),
    ("huge.jpg", lambda p: p.write_bytes(b"\xff\xd8" + b"\0" * MAX_FILE_BYTES), "larger than a profile picture may be (at most 20 MiB)"),
    ("missing.png", lambda p: None, "no such file"),
])
def test_what_is_not_a_picture_is_refused_in_one_line_naming_the_file_and_nothing_changes(store, ada, tmp_path, name, write,
                                                                                          problem):
    path = tmp_path / name
    write(path)
    before = contents(store)
    with pytest.raises(RuleViolation) as refused:
        store.set_picture(ada["id"], path)
    assert str(refused.value).startswith(f"{path}: ") and problem in str(refused.value) and "\n" not in str(refused.value)
    assert contents(store) == before and not store.picture_names()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000) | st.binary(max_size=200).map(lambda b: b"\x89PNG\r\n\x1a\n" + b))
def test_any_bytes_are_a_picture_or_a_refusal_never_a_crash(data):
    try:
        picture = prepare_picture(data, "x")
    except RuleViolation as err:
        assert str(err).startswith("x: ")
    else:
        assert picture.suffix in ("png", "jpg", "webp")


def test_undo_brings_the_picture_before_back_and_remove_takes_it_off(store, ada, tmp_path):
    picture_file(tmp_path / "one.png", colour=(1, 2, 3))
    picture_file(tmp_path / "two.png", colour=(4, 5, 6))
    first = store.set_picture(ada["id"], tmp_path / "one.png")["picture"]
    second = store.set_picture(ada["id"], tmp_path / "two.png")["picture"]
    assert first != second
    store.undo()
    assert store.customer(ada["id"])["picture"] == first and store.picture(ada["id"]) is not None
    store.remove_picture(ada["id"])
    assert store.picture(ada["id"]) is None
    with pytest.raises(RuleViolation, match="has no picture"):
        store.remove_picture(ada["id"])


def test_obfuscation_drops_the_picture_and_its_file_for_good(store, ada, tmp_path):
    picture_file(tmp_path / "ada.png")
    kept = store.set_picture(ada["id"], tmp_path / "ada.png")["picture"]
    store.deactivate([ada["id"]])
    store.obfuscate(ada["id"])
    assert store.customer(ada["id"]).get("picture") is None and kept not in store.picture_names()
    with pytest.raises(RuleViolation, match="obfuscated"):
        store.set_picture(ada["id"], tmp_path / "ada.png")


def test_a_file_another_customer_still_shows_survives_an_obfuscation(store, ada, tmp_path):
    grace = store.add_customer("private", {"first_name": "Grace", "email": "grace@example.com"})
    picture_file(tmp_path / "shared.png")
    store.set_picture(ada["id"], tmp_path / "shared.png")
    kept = store.set_picture(grace["id"], tmp_path / "shared.png")["picture"]
    store.deactivate([ada["id"]])
    store.obfuscate(ada["id"])
    assert kept in store.picture_names() and store.picture(grace["id"]) is not None


def test_merge_keeps_the_kept_customers_picture_or_else_takes_the_others(store, ada, tmp_path):
    grace = store.add_customer("private", {"first_name": "Grace", "email": "grace@example.com"})
    picture_file(tmp_path / "grace.png")
    name = store.set_picture(grace["id"], tmp_path / "grace.png")["picture"]
    assert store.merge_into(ada["id"], grace["id"])["picture"] == name


def test_a_picture_name_cannot_reach_outside_its_folder(store_path, ada, tmp_path):
    from store.engine import open_engine
    from store.schema import SCHEMA

    (tmp_path / "secret.png").write_bytes(b"secret")
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:  # a store file edited by hand
        tx.put("customers", ada["id"], {**tx.get("customers", ada["id"]), "picture": "../secret.png"})
    engine.close()
    with Store(store_path) as again:
        assert again.picture(ada["id"]) is None


def test_a_picture_kept_as_given_by_an_older_custdesk_is_handed_out_as_pixels_only(store_path, ada, tmp_path):
    from store.engine import open_engine
    from store.schema import SCHEMA

    image, out = Image.new("RGB", (40, 30), (10, 200, 10)), io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # a phone's GPS latitude
    image.save(out, format="JPEG", exif=exif.tobytes())
    planted = out.getvalue() + b"APPENDED-SECRET"
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:  # small pictures were kept byte for byte
        engine.blobs.write("old.jpg", planted)
        tx.put("customers", ada["id"], {**tx.get("customers", ada["id"]), "picture": "old.jpg"})
    engine.close()
    with Store(store_path) as store:
        data, media_type = store.picture(ada["id"])
        assert media_type == "image/jpeg" and b"APPENDED-SECRET" not in data and b"Exif" not in data
        assert Image.open(io.BytesIO(data)).size == (40, 30)
    exported = custdesk("--db", store_path, "export", tmp_path / "out.vcf")
    assert exported.returncode == 0, exported.stderr
    photo = re.search(r"^PHOTO:data:image/jpeg;base64,(\S+)\r$", (tmp_path / "out.vcf").read_bytes().decode().replace("\r\n ", ""), re.M)
    assert photo and base64.b64decode(photo.group(1)) == data


def test_the_vcard_carries_the_photo_and_the_command_line_sets_it(store_path, tmp_path):
    data = picture_file(tmp_path / "ada.png")
    people = tmp_path / "people.csv"
    people.write_text("First name,Last name,Email\nAda,Lovelace,ada@example.com\n", encoding="utf-8")
    assert custdesk("--db", store_path, "import", people, "--into", "private").returncode == 0
    refused = custdesk("--db", store_path, "picture", "C-000001", tmp_path / "people.csv")
    assert refused.returncode == 2 and "not a picture" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert custdesk("--db", store_path, "picture", "C-000009", tmp_path / "ada.png").stderr.strip() == \
        "custdesk: no customer numbered C-000009"
    done = custdesk("--db", store_path, "picture", "C-000001", tmp_path / "ada.png")
    assert done.returncode == 0, done.stderr
    exported = custdesk("--db", store_path, "export", tmp_path / "out.vcf")
    assert exported.returncode == 0, exported.stderr
    card = (tmp_path / "out.vcf").read_bytes().decode("utf-8").replace("\r\n ", "")  # unfolded
    photo = re.search(r"^PHOTO:data:image/png;base64,(\S+)\r$", card, re.M)
    assert photo and base64.b64decode(photo.group(1)) == prepare_picture(data, "x").data
    assert custdesk("--db", store_path, "picture", "C-000001", "--remove").returncode == 0
    with Store(store_path) as store:
        assert store.picture(1) is None


async def test_the_detail_shows_the_picture_p_sets_and_removes(store, ada, tmp_path):
    from textual.widgets import Static

    from tui.app import CustdeskApp
    from tui.screens.modals import PromptScreen

    picture_file(tmp_path / "ada.png", size=(40, 40), colour=(255, 0, 0))
    app = CustdeskApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("enter")
        box = app.screen.query_one("#picture-box")
        assert not box.display
        await pilot.press("P")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt").value = str(tmp_path / "ada.png")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.picture(ada["id"]) is not None and box.display
        shown = box.query_one(Static)
        line = shown.render_lines(shown.region.reset_offset)[0]  # half blocks: red over red
        assert "▀" in line.text and any(seg.style and seg.style.color and seg.style.color.triplet == (255, 0, 0) for seg in line)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not box.display  # at 80 columns the fields keep the room
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        await pilot.press("P")
        app.screen.query_one("#prompt").value = ""
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.picture(ada["id"]) is None and not box.display

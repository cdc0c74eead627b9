""".vcf import: vCard 2.1 (quoted-printable, a CHARSET per property), 3.0 and 4.0 as address
books write them, several cards a file, folded lines; a damaged card refused in one line naming
the file, the card and its line, nothing written; custdesk's own export read back into an
empty store as the same customers. Property-based: any card text is read or refused in one line."""
from __future__ import annotations

import time

import pytest
from helpers import SIZE, contents, custdesk, settle
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from international import people

from exporters.customers import export_customers
from importers import UnreadableFile, plan_import, read_table
from store import Store


def vcf(path, text: str, encoding: str = "utf-8") -> object:
    """`text` with CRLF line ends (as the RFCs write them), in `encoding`."""
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def cards(path) -> list[dict]:
    """Each card's non-empty cells by column, the card's first line as "_row"."""
    table = read_table(path)
    return [{("_row" if k == "_index" else k): (v + table.header_row + 1 if k == "_index" else v)
             for k, v in row.items() if v != ""} for row in table.frame.to_dicts()]


# RFC 2426 §7 (vCard 3.0), as written there: "vCard" in either case, folded addresses.
RFC_2426 = """BEGIN:vCard
VERSION:3.0
FN:Frank Dawson
ORG:Lotus Development Corporation
ADR;TYPE=WORK,POSTAL,PARCEL:;;6544 Battleford Drive
 ;Raleigh;NC;27613-3502;U.S.A.
TEL;TYPE=VOICE,MSG,WORK:+1-919-676-9515
TEL;TYPE=FAX,WORK:+1-919-676-9564
EMAIL;TYPE=INTERNET,PREF:Frank_Dawson@Lotus.com
EMAIL;TYPE=INTERNET:fdawson@earthlink.net
URL:http://home.earthlink.net/~fdawson
END:vCard

BEGIN:vCard
VERSION:3.0
FN:Tim Howes
ORG:Netscape Communications Corp.
ADR;TYPE=WORK:;;501 E. Middlefield Rd.;Mountain View;
 CA; 94043;U.S.A.
TEL;TYPE=VOICE,MSG,WORK:+1-415-937-3419
TEL;TYPE=FAX,WORK:+1-415-528-4164
EMAIL;TYPE=INTERNET:howes@netscape.com
END:vCard
"""
# RFC 6350 §8 (vCard 4.0): tel: URIs, quoted TYPE lists, PREF=n, a KEY folded after its ':'.
RFC_6350 = """BEGIN:VCARD
VERSION:4.0
FN:Simon Perreault
N:Perreault;Simon;;;ing. jr,M.Sc.
BDAY:--0203
ANNIVERSARY:20090808T1430-0500
GENDER:M
LANG;PREF=1:fr
LANG;PREF=2:en
ORG;TYPE=work:Viagenie
ADR;TYPE=work:;Suite D2-630;2875 Laurier;
 Quebec;QC;G1V 2M2;Canada
TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-418-656-9254;ext=102
TEL;VALUE=uri;TYPE="work,cell,voice,video,text":tel:+1-418-262-6501
EMAIL;TYPE=work:simon.perreault@viagenie.ca
GEO;TYPE=work:geo:46.772673\\,-71.282945
KEY;TYPE=work;VALUE=uri:
 http://www.viagenie.ca/simon.perreault/simon.asc
TZ:-0500
URL;TYPE=home:http://nomis80.org
END:VCARD
"""


def test_several_cards_of_vcard_3_and_4_with_folded_lines(tmp_path):
    f = vcf(tmp_path / "rfc.vcf", RFC_2426 + RFC_6350)
    frank, tim, simon = cards(f)
    assert frank == {"_row": 1, "full_name": "Frank Dawson", "company": "Lotus Development Corporation",
                     "email": "Frank_Dawson@Lotus.com", "other emails": "fdawson@earthlink.net", "phone": "+1-919-676-9515",
                     "other phones": "+1-919-676-9564 (fax, work)", "street": "6544 Battleford Drive", "city": "Raleigh",
                     "region": "NC", "postcode": "27613-3502", "country": "U.S.A.",
                     "vCard URL": "http://home.earthlink.net/~fdawson"}
    assert (tim["_row"], tim["street"], tim["city"], tim["region"], tim["postcode"]) == \
        (14, "501 E. Middlefield Rd.", "Mountain View", "CA", " 94043")
    assert simon["_row"] == 24
    assert {k: simon[k] for k in ("first_name", "last_name", "name suffix", "company", "street", "street2", "city",
                                  "postcode", "country", "phone", "mobile", "email", "vCard GEO", "vCard LANG")} == {
        "first_name": "Simon", "last_name": "Perreault", "name suffix": "ing. jr M.Sc.", "company": "Viagenie",
        "street": "2875 Laurier", "street2": "Suite D2-630", "city": "Quebec", "postcode": "G1V 2M2", "country": "Canada",
        "phone": "+1-418-656-9254 ext. 102", "mobile": "+1-418-262-6501", "email": "simon.perreault@viagenie.ca",
        "vCard GEO": "geo:46.772673,-71.282945", "vCard LANG": "fr; en"}
    assert "vCard KEY" not in simon  # keys, photos, sounds are no customer data


def test_the_cards_go_through_the_same_review_as_a_csv(store, tmp_path):
    f = vcf(tmp_path / "rfc.vcf", RFC_2426 + RFC_6350)
    plan = plan_import(store, read_table(f), target="corporate", country="US")
    rows = plan.rows.select("_row", "first_name", "last_name", "company", "email", "phone", "_status").to_dicts()
    assert [(r["_row"], r["first_name"], r["last_name"], r["company"], r["email"], r["phone"], r["_status"]) for r in rows] == [
        (1, "Frank", "Dawson", "Lotus Development Corporation", "frank_dawson@lotus.com", "+19196769515", "new"),
        (14, "Tim", "Howes", "Netscape Communications Corp.", "howes@netscape.com", "+14159373419", "new"),
        (24, "Simon", "Perreault", "Viagenie", "simon.perreault@viagenie.ca", "+14186569254 x102", "new")]
    store.apply_batch(plan.batch())
    assert sorted(c["company"] for c in store.customers()) == ["Lotus Development Corporation",
                                                               "Netscape Communications Corp.", "Viagenie"]


def test_a_row_with_an_error_is_named_by_its_card_s_line(store, tmp_path):
    f = vcf(tmp_path / "two.vcf", "BEGIN:VCARD\nVERSION:3.0\nN:Lovelace;Ada;;;\nEMAIL:ada@example.com\nEND:VCARD\n"
                                  "BEGIN:VCARD\nVERSION:3.0\nN:Babbage;Charles;;;\nEMAIL:not-an-email\nEND:VCARD\n")
    plan = plan_import(store, read_table(f))
    assert plan.blocked and {i.row for i in plan.issues if i.severity == "error"} == {6}


# vCard 2.1 as old phones write it: quoted-printable in the phone's code page, soft line breaks
# ('=' at a line's end), parameters without their names, a BASE64 photo ended by a blank line.
OLD_PHONE = (b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
             b"N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen;;;\r\n"
             b"FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=FCller\r\n"
             b"TEL;CELL;VOICE:+49 171 1234567\r\nTEL;WORK:+49 221 123456\r\n"
             b"ADR;WORK;CHARSET=ISO-8859-1:;;Stra\xdfe 1;K\xf6ln;;50667;Deutschland\r\n"
             b"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Gr=FC=DFe aus K=F6ln=0D=0Azweite Zeile, sehr lang u=\r\n"
             b"nd weiter\r\n"
             b"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\r\n  AAAQABAAD/2wBDAA\r\n\r\n"
             b"END:VCARD\r\n"
             b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
             b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Y=C4=B1lmaz;Ay=C5=9Fe;;;\r\n"
             b"ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=87i=C3=A7ek=C3=A7i Ltd. =C5=9Eti.\r\n"
             b"TEL;HOME:0216 444 55 66\r\nEMAIL;INTERNET;PREF:ayse@ornek.com.tr\r\n"
             b"X-ANDROID-CUSTOM;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:vnd.android.cursor.item/nickname;=C3=87=C4=B1t=C4=B1r\r\n"
             b"END:VCARD\r\n")


def test_quoted_printable_cards_of_old_phones_in_iso_8859_1_and_utf_8(tmp_path):
    f = tmp_path / "phone.vcf"
    f.write_bytes(OLD_PHONE)
    juergen, ayse = cards(f)
    assert juergen == {"_row": 1, "first_name": "Jürgen", "last_name": "Müller", "mobile": "+49 171 1234567",
                       "phone": "+49 221 123456", "street": "Straße 1", "city": "Köln", "postcode": "50667",
                       "country": "Deutschland", "notes": "Grüße aus Köln\nzweite Zeile, sehr lang und weiter"}
    assert ayse == {"_row": 14, "first_name": "Ayşe", "last_name": "Yılmaz", "company": "Çiçekçi Ltd. Şti.",
                    "phone": "0216 444 55 66", "email": "ayse@ornek.com.tr",
                    "vCard X-ANDROID-CUSTOM": "vnd.android.cursor.item/nickname;Çıtır"}


def test_a_utf_8_letter_split_by_a_fold_is_joined_again(tmp_path):
    # RFC 6350 keeps a character whole across a fold; some writers cut at 75 octets regardless.
    name = "Ğ".encode()
    f = tmp_path / "cut.vcf"
    f.write_bytes(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Do" + name[:1] + b"\r\n " + name[1:] + b"an Kaya\r\nEND:VCARD\r\n")
    assert cards(f) == [{"_row": 1, "full_name": "DoĞan Kaya"}]


NEXTCLOUD = """BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:4f5d1c2e-9a51-4c3b-8e0d-2b7f1e6a9c11
FN:Élodie Lefèvre
N:Lefèvre;Élodie;;;
ORG:Boulangerie du Marché;Comptabilité
EMAIL;TYPE=WORK:elodie@boulangerie-marche.fr
EMAIL;TYPE=HOME:elodie.lefevre@example.fr
TEL;TYPE=CELL:+33 6 12 34 56 78
TEL;TYPE="WORK,VOICE":+33 1 42 68 53 00
ADR;TYPE=WORK:;;12 rue du Marché\\, bâtiment B;Paris;;75004;France
CATEGORIES:Fournisseurs,VIP
NOTE:Livraison le mardi\\; appeler avant 9h.\\nCode porte: 1234
REV;VALUE=DATE-AND-OR-TIME:20240115T101500Z
END:VCARD
"""
# Apple Contacts: grouped properties with X-ABLabel, type=pref, a company card (X-ABShowAs),
# a folded photo.
APPLE = """BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.2//EN
N:van der Berg;Jan;;Dr.;
FN:Dr. Jan van der Berg
ORG:Berg & Zonen B.V.;
item1.EMAIL;type=INTERNET;type=pref:jan@bergzonen.nl
item1.X-ABLabel:_$!<Work>!$_
TEL;type=CELL;type=VOICE;type=pref:+31 6 12345678
TEL;type=IPHONE;type=CELL;type=VOICE:+31 6 87654321
item2.ADR;type=WORK;type=pref:;;Keizersgracht 123;Amsterdam;;1015 CJ;Nederland
item2.X-ABADR:nl
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDA
 sLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.2//EN
N:;;;;
FN:Berg & Zonen B.V.
ORG:Berg & Zonen B.V.;
X-ABShowAs:COMPANY
TEL;type=WORK;type=VOICE;type=pref:+31 20 1234567
END:VCARD
"""


def test_a_nextcloud_export(tmp_path):
    (elodie,) = cards(vcf(tmp_path / "nextcloud.vcf", NEXTCLOUD))
    assert elodie == {"_row": 1, "first_name": "Élodie", "last_name": "Lefèvre", "company": "Boulangerie du Marché",
                      "department": "Comptabilité", "email": "elodie@boulangerie-marche.fr",
                      "other emails": "elodie.lefevre@example.fr", "mobile": "+33 6 12 34 56 78",
                      "phone": "+33 1 42 68 53 00", "street": "12 rue du Marché, bâtiment B", "city": "Paris",
                      "postcode": "75004", "country": "France", "tags": "Fournisseurs, VIP",
                      "notes": "Livraison le mardi; appeler avant 9h.\nCode porte: 1234",
                      "external_id": "4f5d1c2e-9a51-4c3b-8e0d-2b7f1e6a9c11"}


def test_an_apple_export_with_a_company_card(store, tmp_path):
    f = vcf(tmp_path / "apple.vcf", APPLE)
    jan, company = cards(f)
    assert jan == {"_row": 1, "first_name": "Jan", "last_name": "van der Berg", "name prefix": "Dr.",
                   "company": "Berg & Zonen B.V.", "email": "jan@bergzonen.nl", "mobile": "+31 6 12345678",
                   "other phones": "+31 6 87654321 (cell, iphone)", "street": "Keizersgracht 123", "city": "Amsterdam",
                   "postcode": "1015 CJ", "country": "Nederland", "vCard X-ABLABEL": "_$!<Work>!$_", "vCard X-ABADR": "nl"}
    assert company == {"_row": 16, "company": "Berg & Zonen B.V.", "phone": "+31 20 1234567"}
    plan = plan_import(store, read_table(f), target="corporate")
    assert plan.rows.select("first_name", "last_name", "company", "mobile", "phone").rows() == [
        ("Jan", "van der Berg", "Berg & Zonen B.V.", "+31612345678", None), (None, None, "Berg & Zonen B.V.", None, "+31201234567")]


def test_prospects_keep_what_no_field_holds_in_their_raw_row(store, tmp_path):
    f = vcf(tmp_path / "apple.vcf", APPLE)
    plan = plan_import(store, read_table(f))
    store.apply_batch(plan.batch())
    jan = next(p for p in store.sources() if p.get("first_name") == "Jan")
    assert jan["raw"]["name prefix"] == "Dr." and jan["raw"]["vCard X-ABADR"] == "nl"
    assert jan["origin"]["file"] == "apple.vcf" and jan["origin"]["row"] == 1


DAMAGED = {
    "no END": ("BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Bob\n",
               "card 2 (line 5) is damaged: it has no END:VCARD (the file ends inside it)"),
    "no property": ("BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nthis is no property\nEND:VCARD\n",
                    "card 2 (line 7) is damaged: line 7 is not a vCard property (NAME;PARAMETERS:VALUE)"),
    "outside": ("BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD\nFN:Bob\n",
                "line 5 is outside any card (BEGIN:VCARD … END:VCARD)"),
    "END first": ("END:VCARD\n", "line 1: END:VCARD with no BEGIN:VCARD before it"),
    "version": ("BEGIN:VCARD\nVERSION:5.0\nFN:Ada\nEND:VCARD\n", "card 1 (line 2) is damaged: its VERSION is none of 2.1, 3.0 and 4.0"),
    "no charset": ("BEGIN:VCARD\nVERSION:2.1\nN;ENCODING=QUOTED-PRINTABLE:M=FCller;Hans\nEND:VCARD\n",
                   "card 1 (line 3) is damaged: N is not UTF-8 and names no CHARSET; save the file as UTF-8"),
    "unknown charset": ("BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=X-NONE;ENCODING=QUOTED-PRINTABLE:M=FCller;Hans\nEND:VCARD\n",
                        "card 1 (line 3) is damaged: N names a CHARSET no decoder knows"),
    "wrong charset": ("BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=US-ASCII;ENCODING=QUOTED-PRINTABLE:M=FCller;Hans\nEND:VCARD\n",
                      "card 1 (line 3) is damaged: N is not text in the CHARSET it names"),
    "base64": ("BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nNOTE;ENCODING=b:not base64!\nEND:VCARD\n",
               "card 1 (line 4) is damaged: NOTE's B data is damaged"),
    "empty": ("\n\n", "the file is empty"),
    "cell too long": ("BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Bob\nNOTE:" + "x" * 32_768 + "\nEND:VCARD\n",
                      "card 2 (line 5): a value over 32,767 characters (notes); not a customer file"),
    "no card": ("Name,Email\nAda,ada@example.com\n", "line 1 is outside any card and no vCard property"),
    "nothing read": ("BEGIN:VCARD\nVERSION:3.0\nPHOTO;VALUE=uri:http://example.com/a.jpg\nEND:VCARD\n",
                     "its 1 card hold no name, address, email or phone"),
}


@pytest.mark.parametrize("name", DAMAGED)
def test_a_damaged_file_is_refused_naming_the_file_and_the_card(tmp_path, name):
    text, message = DAMAGED[name]
    f = vcf(tmp_path / "damaged.vcf", text)
    with pytest.raises(UnreadableFile) as refused:
        read_table(f)
    assert str(refused.value) == f"{f}: {message}"


def test_the_command_line_imports_a_vcf_or_refuses_it_writing_nothing(store, store_path, tmp_path):
    good = vcf(tmp_path / "good.vcf", NEXTCLOUD)
    bad = vcf(tmp_path / "bad.vcf", NEXTCLOUD + DAMAGED["no property"][0])
    before = contents(store)
    refused = custdesk("--db", store_path, "import", bad, "--into", "corporate")
    assert refused.returncode == 2 and refused.stderr.splitlines() == [
        f"custdesk: {bad}: card 3 (line 23) is damaged: line 23 is not a vCard property (NAME;PARAMETERS:VALUE)"]
    assert contents(store) == before
    done = custdesk("--db", store_path, "import", good, "--into", "corporate")
    assert done.returncode == 0, done.stderr
    assert "1 row → 1 new" in done.stdout
    store.refresh()
    (elodie,) = [c for c in store.customers() if c["email"] == "elodie@boulangerie-marche.fr"]
    assert (elodie["first_name"], elodie["phone"], elodie["mobile"], elodie["tags"]) == \
        ("Élodie", "+33142685300", "+33612345678", ["Fournisseurs", "VIP"])


async def test_the_import_screen_reads_a_vcf(shop, tmp_path):
    from tui.app import CustdeskApp

    f = vcf(tmp_path / "nextcloud.vcf", NEXTCLOUD)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        screen = app.screen
        screen.query_one("#path").value = ""
        await pilot.press(*str(f), "enter")
        await settle(app, pilot)
        assert screen.step == "review" and screen.plan.counts()["created"] == 1
        await pilot.press("n")
        await settle(app, pilot)
    assert any(p.get("email") == "elodie@boulangerie-marche.fr" for p in shop.sources())


# -- the round trip ------------------------------------------------------------------------------
COMPARED = ("kind", "first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode", "city",
            "country", "notes", "tags")


def _international_store(store: Store) -> None:
    """Customers of seven countries as their own files write them; a third of them companies."""
    for n, p in enumerate(people(70)):
        fields = {"first_name": p.first, "last_name": p.last, "email": p.email, "phone": p.phone, "country": p.region,
                  "street": f"{p.last}straße {n}; Hof, links", "postcode": f"{10000 + n}",
                  "city": ("İzmir", "Köln", "Saint-Étienne", "A Coruña", "Zaandam", "Bury St Edmunds", "Boise")[n % 7],
                  "notes": f"first line\nsecond; with, commas and a \\ backslash {n}" if n % 2 else None,
                  "tags": ["vip", f"group {n % 3}"] if n % 4 else []}
        if n % 5 == 0:
            fields["mobile"] = p.phone_truth
        if n % 3 == 0:
            store.add_customer("corporate", {**fields, "company": f"{p.last} & Söhne {n} GmbH"})
        else:
            store.add_customer("private", fields)


def test_round_trip_an_export_imported_into_an_empty_store_holds_the_same_customers(store, tmp_path):
    _international_store(store)
    empty = Store(tmp_path / "empty" / "store.json")
    for kind in ("private", "corporate"):
        chosen = [c for c in store.customers() if c["kind"] == kind]
        out = tmp_path / f"{kind}.vcf"
        assert export_customers(store, out, [c["id"] for c in chosen]) == len(chosen)
        plan = plan_import(empty, read_table(out), target=kind)
        assert not plan.issues and plan.counts()["created"] == len(chosen)
        empty.apply_batch(plan.batch())
    exported = sorted(tuple(c.get(f) for f in COMPARED) for c in store.customers())
    imported = sorted(tuple(c.get(f) for f in COMPARED) for c in empty.customers())
    assert len(imported) == 70 and imported == exported
    assert {c["external_id"] for c in empty.customers()} == {f"urn:custdesk:{c['number']}" for c in store.customers()}


# -- any card text ---------------------------------------------------------------------------------
HEADS = st.sampled_from(["N:", "FN:", "ORG:", "EMAIL;TYPE=work:", "TEL;CELL:", "TEL;VALUE=uri;TYPE=\"voice,cell\";PREF=1:tel:",
                         "ADR;TYPE=home:", "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:", "NOTE;QUOTED-PRINTABLE:",
                         "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:", "PHOTO;ENCODING=b:", "NOTE;ENCODING=b:", "KIND:",
                         "CATEGORIES:", "UID:", "X-FOO;X=\"a:b\":", "item1.X-ABLabel:", "TEL;CHARSET=x;B=\"", "BEGIN:VCARD",
                         "END:VCARD", ";", ""])
VALUE_PIECES = st.sampled_from(["=", "=C3=", "=FC", "=0D=0A", "\\", "\\n", "\\;", "\\,", ";", ",", ":", "\"", " ", "\t",
                                "\r\n ", "=\r\n", "tel:+1;ext=2", "\udcfc", "ü", "QUFB"])
# Any text on a line; line breaks come as folds and soft breaks here, as damage below.
VALUE = st.lists(st.one_of(VALUE_PIECES, st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"), max_size=6)), max_size=8).map("".join)
LINE = st.tuples(HEADS, VALUE).map("".join)
CARD = st.tuples(st.sampled_from(["2.1", "3.0", "4.0"]), st.lists(LINE, max_size=8)).map(
    lambda card: f"BEGIN:VCARD\r\nVERSION:{card[0]}\r\n" + "".join(line + "\r\n" for line in card[1]) + "END:VCARD\r\n")
DAMAGE = st.one_of(st.sampled_from(["\r\n", "\n", "\r", "\r\n\r\n", "END:VCARD\r\n", "BEGIN:VCARD\r\n", "\x00"]),
                   st.text(max_size=10))
# A card, then more cards and now and then something else between or inside them.
CARD_TEXT = st.tuples(CARD, st.lists(st.one_of(CARD, CARD, DAMAGE), max_size=3)).map(lambda parts: parts[0] + "".join(parts[1]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=CARD_TEXT, tail=st.one_of(st.just(b""), st.binary(max_size=8)))
@example(text="BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n" + "X;B=" * 60 + "\"\r\nEND:VCARD\r\n", tail=b"")
@example(text="BEGIN:VCARD\r\nN;CHARSET=rot13;QUOTED-PRINTABLE:=FC\r\nEND:VCARD\r\n", tail=b"")
@example(text="BEGIN:VCARD\r\nFN:", tail=b"\xff\xfe")
def test_any_card_text_is_read_or_refused_in_one_line(tmp_path, text, tail):
    f = tmp_path / "any.vcf"
    f.write_bytes(text.encode("utf-8", "surrogateescape") + tail)
    try:
        table = read_table(f)
    except UnreadableFile as err:
        assert str(err).startswith(f"{f}: ") and "\n" not in str(err)
    else:
        assert table.frame.height >= 1 and table.columns


def test_a_hostile_line_and_a_large_photo_are_read_in_linear_time(tmp_path):
    # vobject's line regex takes seconds for 22 ';B=' before a lone '"' (and doubles with each
    # one more); its unfolding copies the whole line at every folded piece.
    hostile = vcf(tmp_path / "hostile.vcf", "BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nX" + ";B=" * 50_000 + "\"\nEND:VCARD\n")
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "\n ".join(["QUFB" * 18] * 200_000)  # 14 MB in 200,000 folded lines
    large = vcf(tmp_path / "large.vcf", f"BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\n{photo}\nEND:VCARD\n")
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match="line 4 is not a vCard property"):
        read_table(hostile)
    assert cards(large) == [{"_row": 1, "full_name": "Ada Lovelace"}]
    assert time.monotonic() - started < 10

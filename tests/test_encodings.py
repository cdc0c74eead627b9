"""Text files in every common European encoding: read exactly as written, or refused in one
line naming the file and what was seen; never garbled (Paweł read as Pawe³)."""
import pytest
from encoding_corpus import HEADER, LOCALES, SINGLE_BYTE, UNICODE, corpus, corpus_file, words
from faker import Faker
from helpers import custdesk
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from importers.reading import UnreadableFile, decode, how_read, read_table

# The code pages each language is written in, in practice: these files must be read, not refused.
NATIVE = {
    "pl_PL": ("cp1250", "iso8859-2"), "cs_CZ": ("cp1250", "iso8859-2"), "hu_HU": ("cp1250", "iso8859-2"),
    "ro_RO": ("cp1250", "iso8859-2"), "ru_RU": ("cp1251", "koi8-r", "iso8859-5", "cp866"), "el_GR": ("cp1253",),
    "tr_TR": ("cp1254",), "de_DE": ("cp1252", "iso8859-1", "iso8859-15"), "fr_FR": ("cp1252", "iso8859-1", "iso8859-15"),
    "es_ES": ("cp1252", "iso8859-1", "iso8859-15"), "nl_NL": ("cp1252", "iso8859-1", "iso8859-15"),
}


def cells(table):
    return [list(row) for row in table.frame.select(HEADER).iter_rows()]


@pytest.mark.parametrize("encoding", SINGLE_BYTE + UNICODE)
def test_every_file_is_read_as_written_or_refused(tmp_path, encoding):
    read, refused = set(), set()
    for file in corpus((encoding,), (25,), range(1)):
        path = tmp_path / f"{file.locale}.csv"
        path.write_bytes(file.data())
        try:
            table = read_table(path)
        except UnreadableFile as err:
            assert f"{path}: unknown text encoding (" in str(err) and ", row " in str(err), err
            refused.add(file.locale)
            continue
        assert cells(table) == file.rows, (file.locale, table.encoding)  # never garbled
        read.add(file.locale)
    assert {locale for locale, native in NATIVE.items() if encoding in native} <= read
    assert len(read) > len(refused)


@pytest.mark.parametrize("locale, encoding", [("pl_PL", "cp1250"), ("pl_PL", "iso8859-2"), ("cs_CZ", "iso8859-2"),
                                              ("ru_RU", "koi8-r"), ("ru_RU", "cp866"), ("el_GR", "cp1253"),
                                              ("tr_TR", "cp1254"), ("hu_HU", "cp1250"), ("ru_RU", "cp1251"),
                                              ("ru_RU", "iso8859-5")])
def test_the_code_page_a_file_was_written_in_is_named(tmp_path, locale, encoding):
    file = corpus_file(locale, encoding, 25, 1)
    path = tmp_path / "people.csv"
    path.write_bytes(file.data())
    assert read_table(path).encoding == encoding


def test_iso_8859_15_is_told_apart_from_windows_1252_by_its_letters(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes("Nom;Ville\nŒuvre de Sœur Thérèse;Besançon\nŠárka Žák;Brno\n".encode("iso8859-15"))
    table = read_table(path)
    assert (table.encoding, cells_of(table, "Nom")) == ("iso8859-15", [["Œuvre de Sœur Thérèse"], ["Šárka Žák"]])


def test_a_polish_windows_1250_file_is_read_and_the_import_says_how(store_path, tmp_path):
    path = tmp_path / "klienci.csv"
    path.write_bytes("Name;City;Email\nPaweł Wiśniewski;Łódź;pawel@example.pl\nZofia Żółć;Kraków;zofia@example.pl\n"
                     .encode("cp1250"))
    table = read_table(path)
    assert cells_of(table, "Name", "City") == [["Paweł Wiśniewski", "Łódź"], ["Zofia Żółć", "Kraków"]]
    assert how_read(table) == "read as Windows-1250, ';'-separated"
    result = custdesk("--db", store_path, "import", path, "--dry-run")
    assert "klienci.csv: read as Windows-1250, ';'-separated; header on row 1; columns:" in result.stdout, result.stderr


def cells_of(table, *columns):
    return [list(row) for row in table.frame.select(columns).iter_rows()]


def test_a_file_two_code_pages_read_as_different_plausible_text_is_refused_naming_both(store_path, tmp_path):
    path = tmp_path / "slovenija.csv"
    path.write_bytes("Name;City\nKovačič;Ljubljana\n".encode("cp1250"))
    with pytest.raises(UnreadableFile) as refused:
        read_table(path)
    assert str(refused.value) == (f"{path}: unknown text encoding (it reads as Windows-1250 'Kovačič' as well as "
                                  "Windows-1252 'Kovaèiè', row 2); save it as UTF-8, or name its encoding with "
                                  "--encoding windows-1250")
    assert cells_of(read_table(path, encoding="windows-1250"), "Name") == [["Kovačič"]]
    result = custdesk("--db", store_path, "import", path, "--dry-run", "--encoding", "windows-1250")
    assert "slovenija.csv: read as Windows-1250, ';'-separated;" in result.stdout, result.stderr


@pytest.mark.parametrize("locale, encoding", [("ja_JP", "shift_jis"), ("zh_CN", "gbk"), ("zh_TW", "big5"),
                                              ("ko_KR", "euc_kr")])
def test_a_file_no_european_code_page_reads_is_refused_saying_what_it_saw(tmp_path, locale, encoding):
    fake = Faker(locale)
    fake.seed_instance(3)
    path = tmp_path / "asia.csv"
    path.write_bytes(("Name,City\n" + "".join(f"{fake.name()},{fake.city()}\n" for _ in range(8))).encode(encoding))
    with pytest.raises(UnreadableFile, match=r"asia.csv: unknown text encoding \(as [-\w]+ it would read '.+': .+, row \d+\); "
                                             "save it as UTF-8, or name its encoding with --encoding NAME$"):
        read_table(path)


def test_an_encoding_named_by_hand_is_used_or_refused_in_one_line(tmp_path):
    path = tmp_path / "named.csv"
    path.write_bytes(b"Name,City\nAda,K\xf6ln\nBob,\x81\n")
    assert cells_of(read_table(path, encoding="latin-1"), "City") == [["Köln"], ["\x81"]]
    with pytest.raises(UnreadableFile, match=r"named.csv: not Windows-1252: row 3 holds byte 0x81, which it does not define$"):
        read_table(path, encoding="cp1252")
    with pytest.raises(UnreadableFile, match=r"named.csv: --encoding klingon names no text encoding \(e.g. windows-1252, "):
        read_table(path, encoding="klingon")
    with pytest.raises(UnreadableFile, match=r"named.csv: --encoding rot13 is not a text encoding$"):
        read_table(path, encoding="rot13")
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffName,City\nAda,Köln\n".encode())
    assert read_table(bom, encoding="utf-8").columns == ["Name", "City"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path, encoding):
    path = tmp_path / "excel.txt"
    path.write_bytes("Name\tCity\nAyşe Yılmaz\tİzmir\nΝίκος\tΑθήνα\n".encode(encoding))
    table = read_table(path)
    title = {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}[encoding]
    assert (table.encoding, how_read(table)) == (encoding, f"read as {title}, tab-separated")
    assert cells_of(table, "Name", "City") == [["Ayşe Yılmaz", "İzmir"], ["Νίκος", "Αθήνα"]]


@st.composite
def european_text(draw):
    """Words of one locale's names, streets and cities, as many and as often as hypothesis likes, in a code page."""
    locale = draw(st.sampled_from(LOCALES))
    encoding = draw(st.sampled_from(SINGLE_BYTE))
    writable = [w for w in words(locale) if _writable(w, encoding)]
    assume(writable)
    picked = draw(st.lists(st.sampled_from(writable), min_size=1, max_size=12))
    return encoding, " ".join(picked) + "\n"


def _writable(word, encoding):
    try:
        word.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(european_text())
def test_any_words_in_any_code_page_are_read_as_written_or_refused(tmp_path_factory, case):
    encoding, text = case
    try:
        read, _ = decode(tmp_path_factory.getbasetemp() / "words.csv", text.encode(encoding))
    except UnreadableFile as err:
        assert "unknown text encoding" in str(err)
        return
    assert read == text

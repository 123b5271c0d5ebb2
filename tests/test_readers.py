"""Reading essays: .txt/.md/.docx to text, and a clear reason naming the file for everything that cannot be read."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from docx import Document

from app.readers import MAX_BYTES, UnreadableEssay, display_name, printable, read_bytes, read_essay

ESSAY = "Power was centralised because the nomenklatura let the party appoint loyal officials.\n\nHowever, debate continued."


def docx_bytes(*paragraphs: str, table: list[list[str]] | None = None, merge: bool = False) -> bytes:
    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
        if merge:
            t.cell(0, 0).merge(t.cell(0, 1))
        doc.add_paragraph("After the table.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def unreadable(data: bytes, filename: str) -> UnreadableEssay:
    with pytest.raises(UnreadableEssay) as info:
        read_bytes(data, filename)
    assert str(info.value).startswith(display_name(filename) + ": ")
    return info.value


# -- text ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        ESSAY.encode("utf-8"),
        b"\xef\xbb\xbf" + ESSAY.encode("utf-8"),  # UTF-8 with BOM (Windows Notepad)
        ESSAY.encode("utf-16"),  # with BOM, native order
        b"\xff\xfe" + ESSAY.encode("utf-16-le"),
        b"\xfe\xff" + ESSAY.encode("utf-16-be"),
        ESSAY.replace("\n", "\r\n").encode("utf-8"),  # Windows line ends are normalised
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf16-le", "utf16-be", "crlf"],
)
def test_text_encodings_accepted(data):
    assert read_bytes(data, "essay.txt") == ESSAY


def test_non_ascii_utf8_kept():
    text = "Stalin’s “yes-men” — café, Zinov’ev"
    assert read_bytes(text.encode(), "notes.MD") == text  # extension is case-insensitive


def test_latin1_rejected_with_advice():
    err = unreadable("Le café de Staline était centralisé".encode("latin-1"), "latin.txt")
    assert "UTF-8" in err.reason and "save it as UTF-8" in err.reason


def test_binary_with_nul_rejected():
    assert "binary" in unreadable(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "picture.txt").reason


def test_control_characters_without_nul_rejected_as_binary():
    data = bytes(range(1, 32)) * 10 + b"some words"
    assert "binary" in unreadable(data, "odd.txt").reason


def test_a_few_control_characters_are_tolerated():
    text = "A form feed\x0c and a tab\t are fine in a long enough essay about the nomenklatura." * 3
    assert read_bytes(text.encode(), "ok.txt") == text


def test_utf16_text_with_binary_content_rejected():
    assert "binary" in unreadable(b"\xff\xfe" + "\x00\x01\x02\x03".encode("utf-16-le") * 20, "u16.txt").reason


def test_broken_utf16_rejected():
    assert "UTF-16" in unreadable(b"\xff\xfe" + b"\x00\xd8a\x00", "broken.txt").reason  # lone high surrogate


def test_zip_named_txt_gets_a_hint():
    assert ".docx" in unreadable(docx_bytes("hello"), "essay.txt").reason


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", "\ufeff".encode("utf-8")], ids=["empty", "whitespace", "bom-only"])
def test_empty_rejected(data):
    err = unreadable(data, "empty.txt")
    assert "empty" in err.reason or "no text" in err.reason


def test_oversize_rejected_before_decoding():
    err = unreadable(b"a" * (MAX_BYTES + 1), "huge.txt")
    assert "limit is 2 MB" in err.reason


def test_size_limit_is_inclusive():
    data = (b"word " * (MAX_BYTES // 5 + 1))[:MAX_BYTES]
    assert len(read_bytes(data, "big.txt")) == MAX_BYTES


@pytest.mark.parametrize("name, shown", [("essay.pdf", "'.pdf'"), ("essay.doc", "'.doc'"), ("README", "without an extension")])
def test_unsupported_extension(name, shown):
    err = unreadable(b"text", name)
    assert "unsupported file type" in err.reason and shown in err.reason and ".docx" in err.reason


def test_kind_overrides_extension():
    assert read_bytes(b"from standard input", "standard input", kind=".txt") == "from standard input"


# -- docx ---------------------------------------------------------------------
def test_docx_paragraphs_joined_by_blank_lines():
    assert read_bytes(docx_bytes("First paragraph.", "", "Second paragraph."), "e.docx") == "First paragraph.\n\nSecond paragraph."


def test_docx_tables_in_reading_order_merged_cells_once():
    data = docx_bytes("Intro.", table=[["Merged heading", "x"], ["Cell A", "Cell B"]], merge=True)
    text = read_bytes(data, "e.docx")
    # the merged cell spans two grid columns but is read once (with both its paragraphs)
    assert text.split("\n\n") == ["Intro.", "Merged heading", "x", "Cell A", "Cell B", "After the table."]


def test_docx_without_text_rejected():
    assert "no text" in unreadable(docx_bytes("", "   "), "blank.docx").reason


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a zip file at all",
        docx_bytes("Some text here.")[:1500],  # truncated
        b"PK\x03\x04" + b"\x00" * 100,
    ],
    ids=["text", "truncated", "bad-zip-header"],
)
def test_corrupt_docx_rejected(data):
    err = unreadable(data, "broken.docx")
    assert "docx" in err.reason and ("damaged" in err.reason or "not a valid" in err.reason)


def test_zip_that_is_not_a_word_document_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a word document")
    assert "damaged" in unreadable(buf.getvalue(), "fake.docx").reason


def test_docx_zip_bomb_refused_without_unpacking():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\x00" * (80 * 1024 * 1024))
    assert len(buf.getvalue()) < MAX_BYTES
    assert "unpacks to" in unreadable(buf.getvalue(), "bomb.docx").reason


# -- files --------------------------------------------------------------------
def test_read_essay_txt_and_docx(tmp_path):
    (tmp_path / "a.txt").write_text(ESSAY, encoding="utf-8")
    (tmp_path / "b.docx").write_bytes(docx_bytes("Docx paragraph one.", "Docx paragraph two."))
    assert read_essay(tmp_path / "a.txt") == ESSAY
    assert read_essay(str(tmp_path / "b.docx")) == "Docx paragraph one.\n\nDocx paragraph two."


def test_read_essay_missing_file(tmp_path):
    with pytest.raises(UnreadableEssay, match="no such file"):
        read_essay(tmp_path / "gone.txt")


def test_read_essay_folder_named_like_a_file(tmp_path):
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(UnreadableEssay, match="folder"):
        read_essay(tmp_path / "dir.txt")


def test_read_essay_oversize_file(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (MAX_BYTES // 4))
    with pytest.raises(UnreadableEssay, match="limit is 2 MB"):
        read_essay(big)


# -- names --------------------------------------------------------------------
def test_hostile_names_printed_safely():
    name = "bad\nname\r\t\x1b[31mred\u202etxt.exe\x7f.txt"
    shown = printable(name)
    assert shown == "bad\\nname\\r\\t\\x1b[31mred\\u202etxt.exe\\x7f.txt"
    assert all(ch.isprintable() for ch in shown)


def test_non_utf8_name_bytes_escaped():
    assert printable(b"caf\xe9.txt") == "caf\\xe9.txt"
    assert printable(Path("caf\udce9.txt")) == "caf\\xe9.txt"  # how os.fsdecode shows such a name


def test_long_names_shortened_in_messages():
    shown = display_name("x" * 2000 + ".txt")
    assert len(shown) <= 240 and shown.endswith(".txt") and "…" in shown
    err = UnreadableEssay("y" * 5000 + "\n.pdf", "unsupported")
    assert len(str(err)) < 300 and "\n" not in str(err)

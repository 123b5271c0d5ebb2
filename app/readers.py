"""Reading essays from files and uploads: .txt, .md and .docx to text, with a clear reason when that is not possible."""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
from pathlib import Path
from typing import BinaryIO

EXTENSIONS = (".txt", ".md", ".docx")
MAX_BYTES = 2 * 1024 * 1024  # on disk / as uploaded
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # a .docx is a zip: refuse zip bombs before unpacking
MAX_NAME_CHARS = 240  # longer names are shortened in messages
BINARY_CONTROL_SHARE = 0.05  # more control characters than this and it is not text
_ZIP_MAGIC = b"PK\x03\x04"
_CONTROL_BYTES = bytes(b for b in [*range(32), 127] if chr(b) not in "\t\n\r\f\v")
_CONTROL_CHARS = dict.fromkeys(_CONTROL_BYTES)
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UTF8_ADVICE = "save it as UTF-8 text (in Word: Save As > Plain Text > UTF-8; most editors have an Encoding option)"


class UnreadableEssay(ValueError):
    """A file that cannot be read as an essay; the message names the file (printably) and says what is wrong."""

    def __init__(self, name: str | os.PathLike[str] | bytes, reason: str) -> None:
        self.name = display_name(name)
        self.reason = reason
        super().__init__(f"{self.name}: {reason}")


# -- names --------------------------------------------------------------------
def printable(text: str | os.PathLike[str] | bytes) -> str:
    """The text with control and invisible format characters escaped, and undecodable file-name bytes as \\xNN."""
    text = os.fspath(text)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch)[0] == "C":  # Cc control, Cf format (bidi overrides), Cs, Co, Cn
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def display_name(name: str | os.PathLike[str] | bytes) -> str:
    """A file name safe to print in one line of a message: escaped, and shortened in the middle if very long."""
    text = printable(name)
    if len(text) > MAX_NAME_CHARS:
        keep = MAX_NAME_CHARS - 1
        text = text[: keep * 2 // 3] + "…" + text[-(keep - keep * 2 // 3) :]
    return text


# -- finding ------------------------------------------------------------------
def find_essays(folder: str | os.PathLike[str]) -> tuple[list[Path], list[UnreadableEssay]]:
    """Essay files under a folder, recursively, in sorted order (case-insensitive), and sub-folders that cannot be opened.

    Hidden files and folders, Word's ~$ lock files and other file types are left out.
    """
    found: list[Path] = []
    errors: list[UnreadableEssay] = []

    def unreadable(exc: OSError) -> None:
        errors.append(UnreadableEssay(exc.filename or folder, f"cannot open the folder: {exc.strerror or exc}"))

    for parent, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(parent, f) for f in files if not f.startswith((".", "~$")) and os.path.splitext(f)[1].lower() in EXTENSIONS]
    return sorted(found, key=lambda f: ([s.lower() for s in f.parts], f.parts)), errors


# -- reading ------------------------------------------------------------------
def read_essay(path: str | os.PathLike[str]) -> str:
    """The text of an essay file (.txt, .md or .docx); UnreadableEssay says why when it cannot be read."""
    p = Path(path)
    _check_extension(p.name, p)
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UnreadableEssay(path, "no such file") from None
    except IsADirectoryError:
        raise UnreadableEssay(path, "is a folder, not a file") from None
    except PermissionError:
        raise UnreadableEssay(path, "permission denied: the file cannot be opened") from None
    except OSError as exc:
        raise UnreadableEssay(path, f"cannot be read: {exc.strerror or exc}") from None
    return read_bytes(data, os.fspath(path))


def read_stream(stream: BinaryIO, name: str = "standard input") -> str:
    """The text of an essay piped in (plain text, or a .docx recognised by its zip signature)."""
    data = stream.read(MAX_BYTES + 1)
    return read_bytes(data, name, kind=".docx" if data.startswith(_ZIP_MAGIC) else ".txt")


def read_bytes(data: bytes, filename: str, *, kind: str | None = None) -> str:
    """The text of an uploaded essay; the type comes from the file name's extension, or `kind` (".txt", ".docx")."""
    ext = kind or _check_extension(Path(filename).name, filename)
    if len(data) > MAX_BYTES:
        size = f"more than {_mb(MAX_BYTES)}" if len(data) == MAX_BYTES + 1 else _mb(len(data))
        raise UnreadableEssay(filename, f"the file is {size}; the limit is {_mb(MAX_BYTES)}")
    if not data:
        raise UnreadableEssay(filename, "the file is empty")
    text = _docx_text(data, filename) if ext == ".docx" else _decode(data, filename)
    if not text.strip():
        what = "the document has no text" if ext == ".docx" else "the file has no text, only blank space"
        raise UnreadableEssay(filename, what)
    return text


def _check_extension(basename: str, name: str | os.PathLike[str]) -> str:
    ext = os.path.splitext(basename)[1].lower()
    if ext not in EXTENSIONS:
        what = f"'{printable(ext)}' files" if ext else "files without an extension"
        raise UnreadableEssay(name, f"unsupported file type: {what} cannot be marked; use .txt, .md or .docx")
    return ext


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        text = _strict(data, "utf-8-sig", name)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _strict(data, "utf-16", name)
    else:
        if data.startswith(_ZIP_MAGIC):
            raise UnreadableEssay(name, "this is a Word (.docx) or zip file, not plain text: give it the right extension")
        if b"\x00" in data or _control_share(data) > BINARY_CONTROL_SHARE:
            raise UnreadableEssay(name, "this is a binary file, not text")
        text = _strict(data, "utf-8", name)
    if "\x00" in text or _control_share(text) > BINARY_CONTROL_SHARE:
        raise UnreadableEssay(name, "this is a binary file, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise UnreadableEssay(name, f"not valid {label} text (at byte {exc.start}): {_UTF8_ADVICE}") from None


def _control_share(text: str | bytes) -> float:
    """Share of control characters other than tab, line breaks and form feed."""
    kept = text.translate(None, _CONTROL_BYTES) if isinstance(text, bytes) else text.translate(_CONTROL_CHARS)
    return (len(text) - len(kept)) / max(len(text), 1)


def _docx_text(data: bytes, name: str) -> str:
    """Paragraphs, and table cells in reading order, joined by blank lines."""
    from docx import Document  # late import: only .docx needs it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(info.file_size for info in z.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise UnreadableEssay(name, f"the document unpacks to {_mb(unpacked)}; the limit is {_mb(MAX_UNPACKED_BYTES)}")
        document = Document(io.BytesIO(data))
        blocks = _blocks(document)
    except UnreadableEssay:
        raise
    except zipfile.BadZipFile:
        raise UnreadableEssay(name, "not a valid .docx file (it is damaged, or another format renamed .docx): open it in Word and save it as .docx again") from None
    except Exception as exc:  # python-docx and lxml raise many types for a damaged document; all mean "corrupt"
        raise UnreadableEssay(name, f"the .docx file is damaged and cannot be opened ({type(exc).__name__}): open it in Word and save it again") from None
    return "\n\n".join(blocks)


def _blocks(container: object) -> list[str]:
    from docx.table import Table

    out: list[str] = []
    for item in container.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Table):
            seen: set[object] = set()  # holds the elements, so identity is stable
            for row in item.rows:
                for cell in row.cells:
                    if cell._tc in seen:  # a merged cell is returned once per grid column it spans
                        continue
                    seen.add(cell._tc)
                    out += _blocks(cell)
        elif item.text.strip():
            out.append(item.text.strip())
    return out

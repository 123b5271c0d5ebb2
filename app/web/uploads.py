"""A class's essays from an uploaded .zip (of .txt/.md/.docx) or .csv (student, essay), read defensively.

Nothing is ever written to disk, and nothing in an upload is trusted: the number of files and the bytes actually
unpacked are counted while reading (not taken from the zip's headers), each file is read to at most 2 MB, names
that climb out of the folder, nested archives, links, encrypted, binary, empty, non-UTF-8 and duplicate files
are each reported by name with the reason, and every other essay is still marked.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

from ..essay import MAX_CHARS, EssayError, check_text
from ..readers import EXTENSIONS, MAX_BYTES, UnreadableEssay, display_name, read_bytes

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # the request itself
MAX_FILES = 500  # essays looked at in one upload
MAX_ENTRIES = 5000  # entries in the zip's directory before it is refused outright
MAX_TOTAL_UNPACKED = 64 * 1024 * 1024  # bytes actually unpacked, all files together
ARCHIVES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")
JUNK = ("__macosx/", "thumbs.db", "desktop.ini", ".ds_store")
_MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_\d+_assign(?:submission|feedback)_\w*?_?$")
_CHUNK = 64 * 1024

csv.field_size_limit(max(csv.field_size_limit(), MAX_CHARS + 1))

STUDENT_COLUMNS = ("student", "name", "student name", "full name", "pupil", "learner")
ESSAY_COLUMNS = ("essay", "text", "answer", "response", "essay text", "submission")
EMAIL_COLUMNS = ("email", "e-mail", "email address", "e-mail address")
ID_COLUMNS = ("id", "id number", "student id", "sis id", "sis user id", "candidate number")


class UploadRefused(ValueError):
    """The upload as a whole cannot be used (not a zip or CSV, damaged, far too many files); nothing was marked."""


@dataclass(frozen=True)
class Essay:
    name: str  # where it came from, printable: "10B/Amira Khan.docx" or "row 4"
    student: str
    text: str
    email: str | None = None
    sis_id: str | None = None


@dataclass(frozen=True)
class Problem:
    name: str
    reason: str


@dataclass
class Upload:
    essays: list[Essay] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def refuse(self, name: str, reason: str) -> None:
        self.problems.append(Problem(display_name(name), reason))


def read_upload(data: bytes, filename: str) -> Upload:
    """Essays and per-file problems; UploadRefused when the file is neither a usable zip nor a CSV."""
    lower = filename.lower()
    if not data:
        raise UploadRefused(f"{display_name(filename)} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"{display_name(filename)} is more than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if lower.endswith(".zip") or data.startswith(b"PK\x03\x04"):
        return read_zip(data)
    if lower.endswith((".csv", ".tsv")):
        return read_csv(data)
    raise UploadRefused(f"{display_name(filename)}: upload a .zip of essays (.txt, .md, .docx) or a .csv with student and essay columns.")


# -- zip ---------------------------------------------------------------------------------
def _entry_count(data: bytes) -> int | None:
    """Entries the zip's end record declares, read before zipfile builds its whole directory in memory."""
    try:
        end = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]  # stable since Python 2
    except Exception:  # noqa: BLE001 - a damaged end record is reported by ZipFile itself
        return None
    return int(end[4]) if end else None  # _ECD_ENTRIES_TOTAL


def _safe_parts(raw: str) -> list[str] | None:
    """The name's folders and file, or None if it is absolute or climbs out (../)."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return parts


def _is_junk(parts: list[str]) -> bool:
    joined = "/".join(parts).lower() + ("/" if len(parts) > 1 else "")
    base = parts[-1]
    return joined.startswith(JUNK[0]) or base.lower() in JUNK or base.startswith((".", "~$"))


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """At most MAX_BYTES + 1 bytes, counted as they are unpacked (the header's size is not believed)."""
    out = bytearray()
    with zf.open(info) as f:
        while len(out) <= MAX_BYTES and len(out) < budget:
            chunk = f.read(min(_CHUNK, MAX_BYTES + 1 - len(out)))
            if not chunk:
                break
            out += chunk
    return bytes(out)


def read_zip(data: bytes) -> Upload:
    up = Upload()
    declared = _entry_count(data)
    if declared is not None and declared > MAX_ENTRIES:
        raise UploadRefused(f"The zip holds {declared:,} entries; an upload may hold at most {MAX_ENTRIES:,}. Split the class into smaller zips.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise UploadRefused(f"The zip file is damaged and cannot be opened ({exc}). Make the zip again and upload it.") from None
    if len(infos) > MAX_ENTRIES:
        raise UploadRefused(f"The zip holds {len(infos):,} entries; an upload may hold at most {MAX_ENTRIES:,}.")
    candidates: list[tuple[zipfile.ZipInfo, list[str]]] = []
    seen_names: set[str] = set()
    for info in infos:
        raw = info.filename
        if raw.endswith("/") or info.is_dir():
            continue
        parts = _safe_parts(raw)
        if parts is None or not parts:
            up.refuse(raw, "unsafe file name: it points outside the folder (path traversal), so it was not read")
            continue
        if _is_junk(parts):
            continue
        key = unicodedata.normalize("NFC", "/".join(parts)).lower()
        if key in seen_names:
            up.refuse(raw, "duplicate: the zip holds two files with this name; only the first was read")
            continue
        seen_names.add(key)
        candidates.append((info, parts))
    # A folder holding one essay, among several such folders, is a student's (as Moodle downloads them);
    # otherwise files are named after their students ("10B/Amira Khan.docx").
    per_folder: dict[tuple[str, ...], int] = {}
    for _, parts in candidates:
        per_folder[tuple(parts[:-1])] = per_folder.get(tuple(parts[:-1]), 0) + 1
    folder_per_student = sum(1 for folder, n in per_folder.items() if folder and n == 1) >= 2
    if not candidates and not up.problems:
        raise UploadRefused("The zip has no .txt, .md or .docx files in it.")
    unpacked = 0
    students: dict[str, tuple[str, str]] = {}
    for n, (info, parts) in enumerate(candidates):
        name = "/".join(parts)
        if n >= MAX_FILES:
            up.refuse(f"{len(candidates) - MAX_FILES} more files", f"not read: an upload may hold at most {MAX_FILES} essays")
            break
        reason = _refusal(info, parts)
        if reason:
            up.refuse(name, reason)
            continue
        if unpacked >= MAX_TOTAL_UNPACKED:
            up.refuse(name, f"not read: the upload unpacks to more than {MAX_TOTAL_UNPACKED // (1024 * 1024)} MB in all")
            continue
        try:
            content = _read_member(zf, info, MAX_TOTAL_UNPACKED - unpacked)
        except RuntimeError:  # zipfile's message for encrypted members
            up.refuse(name, "password-protected: save it without a password")
            continue
        except NotImplementedError:
            up.refuse(name, "compressed in a way that cannot be read: make the zip with ordinary (deflate) compression")
            continue
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            up.refuse(name, f"damaged inside the zip ({exc})")
            continue
        unpacked += len(content)
        if unpacked > MAX_TOTAL_UNPACKED:
            up.refuse(name, f"not read: the upload unpacks to more than {MAX_TOTAL_UNPACKED // (1024 * 1024)} MB in all")
            continue
        try:
            text = read_bytes(content, parts[-1])
            check_text(text)
        except UnreadableEssay as exc:
            up.refuse(name, exc.reason)
            continue
        except EssayError as exc:
            up.refuse(name, str(exc))
            continue
        student = _name_for(parts, folder_per_student and per_folder[tuple(parts[:-1])] == 1)
        key = student.lower()
        if key in students:
            first_name, first_student = students[key]
            up.refuse(name, f"another essay in this upload ({display_name(first_name)}) is already for {first_student}; only the first was marked")
            continue
        students[key] = (name, student)
        up.essays.append(Essay(display_name(name), student, text))
    return up


def _name_for(parts: list[str], by_folder: bool) -> str:
    """The student: a Moodle folder ("Full Name_123_assignsubmission_file_") or a student's folder, else the file's name."""
    if len(parts) > 1:
        m = _MOODLE_FOLDER.match(parts[-2])
        if m or by_folder:
            folder = m.group("name") if m else parts[-2]
            return " ".join(folder.replace("_", " ").split())[:80] or "Unnamed"
    stem = posixpath.splitext(parts[-1])[0]
    return " ".join(stem.replace("_", " ").split())[:80] or "Unnamed"


def _refusal(info: zipfile.ZipInfo, parts: list[str]) -> str | None:
    base = parts[-1].lower()
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        return "a symbolic link, not a file: it was not followed"
    if base.endswith(ARCHIVES):
        return "an archive inside the zip is not opened: put its essays in the main zip"
    if info.flag_bits & 0x1:
        return "password-protected: save it without a password"
    ext = posixpath.splitext(base)[1]
    if ext not in EXTENSIONS:
        what = f"'{ext}' files" if ext else "files without an extension"
        return f"unsupported file type: {what} cannot be marked; use .txt, .md or .docx"
    return None


# -- csv ---------------------------------------------------------------------------------
def _decode_csv(data: bytes) -> str:
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadRefused(
            f"The CSV is not UTF-8 text (at byte {exc.start}). In Excel use Save As > CSV UTF-8; in Google Sheets, File > Download > CSV."
        ) from None


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    cleaned = [" ".join(h.strip().lower().replace("_", " ").split()) for h in header]
    for wanted in names:
        if wanted in cleaned:
            return cleaned.index(wanted)
    return None


def read_csv(data: bytes) -> Upload:
    text = _decode_csv(data)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise UploadRefused(f"The CSV cannot be read ({exc}).") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise UploadRefused("The CSV has no rows.")
    header = rows[0]
    who, essay = _column(header, STUDENT_COLUMNS), _column(header, ESSAY_COLUMNS)
    email, sis = _column(header, EMAIL_COLUMNS), _column(header, ID_COLUMNS)
    if who is None or essay is None:
        if len(header) == 2 and who is None and essay is None:
            who, essay, body, first_row = 0, 1, rows, 1  # no header: student, essay
        else:
            raise UploadRefused("The CSV needs a header row with a 'student' (or 'name') column and an 'essay' (or 'text') column.")
    else:
        body, first_row = rows[1:], 2
    up = Upload()
    students: dict[str, int] = {}
    for n, row in enumerate(body, start=first_row):
        label = f"row {n}"
        if len(up.essays) >= MAX_FILES:
            up.refuse(f"rows {n}-{first_row + len(body) - 1}", f"not read: an upload may hold at most {MAX_FILES} essays")
            break

        def cell(i: int | None, row: list[str] = row) -> str:
            return row[i].strip() if i is not None and i < len(row) else ""

        student = " ".join(cell(who).split())[:80]
        body_text = cell(essay).replace("\r\n", "\n").replace("\r", "\n")
        if not student:
            up.refuse(label, "no student name in this row")
            continue
        label = f"row {n} ({student})"
        try:
            check_text(body_text)
        except EssayError as exc:
            up.refuse(label, str(exc))
            continue
        if "\x00" in body_text:
            up.refuse(label, "the essay holds binary data, not text")
            continue
        key = student.lower()
        if key in students:
            up.refuse(label, f"row {students[key]} is already for {student}; only the first was marked")
            continue
        students[key] = n
        up.essays.append(Essay(display_name(label), student, body_text, cell(email) or None, cell(sis) or None))
    return up

"""What a GACC export file is before it is a table: its flow, from where the file sits (GACC
exports have no flow column), and its text, GBK or UTF-8.

- Encoding: the platform writes GBK; files re-saved elsewhere are UTF-8, with or without a BOM.
  Bytes are decoded strictly, UTF-8 first (a BOM means UTF-8 and nothing else), then GB18030
  (a superset of GBK). Nothing is ever decoded loosely, so a GBK file never becomes mojibake;
  a UTF-8 file with a few corrupt bytes is refused rather than read as GB18030 nonsense, and
  charset_normalizer is asked only to word the error when neither encoding fits.
- No flow column: the flow comes from the inbox folder (gacc/exports/, gacc/imports/) or from
  出口 / 进口 in the file name; a file with neither, or with conflicting hints, is refused.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from dagster_project.sources.contract import SourceFileError
from dagster_project.sources.textio import check_columns, read_head

FLOW_FOLDERS = {"exports": "export", "imports": "import"}
FLOW_WORDS = {"出口": "export", "进口": "import"}
BOTH_FLOWS_WORD = "进出口"

# --- the flow, from where the file sits ----------------------------------------------------------

WHERE_TO_PUT_IT = "put it in gacc/exports/ or gacc/imports/ in the inbox (or have 出口 or 进口 in its name)"


def flow_from_path(path: Path) -> str:
    """GACC exports have no flow column: the inbox folder or the file name says which flow it is.

    Only folders below the last `gacc` folder count (a file outside an inbox: its own folder),
    so an unrelated `exports` higher up the path never decides the flow.
    """
    folders = [part.lower() for part in path.parent.parts]
    if "gacc" in folders:
        folders = folders[len(folders) - folders[::-1].index("gacc") :]
    else:
        folders = folders[-1:]
    by_folder = {FLOW_FOLDERS[f] for f in folders if f in FLOW_FOLDERS}
    if len(by_folder) > 1:
        raise SourceFileError(path, f"is under both an exports/ and an imports/ folder; {WHERE_TO_PUT_IT}")
    # 进出口 ("imports and exports") contains 出口 but names both flows.
    both_in_name = BOTH_FLOWS_WORD in path.name
    by_name = {flow for word, flow in FLOW_WORDS.items() if word in path.name.replace(BOTH_FLOWS_WORD, "")}
    if by_folder:
        (flow,) = by_folder
        if by_name and by_name != by_folder and not both_in_name:
            folder = "exports" if flow == "export" else "imports"
            other = next(word for word, f in FLOW_WORDS.items() if f != flow)
            raise SourceFileError(
                path,
                f"is in gacc/{folder}/ but its name says {other}; move it to the right folder or rename it",
            )
        return flow
    if both_in_name or len(by_name) > 1:
        raise SourceFileError(
            path,
            "its name says both imports and exports (进出口) but the file has no flow column; "
            f"export each flow separately and {WHERE_TO_PUT_IT}",
        )
    if by_name:
        (flow,) = by_name
        return flow
    raise SourceFileError(
        path,
        f"no flow: a GACC export has no flow column, so the flow comes from where the file is; "
        f"{WHERE_TO_PUT_IT}",
    )


# --- decoding ------------------------------------------------------------------------------------

ZIP_MAGIC = b"PK\x03\x04"
GB_ENCODINGS = ("gb18030", "gbk", "gb2312", "hz")


def _guess(data: bytes) -> str:
    """charset_normalizer's guess, for the error message only (it never decodes a file here)."""
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[:200_000]).best()
    return best.encoding if best is not None else "unknown"


def decode_text(path: Path, data: bytes, partial: bool = False) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a BOM is removed and then means UTF-8 only), else GB18030. GACC's
    `textio.Decoder`, which `textio.open_head` uses for the head and the whole file alike.

    `partial` data is the head of a file (`textio.read_head`): a character cut at its end is not
    an error, so a file can be refused from its head without reading the rest."""

    def strict(raw: bytes, encoding: str) -> str:
        return codecs.getincrementaldecoder(encoding)().decode(raw, final=not partial)

    if data.startswith(ZIP_MAGIC):
        raise SourceFileError(path, "is a zip file (an XLSX workbook?) named .csv; rename it to .xlsx")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return strict(data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise SourceFileError(
                path,
                f"has a UTF-8 BOM but is not valid UTF-8 (byte {err.start + 3}: {err.reason}); "
                "re-export the file from the query platform",
            ) from err
    try:
        text, encoding = strict(data, "utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        # Mostly-valid UTF-8 with a few broken bytes would still "decode" as GB18030, into
        # nonsense: refuse it instead. Real GBK text forms valid UTF-8 sequences only by chance.
        loose = data.decode("utf-8", errors="replace")
        broken = loose.count("\ufffd")
        valid = sum(1 for ch in loose if ord(ch) > 127) - broken
        if valid >= 10 * broken:
            raise SourceFileError(
                path,
                f"is UTF-8 with {broken} corrupt byte sequence(s) (first at byte {utf8_error.start}); "
                "re-export the file from the query platform",
            ) from utf8_error
        try:
            text, encoding = strict(data, "gb18030"), "gb18030"
        except UnicodeDecodeError as err:
            raise SourceFileError(
                path,
                f"is neither UTF-8 nor GBK/GB18030 text (byte {err.start}: {err.reason}; "
                f"charset_normalizer guesses {_guess(data)}); "
                "save it as CSV in GBK or UTF-8, as the query platform exports it",
            ) from err
    if "\x00" in text:
        raise SourceFileError(
            path,
            f"contains NUL characters (UTF-16 text or a binary file? charset_normalizer guesses "
            f"{_guess(data)}); save it as CSV in GBK or UTF-8",
        )
    return text, encoding


def check_header(path: Path, header: list[str], encoding: str, required: list[str]) -> None:
    """`textio.check_columns`, and when a file read as GB18030 lacks a header, the likelier
    legacy encoding it is in, so the error says how to save it."""
    try:
        check_columns(path, header, required)
    except SourceFileError as err:
        if encoding != "gb18030" or not err.problem.startswith("missing required"):
            raise
        # Big5 and other legacy encodings decode as (wrong) GB18030: the headers show it.
        guess = _guess(read_head(path))
        if guess in GB_ENCODINGS:
            raise
        raise SourceFileError(
            path,
            f"{err.problem} (read as GB18030; charset_normalizer guesses {guess}; save it as GBK or UTF-8)",
        ) from err

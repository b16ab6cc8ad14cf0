"""JPEG checks on a file's bytes before decoding, shared by the LTD frame reader and the UTKFace image reader.

OpenCV decodes a JPEG cut short without an error, filling the missing part with grey, so a truncated file must
be recognised from its markers: a whole JPEG starts with the start-of-image marker and ends with the
end-of-image marker. How many bytes after that marker a file may carry and still count as whole is the
caller's ``tail`` (:func:`defect`); the frame size is read from the start-of-frame header (:func:`header_size`).
"""
from __future__ import annotations

START = b"\xff\xd8"   # start-of-image marker
END = b"\xff\xd9"     # end-of-image marker
# start-of-frame markers (baseline, progressive, lossless ...): they carry the image height and width
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def defect(data: bytes, tail: int) -> str | None:
    """What is wrong with ``data`` as a JPEG file, before decoding: "empty" (0 bytes), "not_jpeg" (no
    start-of-image marker), "truncated" (no end-of-image marker within its last ``tail`` bytes), or None."""
    if not data:
        return "empty"
    if not data.startswith(START):
        return "not_jpeg"
    if END not in data[-tail:]:
        return "truncated"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a JPEG's start-of-frame header, without decoding; None if there is none."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:          # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:   # markers without a length
            i += 2
            continue
        if marker in SOF_MARKERS:
            if i + 9 > n:
                return None
            return int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 7:i + 9], "big")
        if marker in (0xDA, 0xD9):  # scan data or end of image before any frame header
            return None
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None

"""Clear errors: argument checks that name the argument and its allowed values, and failures
put into one line of words a learner understands.

Every helper that takes a learner's input checks it with these, so a wrong value gives a
ValueError saying what is allowed, not a KeyError or a crash deep inside PyTorch.
"""
from __future__ import annotations

import errno
import math
import numbers


def describe(err: BaseException) -> str:
    """One line for an exception: 'TypeName: first line of its message', or just 'TypeName'
    when the message is empty (an EOFError from an empty file has no text at all)."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {shortened(lines[0])}" if lines else type(err).__name__


def shortened(text: str, limit: int = 160) -> str:
    """`text`, or when it is longer than `limit`, its first sentence, or its first words up to
    the limit and '…': never cut inside a word."""
    if len(text) <= limit:
        return text
    sentence = text[:limit].rsplit(". ", 1)[0]
    if len(sentence) >= limit // 3 and sentence != text[:limit]:
        return sentence + "."
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


# Why writing a file failed, in words (an errno code alone means nothing to most people).
WRITE_ERRORS = {
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EROFS: "it is on a read-only file system",
    errno.ENOSPC: "the disk is full",
    getattr(errno, "EDQUOT", -1): "your disk quota is used up",
    errno.ENOTDIR: "part of that path is a file, not a folder",
    errno.EEXIST: "it is a file, not a folder",
}
DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", -1))


def write_error_in_words(err: OSError) -> str:
    """Why a write failed ('the disk is full', ...), from the OSError's errno."""
    return WRITE_ERRORS.get(err.errno) or (err.strerror or describe(err)).lower()


def check_int(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """`value` as an int, or ValueError unless it is a whole number in [minimum, maximum]."""
    ok = (isinstance(value, numbers.Integral) and not isinstance(value, bool)
          and value >= minimum and (maximum is None or value <= maximum))
    if not ok:
        allowed = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ValueError(f"{name} must be a whole number {allowed}, got {value!r}")
    return int(value)


def check_number(name: str, value, minimum: float = 0.0, *, strict: bool = False) -> float:
    """`value` as a float, or ValueError unless it is a finite number >= minimum (> minimum
    when strict). NaN and infinity are refused: they would only give NaN losses later."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
          and (value > minimum if strict else value >= minimum))
    if not ok:
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {minimum:g}, "
                         f"got {value!r}")
    return float(value)


def is_one_of(value, allowed) -> bool:
    """`value in allowed`, but False (not a TypeError) for a list or another unhashable value."""
    try:
        return bool(value in allowed)
    except (TypeError, ValueError):       # unhashable, or an array compared element-wise
        return False


def check_choice(name: str, value, allowed) -> None:
    """ValueError listing the allowed values unless `value` is one of them."""
    if not is_one_of(value, allowed):
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def check_sizes(name: str, sizes, min_length: int = 2, first: int | None = None) -> list[int]:
    """Layer sizes as a list, or ValueError unless they are at least `min_length` whole numbers
    >= 1 (starting with `first`, the number of pixels of the images, when given)."""
    ok = (isinstance(sizes, (list, tuple)) and len(sizes) >= min_length
          and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                  for s in sizes))
    if not ok:
        raise ValueError(f"{name} must be a list of at least {min_length} whole numbers >= 1 "
                         f"(input size first), got {sizes!r}")
    if first is not None and sizes[0] != first:
        raise ValueError(f"{name} must start with the input size of the images, {first}, "
                         f"got {list(sizes)}")
    return [int(s) for s in sizes]

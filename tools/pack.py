"""The class model pack: every trained model of the series in one file, to hand out.

    python tools/pack.py pack [--out FILE]    # make pack [PACK=FILE]
    python tools/pack.py unpack FILE          # make unpack PACK=FILE

A teacher runs `pack` once: it trains, or finds in the model cache, every model of the series
(what `make models` does, same table), then writes exactly the cache files the series uses into
one zip file, build/autoencoders-models-<version>.zip by default. The files are stored, not
compressed (weights do not compress), next to manifest.json: the course version, the Python
version (the cache's names depend on it, see helpers.cache.code_fingerprint), the data the
models were trained on and its fingerprint, and the size and SHA-256 of every file.

A student runs `unpack`: it checks the whole pack before it writes anything, and refuses it,
naming the file and the reason, when the pack is not a whole zip (truncated, or not a pack), has
no readable manifest, is for another course version, Python version or data set, lacks a file
the manifest lists or holds one it does not, holds a path that is not a plain file name (such as
../x), or holds a file whose size or SHA-256 is not the manifest's (altered) or that is not a
usable cache file read with weights_only=True (helpers.cache.file_problem). A refused pack
changes nothing. The hashes catch a damaged copy, not a forger (anyone can recompute them);
weights_only=True is what keeps code out of the cache.

Installing: each file is written to a temporary file in the cache folder and flushed to the
disk; only when every one is written are they renamed into place. If writing fails (a full
disk, no permission) every temporary file is removed and the cache is exactly as it was.
A file the cache already has, byte for byte, is skipped; a cache file of the same name but
other content (the same model trained elsewhere, or a damaged copy) is replaced by the pack's
checked file and reported. Cache files that are not in the pack are left alone.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import sys
import time
import tomllib
import zipfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:             # `python tools/pack.py` imports this checkout's helpers
    sys.path.insert(0, str(REPO))

import torch                               # noqa: E402

from helpers import cache                  # noqa: E402  (after the path is set)
from helpers.errors import describe, write_error_in_words   # noqa: E402

PACK_FORMAT = 1             # bump when the layout of the pack or its manifest changes
MANIFEST = "manifest.json"
# A cache file's name, as helpers.cache makes it: <name>-<hash>.pt, no folder in it.
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.pt")


def course_version() -> str:
    """The course's version, from pyproject.toml (each release of the course has its models)."""
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def default_pack_path(data_source: str = "subset") -> Path:
    extra = "" if data_source == "subset" else f"-{data_source}"
    return REPO / "build" / f"autoencoders-models-{course_version()}{extra}.zip"


class Refused(Exception):
    """A pack that is not installed: `where` (the pack, or the file inside it) and why."""

    def __init__(self, where: str, why: str, fix: str):
        super().__init__(f"{where}: {why}")
        self.where, self.why, self.fix = where, why, fix


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- pack ------------------------------------------------------------------------------------

def manifest_for(files: dict[str, bytes], data) -> dict:
    """The manifest of a pack holding `files` ({file name: bytes}) trained on `data`."""
    return {"pack_format": PACK_FORMAT, "course_version": course_version(),
            "python": python_version(),
            "torch": torch.__version__,          # for people: what made it
            "data": {"source": data.source, "fingerprint": data.fingerprint},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": [{"name": name, "size": len(content), "sha256": sha256(content)}
                      for name, content in sorted(files.items())]}


def write_pack(out: Path, files: dict[str, bytes], manifest: dict) -> None:
    """Write the zip: manifest first, then the files, stored; whole or not at all (a temporary
    file renamed over `out`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as pack:
        pack.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for name, content in files.items():
            pack.writestr(name, content)
    tmp = cache.write_temporary(out, buffer.getbuffer())
    os.replace(tmp, out)


def series_files(data, recipes=None) -> dict[str, bytes]:
    """Train or load every recipe (default: the whole series) on `data`, print the table of
    `make models`, and return the cache files they used: {file name: bytes}."""
    from helpers import recipes as series

    with cache.recording() as events:      # every model and result, also those a recipe needs
        rows = series.prepare(data, recipes)
    print(series.table(rows))
    not_saved = [e.name for e in events if not e.saved]
    if not_saved:
        raise Refused(str(cache.cache_dir()), f"{', '.join(not_saved)} could not be saved to the "
                      f"cache (see the messages above), so a pack would miss them",
                      "fix the cache folder first (AE_CACHE_DIR), then make pack again")
    return {e.path.name: e.path.read_bytes() for e in events}


def make_pack(out: Path | None = None, data=None, recipes=None) -> Path:
    """Write the pack of the series (or of `recipes`) trained on `data` (default: load_data(),
    AE_DATA decides); returns its path."""
    if data is None:
        from helpers.data import load_data
        data = load_data()
    out = Path(out) if out else default_pack_path(data.source)
    files = series_files(data, recipes)
    write_pack(out, files, manifest_for(files, data))
    return out


# --- unpack: check everything ----------------------------------------------------------------

COPY_AGAIN = "copy the pack again from where it came from (the teacher's `make pack` file)"


def read_manifest(pack: zipfile.ZipFile, where: str) -> dict:
    try:
        manifest = json.loads(pack.read(MANIFEST))
    except KeyError:
        raise Refused(where, f"it has no {MANIFEST}, so nothing in it can be checked",
                      "use a pack made by `make pack`") from None
    except (ValueError, zipfile.BadZipFile) as err:
        raise Refused(f"{where}: {MANIFEST}", f"it is damaged ({describe(err)})", COPY_AGAIN) from None
    try:
        ok = (manifest["pack_format"] == PACK_FORMAT
              and isinstance(manifest["course_version"], str) and isinstance(manifest["python"], str)
              and all(isinstance(manifest["data"][k], str) for k in ("source", "fingerprint"))
              and all(isinstance(f["name"], str) and isinstance(f["size"], int)
                      and isinstance(f["sha256"], str) for f in manifest["files"]))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise Refused(f"{where}: {MANIFEST}", f"it is not a manifest of pack format {PACK_FORMAT} "
                      f"(a field is missing or of the wrong kind)", COPY_AGAIN)
    return manifest


def check_versions(manifest: dict, data, where: str) -> None:
    ours = course_version()
    if manifest["course_version"] != ours:
        raise Refused(where, f"it holds the models of course version {manifest['course_version']}, "
                      f"this course is version {ours}",
                      f"ask for the pack of version {ours}, or run `make models` to train them here")
    if manifest["python"] != python_version():
        raise Refused(where, f"it was made with Python {manifest['python']}, this is Python "
                      f"{python_version()}: the cache names its models by their compiled code, "
                      f"which differs between Python versions, so none of them would be loaded",
                      f"ask for a pack made with Python {python_version()}, or run `make models`")
    packed = manifest["data"]
    if packed["fingerprint"] != data.fingerprint:
        raise Refused(where, f"its models were trained on {packed['source']} data with fingerprint "
                      f"{packed['fingerprint']}; this machine's {data.source} data has fingerprint "
                      f"{data.fingerprint}, so none of them would be loaded",
                      f"get the same data set (AE_DATA={packed['source']}), or a pack made from "
                      f"this machine's data")


def check_members(pack: zipfile.ZipFile, manifest: dict, where: str) -> None:
    """Every member a plain cache file name, and the same set of files as the manifest's."""
    members = [info.filename for info in pack.infolist()]
    for name in members:
        if name != MANIFEST and not FILE_NAME.fullmatch(name):
            raise Refused(f"{where}: {name}", "it is not a plain cache file name (a folder, a path "
                          "such as ../x that leads out of the cache, or not a .pt file)",
                          "use a pack made by `make pack`")
    listed = [f["name"] for f in manifest["files"]]
    for name in listed:
        if not FILE_NAME.fullmatch(name):
            raise Refused(f"{where}: {MANIFEST}", f"it lists {name!r}, which is not a plain cache "
                          f"file name", "use a pack made by `make pack`")
    unlisted = sorted(set(members) - {MANIFEST} - set(listed))
    if unlisted:
        raise Refused(f"{where}: {unlisted[0]}", "it is in the pack but not in the manifest",
                      "use the pack exactly as `make pack` wrote it")
    for name in listed:
        if name not in members:
            raise Refused(f"{where}: {name}", "the manifest lists it but the pack does not hold it",
                          COPY_AGAIN)
    if len(members) != len(set(members)) or len(listed) != len(set(listed)):
        raise Refused(where, "a file is in it twice", "use the pack exactly as `make pack` wrote it")


def checked_file(pack: zipfile.ZipFile, entry: dict, where: str) -> bytes:
    """The bytes of one listed file, once its size, SHA-256 and content pass."""
    name = entry["name"]
    here = f"{where}: {name}"
    if pack.getinfo(name).file_size != entry["size"]:
        raise Refused(here, f"it is {pack.getinfo(name).file_size:,} bytes, the manifest says "
                      f"{entry['size']:,}", COPY_AGAIN)
    try:
        content = pack.read(name)        # zipfile also checks each file's CRC-32
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise Refused(here, f"it was altered or damaged ({describe(err)})", COPY_AGAIN) from None
    if sha256(content) != entry["sha256"]:
        raise Refused(here, f"it was altered: its SHA-256 is {sha256(content)[:16]}..., the "
                      f"manifest says {entry['sha256'][:16]}...", COPY_AGAIN)
    problem = cache.file_problem(name, content)
    if problem:
        raise Refused(here, f"it is not a usable model file: {problem}",
                      "use a pack made by `make pack`")
    return content


def open_pack(path: Path) -> zipfile.ZipFile:
    where = str(path)
    try:
        with open(path, "rb") as f:
            start = f.read(30 + len(MANIFEST))
        pack = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise Refused(where, "there is no such file", "give the pack's path: make unpack PACK=file") from None
    except IsADirectoryError:
        raise Refused(where, "it is a folder, not a pack", "give the pack's file: make unpack PACK=file") from None
    except OSError as err:
        raise Refused(where, f"it cannot be read ({describe(err)})", COPY_AGAIN) from None
    except zipfile.BadZipFile:
        pack = None
    # A pack starts with its manifest (a zip's first 30 bytes are a header, then the name).
    # Its table of contents is at its end: when that is cut off, zipfile may still find the
    # table of a checkpoint inside it (each is a zip of its own), which does not start at 0.
    starts_like_a_pack = start[:4] == b"PK\x03\x04" and start[30:] == MANIFEST.encode()
    if starts_like_a_pack and (pack is None or MANIFEST not in pack.NameToInfo
                               or pack.getinfo(MANIFEST).header_offset != 0):
        if pack is not None:
            pack.close()
        raise Refused(where, "it is truncated: it ends before the zip's table of contents",
                      COPY_AGAIN)
    if pack is None:
        raise Refused(where, "it is not a zip file, so not a model pack",
                      "give the file that `make pack` wrote")
    return pack


def verify(path: Path, data=None) -> tuple[dict, zipfile.ZipFile]:
    """Check the whole pack (see the module's docstring); returns (manifest, the open zip), or
    raises Refused. Reads nothing from the cache and writes nothing."""
    pack = open_pack(path)
    try:
        where = str(path)
        manifest = read_manifest(pack, where)
        check_members(pack, manifest, where)
        if data is None:
            from helpers.data import load_data
            data = load_data(manifest["data"]["source"], download=False, verbose=False)
        check_versions(manifest, data, where)
        for entry in manifest["files"]:
            checked_file(pack, entry, where)
        return manifest, pack
    except BaseException:
        pack.close()
        raise


# --- unpack: install -------------------------------------------------------------------------

def install(path: Path, data=None, say=print) -> dict:
    """Check the pack at `path`, then install its files into the cache (cache.cache_dir()).
    Returns {"installed": [...], "replaced": [...], "skipped": [...]} (file names), or raises
    Refused with the cache exactly as it was."""
    manifest, pack = verify(Path(path), data)
    folder = cache.cache_dir()
    existed = folder.is_dir()
    report = {"installed": [], "replaced": [], "skipped": []}
    staged = []                          # (temporary file, target)
    try:
        with pack:
            for entry in manifest["files"]:
                target = folder / entry["name"]
                if target.is_file():
                    if sha256(target.read_bytes()) == entry["sha256"]:
                        report["skipped"].append(target.name)
                        continue
                    report["replaced"].append(target.name)
                else:
                    report["installed"].append(target.name)
                content = checked_file(pack, entry, str(path))   # read again: the bytes written
                staged.append((cache.write_temporary(target, content), target))
        for tmp, target in staged:       # every file is whole on the disk: now rename them
            os.replace(tmp, target)
        cache._fsync_folder(folder)
    except OSError as err:
        raise Refused(str(folder), f"the cache cannot be written ({write_error_in_words(err)})",
                      f"{cache.how_to_fix(err)} (and start JupyterLab with the same AE_CACHE_DIR)") from None
    finally:
        for tmp, _ in staged:
            cache._remove_quietly(tmp)   # those renamed are gone already
        if not existed:
            try:
                folder.rmdir()           # only succeeds when empty: made for nothing, removed
            except OSError:
                pass
    return report


# --- the command line ------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The class model pack: every trained model of "
                                     "the series in one file (see the module's docstring).")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="train or load every model, then write the pack")
    p.add_argument("--out", default="", help="the pack's file (default: build/autoencoders-"
                   "models-<version>.zip)")
    u = commands.add_parser("unpack", help="check a pack, then install it into the cache")
    u.add_argument("pack", nargs="?", default="", help="the pack's file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.command == "pack":
        try:
            out = make_pack(Path(args.out) if args.out else None)
        except Refused as refused:
            print(f"Pack: not written. {refused}. To go on: {refused.fix}.", file=sys.stderr)
            return 1
        except OSError as err:
            print(f"Pack: cannot write {err.filename or args.out} ({write_error_in_words(err)}); "
                  f"give another place with PACK=file.", file=sys.stderr)
            return 1
        with zipfile.ZipFile(out) as pack:
            n = len(pack.namelist()) - 1
        print(f"Pack: wrote {out} ({n} files, {out.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - started:.0f} s. Students install it with "
              f"`make unpack PACK={out.name}`.")
        return 0

    if not args.pack:
        print("Say which pack to install: make unpack PACK=file", file=sys.stderr)
        return 2
    print(f"Pack: checking {args.pack}, then installing it into {cache.cache_dir()}")
    try:
        report = install(Path(args.pack))
    except Refused as refused:
        print(f"Refused: {refused}.\nNothing was installed; the cache is as it was. To go on: "
              f"{refused.fix}.", file=sys.stderr)
        return 1
    for name in report["replaced"]:
        print(f"Pack: replaced {name}: the cache's copy was not the pack's (the same model "
              f"trained elsewhere, or a damaged file)")
    print(f"Pack: every file checked; {len(report['installed'])} installed, "
          f"{len(report['replaced'])} replaced, {len(report['skipped'])} already there, in "
          f"{time.perf_counter() - started:.0f} s. The notebooks now load these models instead "
          f"of training them (`make models` shows it in a few seconds).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

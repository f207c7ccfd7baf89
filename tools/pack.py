"""The class model pack: every trained model of the series in one file, to hand out.

    python tools/pack.py pack [--out FILE]                 # make pack [PACK=FILE]
    python tools/pack.py unpack FILE [--cache FOLDER]      # make unpack PACK=FILE [CACHE=FOLDER]

A teacher runs `pack` once: it trains, or finds in the model cache, every model of the series
(what `make models` does, same table), then writes exactly the cache files the series uses into
one zip file, build/autoencoders-models-<version>.zip by default (PACK may name a file or a
folder). The files are stored, not compressed (weights do not compress), next to manifest.json:
the course version, the Python and PyTorch versions that made it (for people), the data the
models were trained on and its fingerprint, and the size and SHA-256 of every file.

A student runs `unpack`: it checks the whole pack before it writes anything, and refuses it,
naming the file and the reason, when the pack is not a whole zip (truncated, or not a pack), has
no readable manifest, is for another course version or data set, lacks a file the manifest
lists or holds one it does not, holds a path that is not a plain file name (such as ../x), holds
a compressed file or one larger than any model of the series could be (a zip bomb is refused
before anything is unpacked), or holds a file whose size or SHA-256 is not the manifest's
(altered) or that is not a usable cache file read with weights_only=True
(helpers.cache.file_problem). A refused pack changes nothing. The hashes catch a damaged copy,
not a forger (anyone can recompute them); weights_only=True is what keeps code out of the cache.

Which models: a cache file is named by its model's key (helpers.recipes: the settings, the data
and the source of the code that trains it; the same under every Python version). `unpack`
computes the names this checkout of the course asks for and installs the pack's files that
have them. A pack none of whose files this course would load (made before the course's code
changed, say) is refused, saying why for each model; one that matches in part is installed in
part, and the models it lacks, or holds in another version, are listed with the reason: they
are trained when a notebook needs them.

Installing: into your own cache (helpers.cache.cache_dir), or with --cache into a folder of
your choosing, e.g. a shared read-only folder on a class server (AE_SHARED_CACHE_DIR). Each
file is written to a temporary file in that folder and flushed to the disk; only when every one
is written are they renamed into place. If writing fails (a full disk, no permission) every
temporary file is removed and the folder is exactly as it was. A file the folder already has,
byte for byte, is skipped; a file of the same name but other content (a damaged copy) is
replaced by the pack's checked file and reported. Other files are left alone.
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
# The largest model file of the series is about 11 MB (the deep 2-D autoencoder) and the whole
# series about 110 MB: a pack may hold files of up to 10 times that, and no more.
MAX_FILE = 128 * 2**20
MAX_TOTAL = 1536 * 2**20
CHUNK = 2**20
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

    def __init__(self, where: str, why: str, fix: str, partly: bool = False):
        super().__init__(f"{where}: {why}")
        self.where, self.why, self.fix = where, why, fix
        self.partly = partly               # some files were installed before it failed


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
    file beside `out`, renamed over it; removed if anything fails)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as pack:
        pack.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for name, content in files.items():
            pack.writestr(name, content)
    tmp = cache.write_temporary(out, buffer.getbuffer())
    try:
        os.replace(tmp, out)
    finally:
        cache._remove_quietly(tmp)          # gone already after the rename


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
    AE_DATA decides) to `out` (a file, or a folder to put the default name in); returns its path."""
    if data is None:
        from helpers.data import load_data
        data = load_data()
    default = default_pack_path(data.source)
    out = Path(out) if out else default
    if out.is_dir():
        out = out / default.name
    files = series_files(data, recipes)
    write_pack(out, files, manifest_for(files, data))
    return out


def wanted_files(data, series=None) -> dict[str, tuple]:
    """{cache file name: (recipe, its key)} of every model and result the series (default:
    helpers.recipes.ALL), and what they are made from, asks for on `data`."""
    from helpers import recipes
    found = {}

    def add(recipe):
        config = recipe.key(data)
        found[cache.file_name(recipe.cache_name, config)] = (recipe, config)
        for need in recipe.needs():
            add(need)
    for recipe in series or recipes.ALL:
        add(recipe)
    return found


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
    total = 0
    for info in pack.infolist():        # what the zip's table says, before anything is read
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise Refused(f"{where}: {info.filename}", "it is compressed; a pack's files are "
                          "stored as they are (so a small pack cannot unpack into a huge file)",
                          "use the pack exactly as `make pack` wrote it")
        if info.file_size > MAX_FILE:
            raise Refused(f"{where}: {info.filename}", f"it is {info.file_size / 2**20:,.0f} MiB, "
                          f"more than any model of the series can be ({MAX_FILE // 2**20} MiB at "
                          f"most)", "use the pack exactly as `make pack` wrote it")
        total += info.file_size
    if total > MAX_TOTAL:
        raise Refused(where, f"its files add up to {total / 2**20:,.0f} MiB, more than the "
                      f"series can need ({MAX_TOTAL // 2**20} MiB at most)",
                      "use the pack exactly as `make pack` wrote it")


def checked_file(pack: zipfile.ZipFile, entry: dict, where: str) -> bytes:
    """The bytes of one listed file, once its size, SHA-256 and content pass. Read in chunks,
    never more than the manifest's size."""
    name = entry["name"]
    here = f"{where}: {name}"
    if pack.getinfo(name).file_size != entry["size"]:
        raise Refused(here, f"it is {pack.getinfo(name).file_size:,} bytes, the manifest says "
                      f"{entry['size']:,}", COPY_AGAIN)
    digest, parts, size = hashlib.sha256(), [], 0
    try:
        with pack.open(name) as f:           # zipfile also checks each file's CRC-32
            while chunk := f.read(CHUNK):
                size += len(chunk)
                if size > entry["size"]:
                    raise Refused(here, "it holds more bytes than the manifest says", COPY_AGAIN)
                digest.update(chunk)
                parts.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise Refused(here, f"it was altered or damaged ({describe(err)})", COPY_AGAIN) from None
    if digest.hexdigest() != entry["sha256"]:
        raise Refused(here, f"it was altered: its SHA-256 is {digest.hexdigest()[:16]}..., the "
                      f"manifest says {entry['sha256'][:16]}...", COPY_AGAIN)
    content = b"".join(parts)
    problem = cache.file_problem(name, content)
    if problem:
        raise Refused(here, f"it is not a usable model file: {problem}",
                      "use a pack made by `make pack`")
    return content


def packed_config(content: bytes) -> dict:
    """The configuration (the key) a checked cache file holds."""
    return json.loads(torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)["config"])


def why_not_loaded(packed: dict | None, ours: dict) -> str:
    """Why a model of the pack (its key `packed`, or None when the pack has no such model)
    would not be loaded by this course (which asks for the key `ours`)."""
    if packed is None:
        return "the pack has no model of this name"
    ours = json.loads(json.dumps(ours))            # as the file holds it (tuples as lists)
    differ = sorted(k for k in set(packed) | set(ours) if packed.get(k) != ours.get(k))
    if "code" in differ:
        return ("the course's code that builds or trains it changed since the pack was made "
                "(its source has another fingerprint)")
    if "data" in differ or "n_train" in differ:
        return "it was trained on other data"
    return "its settings differ: " + ", ".join(
        f"{k} {packed.get(k)!r} in the pack, {ours.get(k)!r} here" for k in differ)


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


def verify(path: Path, data=None, series=None) -> tuple[dict, zipfile.ZipFile, dict]:
    """Check the whole pack (see the module's docstring); returns (manifest, the open zip, the
    matching {"wanted": [file names this course loads], "missing": [(title, why)],
    "unwanted": [file names]}), or raises Refused. Reads nothing from the cache and writes
    nothing."""
    pack = open_pack(path)
    try:
        where = str(path)
        manifest = read_manifest(pack, where)
        check_members(pack, manifest, where)
        if data is None:
            from helpers.data import load_data
            data = load_data(manifest["data"]["source"], download=False, verbose=False)
        check_versions(manifest, data, where)
        configs = {}
        for entry in manifest["files"]:
            configs[entry["name"]] = packed_config(checked_file(pack, entry, where))
        matching = match(configs, wanted_files(data, series))
        if not matching["wanted"]:
            title, why = matching["missing"][0]
            raise Refused(where, f"this course would load none of its models: {title}: {why}"
                          + (f" (and {len(matching['missing']) - 1} more)" if len(matching["missing"]) > 1 else ""),
                          "ask for a pack made from this version of the course, or run "
                          "`make models` to train them here")
        return manifest, pack, matching
    except BaseException:
        pack.close()
        raise


def match(configs: dict, wanted: dict) -> dict:
    """Which of the pack's files ({name: key}) this course loads, which models of the course
    the pack lacks (and why), which of its files no model of the course uses."""
    missing = []
    for name, (recipe, ours) in wanted.items():
        if name not in configs:
            same_model = [c for n, c in configs.items() if n.rsplit("-", 1)[0] == recipe.cache_name]
            missing.append((f"{recipe.title} ({recipe.cache_name})",
                            why_not_loaded(same_model[0] if same_model else None, ours)))
    return {"wanted": [n for n in configs if n in wanted], "missing": missing,
            "unwanted": [n for n in configs if n not in wanted]}


# --- unpack: install -------------------------------------------------------------------------

def install(path: Path, data=None, say=print, folder: Path | None = None, series=None) -> dict:
    """Check the pack at `path`, then install the files this course loads into `folder`
    (default: your own cache, cache.cache_dir()). Returns {"installed", "replaced", "skipped",
    "unwanted": file names, "missing": [(model, why)]}, or raises Refused with the folder
    exactly as it was."""
    manifest, pack, matching = verify(Path(path), data, series)
    folder = Path(folder).resolve() if folder else cache.cache_dir()
    existed = folder.is_dir()
    report = {"installed": [], "replaced": [], "skipped": [], "unwanted": matching["unwanted"],
              "missing": matching["missing"]}
    staged = []                          # (temporary file, target)
    renamed = []
    try:
        with pack:
            for entry in manifest["files"]:
                if entry["name"] not in matching["wanted"]:
                    continue
                target = folder / entry["name"]
                if target.is_dir() or target.is_symlink():
                    raise Refused(str(target), "a folder or a link has the name of a model file "
                                  "of the pack", f"move it out of {folder} and unpack again")
                if target.is_file():
                    if _file_sha256(target) == entry["sha256"]:
                        report["skipped"].append(target.name)
                        continue
                    report["replaced"].append(target.name)
                else:
                    report["installed"].append(target.name)
                content = checked_file(pack, entry, str(path))   # read again: the bytes written
                staged.append((cache.write_temporary(target, content), target))
        for tmp, target in staged:       # every file is whole on the disk: now rename them
            os.replace(tmp, target)
            renamed.append(target.name)
        cache._fsync_folder(folder)
    except OSError as err:
        if renamed:                      # some are in place: say exactly which
            rest = [t.name for _, t in staged if t.name not in renamed]
            raise Refused(str(folder), f"after {len(renamed)} of {len(staged)} files were "
                          f"installed ({', '.join(renamed)}), {rest[0]} could not be "
                          f"({write_error_in_words(err)}); not installed: {', '.join(rest)}",
                          f"{cache.how_to_fix(err)}, then unpack again (the files installed are "
                          f"whole and checked)", partly=True) from None
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


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- the command line ------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The class model pack: every trained model of "
                                     "the series in one file (see the module's docstring).")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="train or load every model, then write the pack")
    p.add_argument("--out", default="", help="the pack's file, or a folder for it (default: "
                   "build/autoencoders-models-<version>.zip)")
    u = commands.add_parser("unpack", help="check a pack, then install it into the cache")
    u.add_argument("pack", nargs="?", default="", help="the pack's file")
    u.add_argument("--cache", default="", help="the folder to install into (default: your own "
                   "cache, AE_CACHE_DIR or data/cache), e.g. a class server's shared folder")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.command == "pack":
        return pack_command(args.out, started)

    if not args.pack:
        print("Say which pack to install: make unpack PACK=file", file=sys.stderr)
        return 2
    folder = Path(args.cache).expanduser().resolve() if args.cache else cache.cache_dir()
    print(f"Pack: checking {args.pack}, then installing it into {folder}")
    try:
        report = install(Path(args.pack), folder=folder)
    except Refused as refused:
        changed = "Nothing was installed; the cache is as it was" if not refused.partly else \
            "The files named as installed are in place, whole and checked; nothing else changed"
        print(f"Refused: {refused}.\n{changed}. To go on: {refused.fix}.", file=sys.stderr)
        return 1
    for name in report["replaced"]:
        print(f"Pack: replaced {name}: the folder's copy was not the pack's (a damaged file)")
    n = len(report["installed"]) + len(report["replaced"]) + len(report["skipped"])
    print(f"Pack: every file checked; {len(report['installed'])} installed, "
          f"{len(report['replaced'])} replaced, {len(report['skipped'])} already there, in "
          f"{time.perf_counter() - started:.0f} s. The notebooks now load these {n} models "
          f"instead of training them (`make models` shows it in a few seconds).")
    if report["missing"]:
        print(f"Pack: {len(report['missing'])} models of this course are not in the pack as this "
              f"course asks for them, and will be trained when a notebook needs them:")
        for title, why in report["missing"]:
            print(f"  {title}: {why}")
    if report["unwanted"]:
        print(f"Pack: not installed, as this course does not use them: {', '.join(report['unwanted'])}")
    if args.cache:
        print(f"Pack: to load from this folder, start JupyterLab with AE_SHARED_CACHE_DIR={folder} "
              f"(read, never written) or AE_CACHE_DIR={folder}.")
    return 0


def pack_command(out: str, started: float) -> int:
    shown = out or "the pack's file"
    try:
        path = make_pack(Path(out) if out else None)
    except Refused as refused:
        print(f"Pack: not written. {refused}. To go on: {refused.fix}.", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"Pack: cannot write {shown} ({write_error_in_words(err)}); nothing was written. "
              f"Give another place with PACK=file.", file=sys.stderr)
        return 1
    with zipfile.ZipFile(path) as pack:
        n = len(pack.namelist()) - 1
    print(f"Pack: wrote {path} ({n} files, {path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.0f} s. Students install it with "
          f"`make unpack PACK={path.name}`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

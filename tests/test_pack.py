"""The class model pack (tools/pack.py, make pack / make unpack): a pack made on one cache
installs into an empty one and the models then load instead of training; every kind of bad
pack is refused, naming the file and why, with the cache left exactly as it was (a listing
with the SHA-256 of every file, hidden ones too, compared before and after)."""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import torch

from helpers import cache, recipes
from helpers.data import load_data
from tools import pack

REPO = Path(__file__).resolve().parents[1]

# A small series of the real kinds: a model, a stack's first stage, and a table computed from
# it (a cached result), trained for one pass over the real data: seconds on a free machine.
STAGE = recipes.StackedStageRecipe(name="tiny-stack", title="tiny stack, stage 1", notebook="05",
                                   sizes=(784, 16, 8), stage=1, subset_epochs=1)
TINY_SERIES = [
    recipes.AutoencoderRecipe(name="tiny-ae", title="tiny AE", notebook="01", sizes=(784, 8, 2),
                              subset_epochs=1),
    STAGE,
    recipes.ProbeTableRecipe(name="tiny-probes", title="tiny probes", notebook="05", stack=STAGE,
                             max_images=300),
]


def listing(folder: Path):
    """Every file and folder under `folder` (hidden ones too) with its SHA-256, or None."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): "folder" if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def made():
    """A teacher's pack of TINY_SERIES, made with `tools/pack.py pack` on the course's data, in
    a folder other users may read (for the tests run as an unprivileged user)."""
    folder = Path(tempfile.mkdtemp(prefix="ae-pack-"))
    folder.chmod(0o755)
    data = load_data(verbose=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AE_CACHE_DIR", str(folder / "teacher-cache"))
        mp.setattr(recipes, "ALL", TINY_SERIES)          # `pack` packs the whole series: ours
        assert pack.main(["pack", "--out", str(folder / "pack.zip")]) == 0
    path = folder / "pack.zip"
    path.chmod(0o644)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    yield dict(folder=folder, path=path, data=data, members=members,
               manifest=json.loads(members[pack.MANIFEST]),
               teacher=listing(folder / "teacher-cache"))
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def student(tmp_path, monkeypatch):
    """A student's cache that already holds a file of its own, which nothing may change."""
    folder = tmp_path / "student-cache"
    folder.mkdir()
    (folder / "own-model-0123456789ab.pt").write_bytes(b"the student's own file")
    monkeypatch.setenv("AE_CACHE_DIR", str(folder))
    return folder


def test_the_pack_holds_the_series_with_a_manifest(made):
    manifest, members = made["manifest"], made["members"]
    assert list(members)[0] == pack.MANIFEST, "the manifest comes first"
    assert sorted(f["name"] for f in manifest["files"]) == sorted(made["teacher"]), \
        "exactly the cache files of the series"
    assert sorted(name.rsplit("-", 1)[0] for name in made["teacher"]) == \
        ["tiny-ae", "tiny-probes", "tiny-stack-stage1"]
    for entry in manifest["files"]:
        content = members[entry["name"]]
        assert entry["size"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    version = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M)[1]
    assert manifest["course_version"] == version
    assert manifest["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert manifest["data"] == {"source": "subset", "fingerprint": made["data"].fingerprint}
    with zipfile.ZipFile(made["path"]) as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())


def test_round_trip_installs_and_the_models_then_load(made, student):
    before = listing(student)
    report = pack.install(made["path"], data=made["data"])
    assert sorted(report["installed"]) == sorted(made["teacher"]) and not report["replaced"]
    after = listing(student)
    assert after == {**before, **made["teacher"]}, "the pack's files, byte for byte, and the own file"
    with cache.recording() as events:
        recipes.prepare(made["data"], TINY_SERIES, progress=False)
    assert events and all(e.action == "loaded" for e in events), \
        [(e.name, e.action, e.reason) for e in events if e.action != "loaded"]
    assert {e.path.parent for e in events} == {student}
    assert listing(student) == after, "loading changed nothing"
    # again: every file is already there, byte for byte
    report = pack.install(made["path"], data=made["data"])
    assert sorted(report["skipped"]) == sorted(made["teacher"]) and not report["installed"]
    assert listing(student) == after


def test_a_different_file_of_the_same_name_is_replaced_and_reported(made, student):
    name = sorted(made["teacher"])[0]
    (student / name).write_bytes(b"a damaged copy")
    report = pack.install(made["path"], data=made["data"])
    assert report["replaced"] == [name]
    assert listing(student)[name] == made["teacher"][name]


def test_an_empty_cache_folder_is_created(made, tmp_path, monkeypatch):
    folder = tmp_path / "new" / "cache"
    monkeypatch.setenv("AE_CACHE_DIR", str(folder))
    pack.install(made["path"], data=made["data"])
    assert listing(folder) == made["teacher"]


# --- bad packs -------------------------------------------------------------------------------

def rebuilt(members: dict, manifest_changes=None, file_changes=None) -> bytes:
    """The good pack's zip bytes with files added, changed (bytes) or removed (None), and
    manifest fields changed; the manifest's hashes stay as they were unless changed."""
    members = dict(members)
    if manifest_changes is not None:
        manifest = json.loads(members[pack.MANIFEST])
        manifest.update(manifest_changes)
        members[pack.MANIFEST] = json.dumps(manifest).encode()
    for name, content in (file_changes or {}).items():
        if content is None:
            members.pop(name, None)
        else:
            members[name] = content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def listed(made, name: str, content: bytes) -> dict:
    """Manifest changes that list `name` with the right size and SHA-256 of `content`."""
    files = made["manifest"]["files"] + [dict(name=name, size=len(content),
                                              sha256=hashlib.sha256(content).hexdigest())]
    return {"files": files}


def first_model(made) -> str:
    return sorted(made["teacher"])[0]


def flipped_byte_inside_a_model(made) -> bytes:
    raw = bytearray(made["path"].read_bytes())
    with zipfile.ZipFile(made["path"]) as z:
        info = z.getinfo(first_model(made))
    # the local header is 30 bytes + the name + its extra field; the data follows
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.file_size // 2] ^= 0x01
    return bytes(raw)


class Pickled:
    """An object that would leave a mark if unpickling ran its code."""
    def __reduce__(self):
        return (os.mkdir, (str(MARK),))


MARK = Path(tempfile.gettempdir()) / "ae-pack-code-ran"


def pickled_code(made) -> bytes:
    name = "tricky-0123456789ab.pt"
    buffer = io.BytesIO()
    torch.save({"format": cache.FORMAT, "config": "{}", "state_dict": Pickled()}, buffer)
    content = buffer.getvalue()
    return rebuilt(made["members"], listed(made, name, content), {name: content})


def renamed_model(made) -> bytes:
    """A real checkpoint under another model's name: its configuration hash does not match."""
    name = "tiny-ae-ffffffffffff.pt"
    content = made["members"][first_model(made)]
    return rebuilt(made["members"], listed(made, name, content), {name: content})


def traversal(made, name) -> bytes:
    content = made["members"][first_model(made)]
    return rebuilt(made["members"], listed(made, name, content), {name: content})


def altered_and_zipped_again(made) -> bytes:
    """One byte of a model changed and the zip rewritten (its CRC-32 right), the manifest as it was."""
    content = bytearray(made["members"][first_model(made)])
    content[len(content) // 2] ^= 0x01
    return rebuilt(made["members"], file_changes={first_model(made): bytes(content)})


BAD_PACKS = {   # case: (the bad pack's bytes, the words the refusal must hold)
    "not a zip": (lambda m: b"just some text, not a pack\n", ["not a zip file"]),
    "empty": (lambda m: b"", ["not a zip file"]),
    "truncated": (lambda m: m["path"].read_bytes()[: m["path"].stat().st_size // 2], ["truncated"]),
    "last bytes missing": (lambda m: m["path"].read_bytes()[:-10], ["truncated"]),
    "only the manifest left": (lambda m: m["path"].read_bytes()[:400], ["truncated"]),
    "byte flipped in a model": (flipped_byte_inside_a_model, ["{first}", "altered or damaged"]),
    "model altered, zip rewritten": (altered_and_zipped_again, ["{first}", "altered", "SHA-256"]),
    "model of another size": (lambda m: rebuilt(m["members"], file_changes={
        first_model(m): m["members"][first_model(m)] + b"\0"}), ["{first}", "bytes, the manifest says"]),
    "no manifest": (lambda m: rebuilt(m["members"], file_changes={pack.MANIFEST: None}),
                    ["no manifest.json"]),
    "manifest not JSON": (lambda m: rebuilt(m["members"], file_changes={pack.MANIFEST: b"{files"}),
                          ["manifest.json", "damaged"]),
    "manifest without hashes": (lambda m: rebuilt(m["members"], {"files": [
        {"name": f["name"], "size": f["size"]} for f in m["manifest"]["files"]]}),
        ["manifest.json", "not a manifest of pack format"]),
    "other pack format": (lambda m: rebuilt(m["members"], {"pack_format": 99}),
                          ["not a manifest of pack format 1"]),
    "other course version": (lambda m: rebuilt(m["members"], {"course_version": "0.0.1"}),
                             ["course version 0.0.1", "this course is version"]),
    "other Python": (lambda m: rebuilt(m["members"], {"python": "2.7"}), ["Python 2.7"]),
    "other data": (lambda m: rebuilt(m["members"], {"data": {"source": "subset",
                                                              "fingerprint": "0123456789ab"}}),
                   ["fingerprint 0123456789ab", "none of them would be loaded"]),
    "file not in the manifest": (lambda m: rebuilt(m["members"], file_changes={
        "extra-0123456789ab.pt": m["members"][first_model(m)]}),
        ["extra-0123456789ab.pt", "not in the manifest"]),
    "listed file missing": (lambda m: rebuilt(m["members"], file_changes={first_model(m): None}),
                            ["{first}", "the manifest lists it but the pack does not hold it"]),
    "path out of the cache": (lambda m: traversal(m, "../escaped-0123456789ab.pt"),
                              ["../escaped-0123456789ab.pt", "leads out of the cache"]),
    "absolute path": (lambda m: traversal(m, "/tmp/escaped-0123456789ab.pt"),
                      ["/tmp/escaped-0123456789ab.pt", "not a plain cache file name"]),
    "file in a folder": (lambda m: traversal(m, "sub/x-0123456789ab.pt"),
                         ["sub/x-0123456789ab.pt", "not a plain cache file name"]),
    "pickled code": (pickled_code, ["tricky-0123456789ab.pt", "weights_only=True"]),
    "model under another name": (renamed_model, ["tiny-ae-ffffffffffff.pt",
                                                 "is not the one its name says"]),
}


@pytest.mark.parametrize("case", BAD_PACKS)
def test_a_bad_pack_is_refused_and_the_cache_left_as_it_was(case, made, student, tmp_path):
    make_bytes, words = BAD_PACKS[case]
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_bytes(made))
    shutil.rmtree(MARK, ignore_errors=True)
    before = listing(student)
    with pytest.raises(pack.Refused) as refused:
        pack.install(bad, data=made["data"])
    message = str(refused.value)
    assert message.startswith(str(bad)), f"the message names the pack: {message}"
    for word in words:
        assert word.format(first=first_model(made)) in message, message
    assert refused.value.fix, "and says what to do"
    assert listing(student) == before, "the cache is exactly as it was"
    assert not MARK.exists(), "no code from the pack ran"
    assert not (tmp_path / "escaped-0123456789ab.pt").exists()


def test_a_missing_pack_is_named(student, tmp_path):
    with pytest.raises(pack.Refused, match="there is no such file"):
        pack.install(tmp_path / "nowhere.zip")
    assert listing(student) == {"own-model-0123456789ab.pt":
                                hashlib.sha256(b"the student's own file").hexdigest()}


def test_a_refused_pack_does_not_create_the_cache_folder(made, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("AE_CACHE_DIR", str(folder))
    bad = tmp_path / "bad.zip"
    bad.write_bytes(rebuilt(made["members"], {"course_version": "0.0.1"}))
    with pytest.raises(pack.Refused):
        pack.install(bad, data=made["data"])
    assert not folder.exists()


def test_an_interrupted_install_leaves_the_cache_as_it_was(made, student, monkeypatch):
    """Ctrl-C (or any failure) while the files are written: the temporary files go, and the
    renames, which come only after every file is written, never happen."""
    real_write, calls = cache.write_temporary, []

    def interrupted_at_the_third(path, content):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(path, content)

    before = listing(student)
    monkeypatch.setattr(cache, "write_temporary", interrupted_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        pack.install(made["path"], data=made["data"])
    assert listing(student) == before


# --- the command line and the Makefile, as a student runs them ---------------------------------

def make(*args, env=None):
    return subprocess.run(["make", "-s", "-o", ".venv/.installed", *args], cwd=REPO, text=True,
                          capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO), **(env or {})),
                          timeout=300)


def test_make_targets_run_the_pack_tool():
    dry = make("-n", "pack", "PACK=/tmp/class.zip")
    assert dry.returncode == 0 and "tools/pack.py pack --out \"/tmp/class.zip\"" in dry.stdout
    assert make("-n", "pack").stdout.strip().endswith("tools/pack.py pack")
    dry = make("-n", "unpack", "PACK=/tmp/class.zip")
    assert dry.returncode == 0 and "tools/pack.py unpack \"/tmp/class.zip\"" in dry.stdout


def test_make_unpack_installs_a_good_pack_and_refuses_a_bad_one(made, tmp_path):
    folder = tmp_path / "cache"
    env = {"AE_CACHE_DIR": str(folder)}
    done = make("unpack", f"PACK={made['path']}", env=env)
    assert done.returncode == 0, done.stderr
    assert f"{len(made['teacher'])} installed" in done.stdout
    assert listing(folder) == made["teacher"]

    bad = tmp_path / "bad.zip"
    bad.write_bytes(made["path"].read_bytes()[:1000])
    done = make("unpack", f"PACK={bad}", env=env)
    assert done.returncode != 0
    assert f"Refused: {bad}: it is truncated" in done.stderr
    assert "the cache is as it was" in done.stderr and "copy the pack again" in done.stderr
    assert listing(folder) == made["teacher"]

    done = make("unpack", env=env)
    assert done.returncode != 0 and "make unpack PACK=file" in done.stderr


# --- a cache that cannot be written, as a student meets it -------------------------------------
# Root ignores permissions, so these run `tools/pack.py unpack` as an unprivileged user (as in
# tests/test_cache.py), and a full disk is a 64 KB tmpfs in a mount namespace of the test's own.

UNPACK_SCRIPT = r'''
import contextlib, hashlib, io, json, os, sys
from pathlib import Path
from tools import pack

def listing(folder):
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))} if folder.is_dir() else None

results = {}
for case, folder in json.loads(sys.argv[2]).items():
    os.environ["AE_CACHE_DIR"] = folder
    before, err = listing(folder), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = pack.main(["unpack", sys.argv[1]])
    results[case] = dict(code=code, message=err.getvalue(), before=before, after=listing(folder),
                         writable=os.access(folder if os.path.isdir(folder) else
                                            os.path.dirname(folder), os.W_OK))
print(json.dumps(results))
'''

AS_A_USER = [["unshare", "--user"], ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]]
WITH_MOUNTS = [["unshare", "--user", "--map-root-user", "--mount"], ["unshare", "--mount"]]
CANNOT_MOUNT = 97


def unpack_as(ways, pack_path: Path, folders: dict, home: Path, setup: str = "") -> dict:
    tried = []
    for prefix in ways:
        if shutil.which(prefix[0]) is None:
            tried.append(f"{prefix[0]} is not installed")
            continue
        probe = subprocess.run(prefix + ["true"], capture_output=True, text=True)
        if probe.returncode != 0:
            tried.append(f"{' '.join(prefix)}: {probe.stderr.strip()}")
            continue
        env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(home), MPLCONFIGDIR=str(home / "mpl"))
        command = [sys.executable, "-c", UNPACK_SCRIPT, str(pack_path), json.dumps(folders)]
        if setup:
            command = ["sh", "-c", f"{setup} || exit {CANNOT_MOUNT}; exec \"$@\"", "sh", *command]
        done = subprocess.run(prefix + command, capture_output=True, text=True, env=env,
                              timeout=300, cwd=REPO)
        if done.returncode == CANNOT_MOUNT:
            tried.append(f"{' '.join(prefix)}: cannot mount a tmpfs: {done.stderr.strip()}")
            continue
        assert done.returncode == 0, f"the tool crashed: {done.stderr[-2000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])
    pytest.skip("cannot run as an unprivileged user or mount here: " + "; ".join(tried))


def assert_refused_untouched(result: dict, words: str, fix: str):
    assert result["code"] == 1, result
    assert words in result["message"] and fix in result["message"], result["message"]
    assert "the cache is as it was" in result["message"]
    assert result["after"] == result["before"], "nothing partial is left"


def test_an_unwritable_cache_is_refused_as_a_user(made):
    tmp = made["folder"]
    home, existing, parent = tmp / "home", tmp / "read-only-cache", tmp / "read-only-parent"
    for folder in (home, existing, parent):
        folder.mkdir()
    home.chmod(0o777)
    (existing / "own-model-0123456789ab.pt").write_bytes(b"the student's own file")
    existing.chmod(0o555)
    parent.chmod(0o555)
    try:
        results = unpack_as(AS_A_USER, made["path"],
                            {"existing": str(existing), "cannot create": str(parent / "cache")},
                            home)
    finally:
        existing.chmod(0o755)
        parent.chmod(0o755)
    for case, result in results.items():
        assert not result["writable"], f"{case}: must run as a user who cannot write there"
        assert_refused_untouched(result, "(no permission to write there)",
                                 "set AE_CACHE_DIR to a folder you can write to")
    assert results["existing"]["before"] == {"own-model-0123456789ab.pt":
                                             hashlib.sha256(b"the student's own file").hexdigest()}


def test_a_full_disk_leaves_the_cache_as_it_was(made):
    tmp = made["folder"]
    full, home = tmp / "full", tmp / "home-full"
    full.mkdir()
    home.mkdir()
    home.chmod(0o777)
    assert made["path"].stat().st_size > 64 * 1024, "the pack must not fit on the 64 KB disk"
    setup = (f"mount -t tmpfs -o size=64k tmpfs {full} && mkdir {full}/cache && "
             f"echo own > {full}/cache/own-model-0123456789ab.pt")
    result = unpack_as(WITH_MOUNTS, made["path"], {"full": f"{full}/cache"}, home, setup)["full"]
    assert result["before"] and "own-model-0123456789ab.pt" in result["before"]
    assert_refused_untouched(result, "(the disk is full)",
                             "free some space, or set AE_CACHE_DIR to a folder on another disk")

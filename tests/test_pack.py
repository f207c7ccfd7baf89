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

from tests.conftest import AS_A_USER, WITH_MOUNTS, run_python_as
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


@pytest.fixture(autouse=True)
def tiny_series(monkeypatch):
    """The course's series is TINY_SERIES in these tests: what `pack` packs, and what `unpack`
    computes the wanted files of (a subprocess sets it by importing SERIES_SETUP)."""
    monkeypatch.setattr(recipes, "ALL", TINY_SERIES)


SERIES_SETUP = ("import sys; sys.path.insert(0, 'tests'); from helpers import recipes; "
                "from test_pack import TINY_SERIES; recipes.ALL = TINY_SERIES\n")


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


def test_a_pack_made_under_another_python_installs(made, student, tmp_path):
    """The cache's keys come from the source, not from compiled code: a pack made with Python
    3.12 holds the very models this Python asks for."""
    other = tmp_path / "made-with-3.12.zip"
    other.write_bytes(rebuilt(made["members"], {"python": "3.12"}))
    report = pack.install(other, data=made["data"])
    assert sorted(report["installed"]) == sorted(made["teacher"]) and not report["missing"]


def test_a_pack_from_other_training_code_is_refused_saying_why(made, student, monkeypatch):
    """The course's code changed after the pack was made: its models would never be loaded."""
    monkeypatch.setattr(recipes.Recipe, "code_refs", lambda self: (pack.why_not_loaded,))
    before = listing(student)
    with pytest.raises(pack.Refused) as refused:
        pack.install(made["path"], data=made["data"], series=TINY_SERIES)
    message = str(refused.value)
    assert "this course would load none of its models" in message and "tiny AE (tiny-ae)" in message
    assert "the course's code that builds or trains it changed since the pack was made" in message
    assert "and 2 more" in message and "make models" in refused.value.fix
    assert listing(student) == before


def test_a_pack_that_matches_in_part_installs_that_part_and_says_what_trains(made, student, capsys,
                                                                              monkeypatch):
    import dataclasses
    changed = dataclasses.replace(TINY_SERIES[0], lr=2e-3)             # the AE's recipe changed
    series = [changed, *TINY_SERIES[1:]]
    monkeypatch.setattr(recipes, "ALL", series)
    report = pack.install(made["path"], data=made["data"])
    assert sorted(n.rsplit("-", 1)[0] for n in report["installed"]) == ["tiny-probes", "tiny-stack-stage1"]
    assert report["missing"] == [("tiny AE (tiny-ae)", "its settings differ: lr 0.001 in the pack, 0.002 here")]
    assert [n.rsplit("-", 1)[0] for n in report["unwanted"]] == ["tiny-ae"]
    assert pack.main(["unpack", str(made["path"])]) == 0
    out = capsys.readouterr().out
    assert "1 models of this course are not in the pack as this course asks for them" in out
    assert "tiny AE (tiny-ae): its settings differ: lr 0.001 in the pack, 0.002 here" in out


def test_unpack_into_a_folder_of_ones_choosing(made, student, tmp_path, capsys):
    shared = tmp_path / "srv" / "models"
    assert pack.main(["unpack", str(made["path"]), "--cache", str(shared)]) == 0
    assert listing(shared) == made["teacher"]
    assert f"AE_SHARED_CACHE_DIR={shared}" in capsys.readouterr().out
    assert listing(student) == {"own-model-0123456789ab.pt":
                                hashlib.sha256(b"the student's own file").hexdigest()}


def test_a_folder_with_a_model_files_name_is_refused_before_anything_is_renamed(made, student):
    """A cache entry replaced by a folder of the same name: say so, install nothing."""
    blocked = sorted(made["teacher"])[-1]
    (student / blocked).mkdir()
    before = listing(student)
    with pytest.raises(pack.Refused, match="a folder or a link has the name of a model file") as refused:
        pack.install(made["path"], data=made["data"])
    assert str(refused.value).startswith(str(student / blocked)) and not refused.value.partly
    assert listing(student) == before


def test_a_rename_that_fails_halfway_reports_exactly_what_was_installed(made, student, monkeypatch,
                                                                       capsys):
    real_replace, done = os.replace, []

    def second_fails(a, b):
        if len(done) == 1:
            raise OSError(28, "No space left on device")
        done.append(b)
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", second_fails)
    assert pack.main(["unpack", str(made["path"])]) == 1
    err = capsys.readouterr().err
    first = Path(done[0]).name
    assert f"after 1 of 3 files were installed ({first})" in err and "(the disk is full)" in err
    assert "The files named as installed are in place, whole and checked" in err
    assert "Nothing was installed" not in err and "free some space" in err
    assert sorted(p.name for p in student.iterdir()) == sorted(["own-model-0123456789ab.pt", first]), \
        "the installed file, and no temporary file"


def test_pack_into_a_folder_or_an_unwritable_place(made, tmp_path, monkeypatch, capsys):
    """PACK=folder/ puts the pack in that folder; a pack that cannot be written leaves no
    temporary file and names the place the user gave."""
    monkeypatch.setenv("AE_CACHE_DIR", str(made["folder"] / "teacher-cache"))
    monkeypatch.setattr(recipes, "ALL", TINY_SERIES)
    folder = tmp_path / "out"
    folder.mkdir()
    assert pack.main(["pack", "--out", f"{folder}/"]) == 0
    assert [p.name for p in folder.iterdir()] == [pack.default_pack_path().name]
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert pack.main(["pack", "--out", str(blocker / "class.zip")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {blocker / 'class.zip'}" in err and ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "out"]
    assert sorted(p.name for p in folder.iterdir()) == [pack.default_pack_path().name]


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


BOMB = SERIES_SETUP + r'''
import json, resource, sys, zipfile
from pathlib import Path
from tools import pack
from helpers.data import load_data
try:
    pack.install(Path(sys.argv[1]), data=load_data(verbose=False))
    refused = None
except pack.Refused as err:
    refused = str(err)
print(json.dumps({"refused": refused, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def test_a_zip_bomb_is_refused_before_it_is_read(made, student, tmp_path):
    """1 GiB of zeros, deflated to about 1 MB and listed with its true size and hash: refused
    from the zip's table, without unpacking it (the process stays far below 1 GiB)."""
    name, size, zeros = "tiny-ae-0123456789ab.pt", 2**30, bytes(2**20)
    digest = hashlib.sha256()
    for _ in range(size // len(zeros)):
        digest.update(zeros)
    manifest = dict(made["manifest"], files=made["manifest"]["files"] + [
        dict(name=name, size=size, sha256=digest.hexdigest())])
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w") as z:
        z.writestr(pack.MANIFEST, json.dumps(manifest))
        for member, content in made["members"].items():
            if member != pack.MANIFEST:
                z.writestr(member, content)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            for _ in range(size // len(zeros)):
                f.write(zeros)
    assert bomb.stat().st_size < made["path"].stat().st_size + 20 * 2**20, "a small file"
    before = listing(student)

    def unpack(path, cache):
        done = subprocess.run([sys.executable, "-c", BOMB, str(path)], capture_output=True, text=True,
                              cwd=REPO, timeout=300,
                              env=dict(os.environ, PYTHONPATH=str(REPO), AE_CACHE_DIR=str(cache)))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])
    good = unpack(made["path"], tmp_path / "elsewhere")           # the same work on a good pack
    result = unpack(bomb, student)
    assert good["refused"] is None and result["refused"], (good, result)
    assert f"{bomb}: {name}: it is compressed" in result["refused"], result
    assert result["peak_mib"] < good["peak_mib"] + 100, f"nothing of the bomb was read: {good}, {result}"
    assert listing(student) == before


def test_a_file_larger_than_any_model_is_refused_before_it_is_read(made, student, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(pack, "MAX_FILE", 1000)          # every file of the tiny pack is larger
    with pytest.raises(pack.Refused, match="more than any model of the series can be"):
        pack.install(made["path"], data=made["data"])
    monkeypatch.setattr(pack, "MAX_FILE", 2**30)
    monkeypatch.setattr(pack, "MAX_TOTAL", 1000)
    with pytest.raises(pack.Refused, match="its files add up to"):
        pack.install(made["path"], data=made["data"])


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
    dry = make("-n", "unpack", "PACK=/tmp/class.zip", "CACHE=/srv/ae models")
    assert "tools/pack.py unpack \"/tmp/class.zip\" --cache \"/srv/ae models\"" in dry.stdout


@pytest.fixture(scope="module")
def judge_pack():
    """A pack of one model of the real series, the judge (a few seconds of training): what a
    student's `make unpack`, which knows the whole series, installs in part."""
    folder = Path(tempfile.mkdtemp(prefix="ae-judge-pack-"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AE_CACHE_DIR", str(folder / "teacher-cache"))
        path = pack.make_pack(folder / "judge.zip", load_data(verbose=False), [recipes.JUDGE])
    yield dict(path=path, teacher=listing(folder / "teacher-cache"))
    shutil.rmtree(folder, ignore_errors=True)


def test_make_unpack_installs_a_good_pack_and_refuses_a_bad_one(judge_pack, tmp_path):
    folder = tmp_path / "cache"
    env = {"AE_CACHE_DIR": str(folder)}
    done = make("unpack", f"PACK={judge_pack['path']}", env=env)
    assert done.returncode == 0, done.stderr
    assert "1 installed" in done.stdout and f"installing it into {folder}" in done.stdout
    missing = re.search(r"Pack: (\d+) models of this course are not in the pack", done.stdout)
    assert missing and int(missing.group(1)) >= 30, done.stdout[:500]      # every model but the judge
    assert "deep 2-D autoencoder (ae-784-1000-500-250-2): the pack has no model of this name" in done.stdout
    assert listing(folder) == judge_pack["teacher"]

    bad = tmp_path / "bad.zip"
    bad.write_bytes(judge_pack["path"].read_bytes()[:1000])
    done = make("unpack", f"PACK={bad}", env=env)
    assert done.returncode != 0
    assert f"Refused: {bad}: it is truncated" in done.stderr
    assert "the cache is as it was" in done.stderr and "copy the pack again" in done.stderr
    assert listing(folder) == judge_pack["teacher"]

    done = make("unpack", env=env)
    assert done.returncode != 0 and "make unpack PACK=file" in done.stderr


def test_a_relative_cache_folder_is_the_course_folders(judge_pack, tmp_path):
    """AE_CACHE_DIR=mycache means <course folder>/mycache, for `make unpack` run in the course
    folder as for a kernel started in notebooks/."""
    relative = f"build/test-relative-cache-{os.getpid()}"
    try:
        done = make("unpack", f"PACK={judge_pack['path']}", env={"AE_CACHE_DIR": relative})
        assert done.returncode == 0, done.stderr
        assert f"installing it into {REPO / relative}" in done.stdout
        seen = subprocess.run([sys.executable, "-c", "from helpers import cache; print(cache.cache_dir())"],
                              cwd=REPO / "notebooks", capture_output=True, text=True,
                              env=dict(os.environ, AE_CACHE_DIR=relative, PYTHONPATH=str(REPO)))
        assert seen.stdout.strip() == str(REPO / relative)
        assert listing(REPO / relative) == judge_pack["teacher"]
    finally:
        shutil.rmtree(REPO / relative, ignore_errors=True)


# --- a cache that cannot be written, as a student meets it -------------------------------------
# Root ignores permissions, so these run `tools/pack.py unpack` as an unprivileged user (as in
# tests/test_cache.py), and a full disk is a 64 KB tmpfs in a mount namespace of the test's own.

UNPACK_SCRIPT = SERIES_SETUP + r'''
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

def unpack_as(ways, pack_path: Path, folders: dict, home: Path, setup: str = "") -> dict:
    return run_python_as(ways, UNPACK_SCRIPT, [pack_path, json.dumps(folders)], home, setup, timeout=300)


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

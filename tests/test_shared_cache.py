"""A class server's shared model folder (AE_SHARED_CACHE_DIR), as a student meets it: notebook
01 run as an unprivileged user (root ignores permissions) in a read-only course folder, with the
class's models in a read-only shared folder and nothing in the student's own cache. It must
train nothing, write nothing shared, and find its own cache in the student's home."""
import hashlib
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import AS_A_USER, run_python_as
from helpers import cache

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_vanilla_autoencoder.ipynb"

RUN = r'''
import json, sys
import nbformat
from nbclient import NotebookClient
from jupyter_client.manager import KernelManager

class Kernel(KernelManager):
    def format_kernel_cmd(self, extra_arguments=None):
        return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]

nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_manager_class=Kernel,
               resources={"metadata": {"path": sys.argv[2]}}).execute()
printed = []
for cell in nb.cells:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            printed.append(out["text"])
print(json.dumps({"printed": "".join(printed)}))
'''

def listing(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.after_notebooks
def test_a_student_loads_every_model_from_the_shared_folder_and_writes_nothing_there():
    filled = sorted(cache.cache_dir().glob("*.pt"))
    if not filled:
        pytest.fail(f"the notebooks' run should have filled {cache.cache_dir()}")
    root = Path(tempfile.mkdtemp(prefix="ae-shared-"))
    try:
        root.chmod(0o755)
        shared, home = root / "shared", root / "home"
        shared.mkdir()
        home.mkdir()
        home.chmod(0o777)
        for path in filled:                              # the class pack, unpacked by the teacher
            shutil.copy(path, shared / path.name)
            (shared / path.name).chmod(0o444)
        shared.chmod(0o555)
        before = listing(shared)
        result = run_python_as(AS_A_USER, RUN, [NOTEBOOK, NOTEBOOK.parent], home, timeout=900, env=dict(
            AE_CACHE_DIR=None, MPLBACKEND=None, AE_SHARED_CACHE_DIR=str(shared),
            JUPYTER_RUNTIME_DIR=str(home / "rt"), IPYTHONDIR=str(home / "ipy"),
            JUPYTER_DATA_DIR=str(home / "jd")))
        printed = result["printed"]
        assert f"Cache: loaded ae-784-1000-500-250-2 from {shared}" in printed
        trained = re.findall(r"Cache: no saved .*|Cache: .* is not used because .*", printed)
        assert not trained, f"every model comes from the shared folder: {trained}"
        assert "cannot save" not in printed
        assert listing(shared) == before, "nothing written into the shared folder"
        own = home / ".cache" / "autoencoders-hands-on"
        assert not own.exists() or not any(own.iterdir()), "nothing written into the student's cache"
    finally:
        for path in root.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)

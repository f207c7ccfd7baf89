"""What each student's server runs first, as the student (hub/jupyterhub_config.py's Spawner.cmd):

    python hub/start_student.py jupyterhub-singleuser [its options...]

1. The home becomes private (mode 700): no other student can read it.
2. The student edition ($AE_STUDENT_EDITION) is copied into ~/autoencoders/, file by file; a
   file already there is never overwritten, so a student's work is safe. A notebook the
   student deleted comes back fresh at the next start.
3. Then it becomes JupyterLab (the command it was given, with its options).
"""
import os
import shutil
import sys
from pathlib import Path


def copy_new_files(source: Path, target: Path) -> list[Path]:
    """Copy every file of `source` that `target` does not have yet; returns those copied."""
    copied = []
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_file() and not destination.exists() and not destination.is_symlink():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied.append(destination)
    return copied


def main() -> None:
    home = Path.home()
    home.chmod(0o700)
    copied = copy_new_files(Path(os.environ["AE_STUDENT_EDITION"]), home / "autoencoders")
    print(f"start_student: {len(copied)} new file(s) of the course copied into {home / 'autoencoders'}",
          flush=True)
    os.execv(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()

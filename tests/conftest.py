import pytest
import torch

from helpers.data import ImageData


def pytest_collection_modifyitems(config, items):
    """Run the tests marked `after_notebooks` after the notebooks (nbval fills the model cache
    they need), and the browser tests last of all; each group keeps its order."""
    def group(item):
        return 2 if item.get_closest_marker("browser") else \
            1 if item.get_closest_marker("after_notebooks") else 0
    items.sort(key=group)                      # sort is stable


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty model cache of the test's own, so tests never touch data/cache/."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("AE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def tiny_data():
    """200 training and 50 test 'images' of 784 pixels in [0, 1], with labels 0-9."""
    g = torch.Generator().manual_seed(0)
    return ImageData(x_train=torch.rand(200, 784, generator=g),
                     y_train=torch.arange(200) % 10,
                     x_test=torch.rand(50, 784, generator=g),
                     y_test=torch.arange(50) % 10,
                     source="subset", description="random test images")


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory):
    """The student edition, made once for every test by nbgrader's generate step
    (tools/assignments.py, what `make assignments` runs) into a course folder of the tests' own:
    (the course folder, the folder of student notebooks)."""
    from tools import assignments
    root = tmp_path_factory.mktemp("course")
    assignments.generate(course=root / "course", student=root / "student")
    return root / "course", root / "student"

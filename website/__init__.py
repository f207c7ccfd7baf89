"""The course as a static website: `make site` (see build.py)."""

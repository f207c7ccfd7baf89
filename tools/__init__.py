"""Maintenance scripts of the course: slide metadata (slides) and the student edition (student)."""

"""Batch tagging of archives: readers and writers, temporary output and resume, local and Dask engines."""

"""Clustering headlines into stories and themes, with keywords and plots."""

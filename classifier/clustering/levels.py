"""The two clustering levels, named once for the estimator, the CLI, the tagger and the service.

A story is one event told by several outlets; a theme is a broad subject many stories share.
The CLI builds ``--level`` choices and the service validates requests from :data:`LEVELS` before
anything heavy is loaded, so this module must import nothing (no numpy, scipy or scikit-learn).
"""

from __future__ import annotations

STORIES = "stories"
THEMES = "themes"
LEVELS = (STORIES, THEMES)
DEFAULT_LEVEL = STORIES
# A story needs a second outlet to be one; a theme smaller than five headlines is noise.
DEFAULT_MIN_CLUSTER_SIZE = {STORIES: 2, THEMES: 5}

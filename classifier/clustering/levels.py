"""The clustering levels, named once for the estimator, the CLI, the tagger and the service.

A story is one event told by several outlets; a theme is a subject many stories share (a few
dozen in 10,000 headlines); a section is a broad part of the news many themes share (world,
business, sport). They nest: every story lies in one theme, every theme in one section.
The CLI builds ``--level`` choices and the service validates requests from :data:`LEVELS` before
anything heavy is loaded, so this module must import nothing (no numpy, scipy or scikit-learn).
"""

from __future__ import annotations

from collections.abc import Mapping

from classifier.errors import ParameterError

STORIES = "stories"
THEMES = "themes"
SECTIONS = "sections"
LEVELS = (STORIES, THEMES, SECTIONS)
DEFAULT_LEVEL = STORIES
# The story cut: a story's headlines are on average at least 1 - 0.5 cosine-similar.
DEFAULT_STORY_DISTANCE = 0.5
# A story needs a second outlet to be one; a theme or section under five headlines is noise.
DEFAULT_MIN_CLUSTER_SIZE = {STORIES: 2, THEMES: 5, SECTIONS: 5}
# Themes: the most the cut of the theme tree may give, and the most a caller may ask for.
MAX_CLUSTERS = 50
# Parameters that mean something at one level only: one given for the other level is refused,
# by the CLI and by POST /v1/cluster alike, rather than silently ignored.
LEVEL_ONLY = {"distance_threshold": STORIES, "n_clusters": THEMES}


def check_level_options(
    level: str, given: Mapping[str, object], names: Mapping[str, str] | None = None
) -> None:
    """Raise ParameterError for a parameter in ``given`` (not None) that ``level`` does not use.

    ``names`` shows parameters under the caller's names (the CLI's ``--threshold``); the
    error's ``parameter`` is always the parameter's own name.
    """
    shown = dict(names or {})
    for name, only in LEVEL_ONLY.items():
        if given.get(name) is not None and level != only:
            raise ParameterError(
                name,
                f"{shown.get(name, name)} applies to {shown.get('level', 'level')} {only} only",
            )

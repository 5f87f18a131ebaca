"""What POST /v1/predict and POST /v1/cluster accept, declared once per app from its settings.

The endpoints check every request with these objects and /openapi.json shows the same objects
as JSON Schema, so the limits in the document are the limits in force. They are built once, in
``create_app``, because the limits are settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifier.clustering.levels import DEFAULT_LEVEL, LEVELS, MAX_CLUSTERS
from classifier.config import EXPLAIN_MAX_HEADLINES
from classifier.service.fields import Body, Choice, Flag, Headline, Headlines, Number, OneOf
from classifier.service.settings import Settings

MIN_CLUSTER_HEADLINES = 2  # one headline is no group


@dataclass(frozen=True)
class RequestBodies:
    """The declaration of each endpoint's request body."""

    predict: OneOf
    cluster: Body

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestBodies:
        headline = Headline(settings.max_headline_chars)
        uncertain = Number(
            minimum=0,
            maximum=1,
            description=(
                "answers with a confidence under this are marked uncertain "
                f"(default: the service's, {settings.uncertain_below:g})"
            ),
        )
        explain = Flag(
            description=(
                "true: each answer also carries 'explanation': the nearest labelled training "
                "headlines and the words that raised its top topic most (about ten times the "
                f"cost; at most {EXPLAIN_MAX_HEADLINES} headlines per request)"
            )
        )
        predict = OneOf(
            (
                Body(
                    "PredictOne",
                    {"headline": headline, "uncertain_below": uncertain, "explain": explain},
                    ("headline",),
                    example='{"headline": "..."}',
                ),
                Body(
                    "PredictMany",
                    {
                        "headlines": Headlines(1, settings.max_headlines, headline),
                        "uncertain_below": uncertain,
                        "explain": explain,
                    },
                    ("headlines",),
                    example='{"headlines": ["..."]}',
                ),
            )
        )
        cluster_headlines = Headlines(
            MIN_CLUSTER_HEADLINES, settings.max_cluster_headlines, headline
        )
        cluster = Body(
            "ClusterRequest",
            {
                "headlines": cluster_headlines,
                "level": Choice(
                    LEVELS,
                    default=DEFAULT_LEVEL,
                    description="stories: the same event; themes: a subject many stories "
                    "share; sections: a broad part of the news many themes share",
                ),
                "distance_threshold": Number(
                    exclusive_minimum=0,
                    exclusive_maximum=2,
                    description="stories: largest average cosine distance inside a story",
                ),
                "n_clusters": Number(
                    whole=True,
                    minimum=1,
                    maximum=MAX_CLUSTERS,
                    description="themes: cut the theme tree at this many themes",
                ),
                "min_cluster_size": Number(
                    whole=True, minimum=1, description="smaller groups are left unclustered"
                ),
            },
            ("headlines",),
            example='{"headlines": ["...", "..."]}',
        )
        return cls(predict, cluster)

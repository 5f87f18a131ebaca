"""GET /metrics: requests, latencies, topics, batches and the model served, counted exactly."""

from __future__ import annotations

from tests.service.support import SAMPLE, post, scrape


def test_metrics_count_requests_latencies_and_topics(app, client):
    responses = [post(client, {"headline": h}).get_json() for h in SAMPLE[:6]]
    post(client, {"headlines": SAMPLE[6:10]})
    post(client, {"headline": ""})
    client.get("/no-such-page")
    metrics = scrape(client)

    def value(name, **labels):
        return metrics.get((name, tuple(sorted(labels.items()))), 0.0)

    assert (
        value(
            "headline_topics_http_requests_total",
            endpoint="/v1/predict",
            method="POST",
            status="200",
        )
        == 7
    )
    assert (
        value(
            "headline_topics_http_requests_total",
            endpoint="/v1/predict",
            method="POST",
            status="400",
        )
        == 1
    )
    assert (
        value(
            "headline_topics_http_requests_total", endpoint="unmatched", method="GET", status="404"
        )
        == 1
    )
    assert value("headline_topics_http_request_duration_seconds_count", endpoint="/v1/predict") == 8
    by_topic = {
        dict(labels)["topic"]: v
        for (name, labels), v in metrics.items()
        if name == "headline_topics_predictions_total"
    }
    assert sum(by_topic.values()) == 10
    topics = [r["topic"] for r in responses]
    for topic in set(topics):
        assert by_topic[topic] >= topics.count(topic)
    assert value("headline_topics_model_info", version="v1") == 1
    assert value("headline_topics_encoder_batch_headlines_sum") >= 10

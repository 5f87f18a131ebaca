"""Fixtures for the tagging tests: two light models on the fake encoder, a local Dask cluster."""

from __future__ import annotations

import pytest

from classifier.topics.store import ModelStore
from tests.conftest import FakeEmbedder
from tests.tagging.support import ROWS, CountingEmbedder, train


@pytest.fixture(scope="session")
def fake_store(tmp_path_factory) -> ModelStore:
    """Versions vfake-1 and vfake-2 (trained on other rows), both on the fake encoder; one
    store for the session (no test writes to it), so the Dask workers load each model once."""
    store = ModelStore(tmp_path_factory.mktemp("tag-models") / "models")
    train(store, FakeEmbedder(), version="vfake-1")
    train(store, FakeEmbedder(), rows=ROWS[1::18], version="vfake-2")
    return store


@pytest.fixture
def model(fake_store):
    """vfake-1 with a fresh counting encoder, so a test can tell how much was embedded."""
    return fake_store.load("vfake-1", embedder=CountingEmbedder())


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        protocol="tcp",  # reachable from a separate process, like a real scheduler
        host="127.0.0.1",
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def s3_env():
    """A local S3-compatible server (moto's server mode on 127.0.0.1) and the ``AWS_*``
    variables that point a client at it, as a user points one at their store; empty (and the
    S3 tests skip) without moto and s3fs."""
    try:
        import s3fs  # noqa: F401
        from moto.server import ThreadedMotoServer
    except ImportError:
        yield {}
        return
    from tests.support import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    server.stop()


@pytest.fixture(scope="session")
def dask_processes(tmp_path_factory, s3_env):
    """A real cluster, started as a user starts one: ``dask scheduler`` and two ``dask worker``
    processes (one thread each, behind their nannies) on 127.0.0.1, for the whole session; the
    workers reach the test's S3 server through the ``AWS_*`` variables."""
    pytest.importorskip("distributed")
    from tests.tagging.support import DaskProcesses

    cluster = DaskProcesses(tmp_path_factory.mktemp("dask-cluster"), workers=2, env=s3_env)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()

"""The Dask engine under faults, on a real cluster (``dask scheduler`` + two ``dask worker``).

Issue 17: a worker SIGKILLed mid-job, the client killed, the scheduler unreachable, and a worker
that cannot see the input or the model. The job either completes with every row exactly once
(compared byte for byte with the local engine) or stops before it starts with one clear error.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from classifier.errors import DataError
from classifier.tagging import tag_file
from classifier.tagging.paths import read_state
from tests.conftest import ROOT, FakeEmbedder
from tests.support import free_port
from tests.tagging.support import (
    DASK_DRIVER,
    SlowEmbedder,
    archive_rows,
    run_tag_command,
    start_hidden_worker,
    tricky_csv_bytes,
    write_rows,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tag_dask():
    from classifier.tagging import dask

    return dask


def _local(fake_store, source, output):
    tag_file(source, output, fake_store.load("vfake-1", embedder=FakeEmbedder()))
    return output.read_bytes()


def test_a_worker_killed_mid_job_loses_no_row_and_repeats_none(
    tmp_path, fake_store, tag_dask, dask_processes
):
    source = tmp_path / "in.csv"
    source.write_bytes(tricky_csv_bytes(600))
    expected = _local(fake_store, source, tmp_path / "local.csv")
    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=SlowEmbedder)
    pids = dask_processes.worker_pids()
    killed = []

    def kill_one_worker(done, total):
        if not killed:
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    summary = tag_dask.tag_dask(
        source,
        tmp_path / "dask.csv",
        spec,
        scheduler=dask_processes.address,
        blocksize=1500,
        chunk_size=16,
        progress=kill_one_worker,
    )
    assert killed and killed[0] not in dask_processes.worker_pids().values()
    assert summary.counters.rows == 600
    assert (tmp_path / "dask.csv").read_bytes() == expected


def test_a_killed_client_resumes_where_it_stopped(tmp_path, fake_store, tag_dask, dask_processes):
    source = tmp_path / "in.csv"
    source.write_bytes(tricky_csv_bytes(600))
    expected = _local(fake_store, source, tmp_path / "local.csv")
    output = tmp_path / "dask.csv"
    script = DASK_DRIVER.format(
        root=str(ROOT),
        store=str(fake_store.root),
        source=str(source),
        output=str(output),
        address=dask_processes.address,
        blocksize=1500,
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        state = None
        while child.poll() is None:
            state = read_state(output)
            if state and state["rows_done"] > 0:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the client finished before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert not output.exists()
    spec = tag_dask.ModelSpec(str(fake_store.root), "vfake-1", embedder_factory=SlowEmbedder)
    with pytest.raises(DataError, match="pass --resume"):
        tag_dask.tag_dask(source, output, spec, scheduler=dask_processes.address, blocksize=1500)
    summary = tag_dask.tag_dask(
        source, output, spec, scheduler=dask_processes.address, blocksize=1500, resume=True
    )
    assert 0 < summary.resumed_after < 600 and summary.counters.rows == 600
    assert output.read_bytes() == expected


def test_an_unreachable_scheduler_is_one_clear_error_not_a_hang(tmp_path):
    source = write_rows(tmp_path / "in.csv", archive_rows(20))
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    result = run_tag_command(
        source,
        tmp_path / "out.csv",
        "--engine",
        "dask",
        "--scheduler",
        address,
        "--no-progress",
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"},
    )
    assert result.returncode == 2, result.stderr
    assert f"cannot reach the Dask scheduler at {address} within 3 s" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_worker_that_cannot_see_the_input_or_the_model_is_named(
    tmp_path, fake_store, tag_dask, dask_processes
):
    inputs, models = tmp_path / "inputs", tmp_path / "models"
    inputs.mkdir()
    models.mkdir()
    source = write_rows(inputs / "in.csv", archive_rows(50))
    store = models / "store"
    shutil.copytree(fake_store.root, store)
    hidden = start_hidden_worker(dask_processes, [inputs, models])
    try:
        spec = tag_dask.ModelSpec(str(store), "vfake-1", embedder_factory=FakeEmbedder)
        address = dask_processes.address
        with pytest.raises(DataError) as caught:
            tag_dask.tag_dask(source, tmp_path / "out.csv", spec, scheduler=address)
        message = str(caught.value)
        assert "worker tcp://127.0.0.1:" in message
        assert f"the input {source}" in message and f"the model {store}/vfake-1" in message
        assert not (tmp_path / "out.csv").exists()
        assert not list(tmp_path.glob(".out.csv*"))  # nothing started
    finally:
        hidden.terminate()
        hidden.wait(timeout=30)
    dask_processes.client.wait_for_workers(2, timeout=60)

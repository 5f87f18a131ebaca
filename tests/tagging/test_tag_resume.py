"""Nothing lost: the output is replaced only when complete, and any interrupted run resumes.

classifier.tagging.output (the checkpointed output) and classifier.tagging.paths (where a run
keeps its state), through the local engine: refusals, a full disk, kill -9, a crash while
finishing, progress, an empty archive.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifier.errors import DataError
from classifier.tagging import output as tag_output
from classifier.tagging import tag_file
from classifier.tagging.paths import partial_paths, read_state
from tests.conftest import ROOT, FakeEmbedder
from tests.tagging.support import DRIVER, archive_rows, read_rows, write_rows


def test_refuses_to_overwrite_without_force(tmp_path, model):
    source = write_rows(tmp_path / "in.csv", archive_rows(50))
    out = tmp_path / "out.csv"
    out.write_text("precious\n")
    with pytest.raises(DataError, match="already exists; pass --force"):
        tag_file(source, out, model)
    assert out.read_text() == "precious\n"
    tag_file(source, out, model, force=True)
    assert len(read_rows(out)) == 50
    with pytest.raises(DataError, match="overwrite the input"):
        tag_file(source, source, model, force=True)


def test_a_failed_run_leaves_the_old_output_and_a_resumable_partial(tmp_path, model):
    source = write_rows(tmp_path / "in.csv", archive_rows(300))
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    calls = {"n": 0}

    def explode(done, total):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        tag_file(source, out, model, chunk_size=50, force=True, progress=explode)
    assert out.read_text() == "old\n"  # the old output stays until the new one is complete
    assert read_state(out)["rows_done"] == 150
    with pytest.raises(DataError, match="pass --resume"):
        tag_file(source, out, model, chunk_size=50)
    summary = tag_file(source, out, model, chunk_size=50, resume=True)
    assert summary.resumed_after == 150 and summary.counters.rows == 300
    tag_file(source, tmp_path / "ref.csv", model, chunk_size=50)
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert not any(p.exists() for p in partial_paths(out))


def test_resume_refuses_a_changed_input_or_model(tmp_path, model, fake_store):
    source = write_rows(tmp_path / "in.csv", archive_rows(200))
    out = tmp_path / "out.csv"

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tag_file(source, out, model, chunk_size=50, progress=stop)
    other = fake_store.load("vfake-2", embedder=FakeEmbedder())
    with pytest.raises(DataError, match="model: was 'vfake-1', now 'vfake-2'"):
        tag_file(source, out, other, chunk_size=50, resume=True)
    write_rows(source, archive_rows(201))
    with pytest.raises(DataError, match="size"):
        tag_file(source, out, model, chunk_size=50, resume=True)


@pytest.mark.slow
@pytest.mark.parametrize("output_name", ["out.csv", "out.jsonl.gz", "out.parquet"])
def test_a_run_killed_part_way_resumes_to_the_same_output(tmp_path, fake_store, output_name):
    rows = archive_rows(1000)
    source = write_rows(tmp_path / "in.csv", rows)
    output = tmp_path / output_name
    reference = tmp_path / ("ref_" + output_name)
    tag_file(source, reference, fake_store.load("vfake-1", embedder=FakeEmbedder()), chunk_size=40)

    script = tmp_path / "driver.py"
    script.write_text(
        DRIVER.format(
            root=str(ROOT), store=str(fake_store.root), source=str(source), output=str(output)
        )
    )
    process = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    state_file = partial_paths(output)[2]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = read_state(output) if state_file.exists() else None
        if state and state["rows_done"] >= 120:
            break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.02)
    else:
        pytest.fail("the driver never checkpointed")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stderr.close()
    assert not output.exists()
    done = read_state(output)["rows_done"]
    assert 120 <= done < len(rows)
    # the kill can land between writing a chunk and recording it: add such an unrecorded tail
    if output_name.endswith(".parquet"):
        pq.write_table(pa.table({"x": [1]}), partial_paths(output)[1] / "part-99999999.parquet")
    else:
        with open(partial_paths(output)[0], "ab") as handle:
            handle.write(b"half a row,that was never recorded")

    summary = tag_file(
        source,
        output,
        fake_store.load("vfake-1", embedder=FakeEmbedder()),
        chunk_size=40,
        resume=True,
    )
    assert summary.resumed_after == done
    assert summary.counters.rows == len(rows)
    assert sum(summary.counters.topics.values()) == summary.counters.tagged == len(rows)
    if output_name.endswith(".parquet"):
        assert pq.read_table(output).equals(pq.read_table(reference))
    else:
        assert read_rows(output) == read_rows(reference)
        if not output_name.endswith(".gz"):
            assert output.read_bytes() == reference.read_bytes()
    assert not any(p.exists() for p in partial_paths(output))


def test_a_run_stopped_after_its_last_chunk_finishes_on_resume(tmp_path, model):
    source = write_rows(tmp_path / "in.csv", archive_rows(100))
    out = tmp_path / "out.parquet"

    def crash(self, *args):
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tag_output.OutputTarget, "_merge_parts", crash)
        with pytest.raises(KeyboardInterrupt):
            tag_file(source, out, model, chunk_size=30)
    assert read_state(out)["phase"] == "finishing"
    summary = tag_file(source, out, model, chunk_size=30, resume=True)
    assert summary.counters.rows == 100 and summary.rows_this_run == 0
    assert pq.read_table(out).num_rows == 100


def test_progress_reports_rows_and_an_estimated_total(tmp_path, model):
    source = write_rows(tmp_path / "in.csv", archive_rows(1000))
    seen = []
    tag_file(
        source,
        tmp_path / "out.csv",
        model,
        chunk_size=100,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert [d for d, _ in seen] == list(range(100, 1001, 100))
    assert all(t is not None and t >= d for d, t in seen)
    assert seen[-1][1] == 1000


def test_an_empty_archive_gives_an_empty_output_with_the_columns(tmp_path, model):
    path = tmp_path / "empty.csv"
    path.write_text("id,headline\n")
    summary = tag_file(path, tmp_path / "out.parquet", model)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 0 and "topic" in table.column_names
    assert summary.counters.rows == 0

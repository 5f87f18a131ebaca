"""Faults the other suites do not inject: random SIGKILLs, corrupted versions, a full disk.

- training (save + promote) killed with SIGKILL at random moments, several times: CURRENT always
  names a whole version that loads;
- a newly promoted version that is changed, truncated, missing a file or missing entirely is
  refused with a clear reason while the service keeps answering with the previous one
  (tests/service/test_service_admin.py covers a broken head.npz; these are the other cases);
- a tagging run SIGKILLed at random points and resumed, again and again: no row lost or doubled;
- a full output disk (ENOSPC while writing a chunk) is a clear OSError and the run resumes to
  the same output as a run that never failed.
"""

from __future__ import annotations

import errno
import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from classifier.tagging import tag_file
from classifier.tagging.output import OutputTarget, partial_paths, read_state
from classifier.topics.store import ModelStore
from tests.conftest import ROOT, FakeEmbedder, save_model
from tests.service.support import ROWS, TOKEN, make_app
from tests.tagging.support import DRIVER, FAST_HEAD
from tests.tagging.support import archive_rows as _archive_rows
from tests.tagging.support import read_rows as _read
from tests.tagging.support import train as _train
from tests.tagging.support import write_rows as _write

KILLS = 6  # SIGKILLs of the tagger
TRAIN_KILLS = 8  # SIGKILLs of the trainer (cheaper: it restarts in about a second)
LEAKS = ("Traceback", "/work/", "/tmp/")


def _fast_version(store, rows, version, *, promote):
    """A version with a light head: these tests are about files and processes, not accuracy."""
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    save_model(
        store,
        texts,
        labels,
        FakeEmbedder(),
        version=version,
        promote=promote,
        head_params=FAST_HEAD,
    )


TRAINER = textwrap.dedent(
    """
    import copy, sys
    sys.path.insert(0, {root!r})
    from classifier.topics.store import ModelStore
    from classifier.topics.training import train_model
    from tests.conftest import FakeEmbedder, load_project_data
    from tests.tagging.support import FAST_HEAD

    rows = load_project_data()[::40]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    store = ModelStore({store!r})
    i = 0
    while True:  # train, save and promote new versions until killed
        if i % 4 == 0:  # fitting touches no file; saving does, so most of the time goes there
            model, manifest = train_model(texts, labels, FakeEmbedder(), head_params=FAST_HEAD,
                                          source="fault-test")
        store.save(model, dict(copy.deepcopy(manifest), version=f"k{{{start} + i}}"),
                   promote=True)
        print("saved", {start} + i, flush=True)
        i += 1
    """
)


# -- training killed at random points ------------------------------------------------------------
@pytest.mark.slow
def test_training_killed_at_random_points_always_leaves_a_loadable_current(tmp_path):
    root = tmp_path / "models"
    store = ModelStore(root)
    _fast_version(store, ROWS[::36], "k0", promote=True)
    rng = random.Random(6)
    seen = set()
    for kill in range(TRAIN_KILLS):
        script = tmp_path / f"trainer{kill}.py"
        script.write_text(TRAINER.format(root=str(ROOT), store=str(root), start=100 * (kill + 1)))
        process = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # wait for the first save (imports take a while), then kill somewhere in a later one
        first = process.stdout.readline()
        assert first.startswith(b"saved"), process.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()

        current = store.current_version()
        model = store.load(embedder=FakeEmbedder())  # raises if CURRENT names a broken folder
        assert model.version == current
        seen.add(current)
        for version in store.versions():  # every listed version is whole, not only CURRENT
            store.load(version, embedder=FakeEmbedder())
        assert model.predict("Tariffs on steel rise").topic in model.labels
    assert len(seen) == TRAIN_KILLS  # each kill left a newer version current: the runs did progress
    torn = [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
    print(f"\n{TRAIN_KILLS} trainer kills; {len(torn)} left a half-written staging folder: {torn}")


# -- a broken new version keeps the old one serving ----------------------------------------------
def _edit_manifest(folder):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["labels"] = list(reversed(manifest["labels"]))
    path.write_text(json.dumps(manifest))


BREAKAGES = {
    "manifest edited": (_edit_manifest, "manifest"),
    "lexical.json missing": (lambda f: (f / "lexical.json").unlink(), "lexical.json"),
    "lexical.json truncated": (
        lambda f: (f / "lexical.json").write_bytes((f / "lexical.json").read_bytes()[:10]),
        "lexical.json",
    ),
    "manifest.sha256 missing": (lambda f: (f / "manifest.sha256").unlink(), "manifest"),
    "folder missing": (lambda f: shutil.rmtree(f), "v2"),
}


@pytest.fixture
def two_versions(tmp_path):
    root = tmp_path / "models"
    store = ModelStore(root)
    _fast_version(store, ROWS[::36], "v1", promote=True)
    _fast_version(store, ROWS[1::50], "v2", promote=False)
    return root


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_a_corrupted_new_current_is_refused_and_the_old_model_keeps_serving(two_versions, name):
    breakage, reason = BREAKAGES[name]
    app = make_app(two_versions, admin_token=TOKEN, reload_check_ms=0)
    client = app.test_client()
    breakage(two_versions / "v2")
    (two_versions / "CURRENT").write_text("v2\n")  # as if promoted by hand, skipping checks
    for _ in range(3):
        response = client.post("/v1/predict", json={"headline": "Border talks resume"})
        assert response.status_code == 200 and response.get_json()["model"] == "v1"
    error = client.get("/v1/model").get_json()["service"]["reload_error"]
    assert "cannot switch to model 'v2'" in error and reason in error, error
    reply = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 409 and "still serving v1" in reply.get_json()["error"]["message"]


def test_a_failed_reload_does_not_tell_clients_where_the_store_is(two_versions):
    app = make_app(two_versions, admin_token=TOKEN, reload_check_ms=0)
    client = app.test_client()
    shutil.rmtree(two_versions / "v2")
    (two_versions / "CURRENT").write_text("v2\n")
    reply = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    info = client.get("/v1/model")
    for response in (reply, info):
        text = response.get_data(as_text=True)
        assert str(two_versions) not in text and not any(leak in text for leak in LEAKS), text


@pytest.mark.parametrize("content", ["../v1\n", "/etc\n", "", "\x00\xff\n", "v1/../v2\n"])
def test_a_current_file_with_a_bad_name_keeps_the_old_model(two_versions, content):
    app = make_app(two_versions, admin_token=TOKEN, reload_check_ms=0)
    client = app.test_client()
    (two_versions / "CURRENT").write_bytes(content.encode("utf-8", "surrogateescape"))
    response = client.post("/v1/predict", json={"headline": "Border talks resume"})
    assert response.status_code == 200 and response.get_json()["model"] == "v1"
    assert client.get("/v1/model").get_json()["service"]["reload_error"]


# -- tagging killed again and again --------------------------------------------------------------
@pytest.fixture(scope="module")
def tag_store(tmp_path_factory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("fault-models") / "models")
    _train(store, FakeEmbedder(), version="vfake-1")
    return store


RESUMING_DRIVER = DRIVER.replace("checkpoint_seconds=0)", "checkpoint_seconds=0, resume={resume})")


@pytest.mark.slow
def test_tagging_killed_repeatedly_and_resumed_loses_and_duplicates_no_row(tmp_path, tag_store):
    rows = _archive_rows(1200)
    source = _write(tmp_path / "in.csv", rows)
    output = tmp_path / "out.csv"
    reference = tmp_path / "ref.csv"
    tag_file(source, reference, tag_store.load("vfake-1", embedder=FakeEmbedder()), chunk_size=40)
    rng = random.Random(66)
    state_file = partial_paths(output)[2]
    done_after_kills = []
    for kill in range(KILLS):
        script = tmp_path / f"driver{kill}.py"
        script.write_text(
            RESUMING_DRIVER.format(
                root=str(ROOT),
                store=str(tag_store.root),
                source=str(source),
                output=str(output),
                resume=kill > 0,
            )
        )
        before = read_state(output)["rows_done"] if state_file.exists() else 0
        target = before + rng.randint(1, 3) * 40  # at least one more checkpoint, then kill
        process = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = read_state(output) if state_file.exists() else None
            if state and state["rows_done"] >= target:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.01)
        else:
            pytest.fail("the driver never checkpointed")
        time.sleep(rng.uniform(0.0, 0.15))  # land anywhere inside the next chunk
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stderr.close()
        assert not output.exists()
        done = read_state(output)["rows_done"]
        assert done > before
        done_after_kills.append(done)
    assert done_after_kills[-1] < len(rows), "the last kill should leave work to resume"

    summary = tag_file(
        source,
        output,
        tag_store.load("vfake-1", embedder=FakeEmbedder()),
        chunk_size=40,
        resume=True,
    )
    assert summary.counters.rows == len(rows)
    got, want = _read(output), _read(reference)
    assert [r["id"] for r in got] == [r["id"] for r in want]  # none lost, none doubled
    assert output.read_bytes() == reference.read_bytes()
    print(f"\nkills at rows {done_after_kills}; rows lost 0 of {len(rows)}")


# -- a full disk ---------------------------------------------------------------------------------
@pytest.mark.parametrize("output_name", ["out.csv", "out.parquet"])
def test_a_full_disk_is_a_clear_error_and_the_run_resumes(
    tmp_path, tag_store, monkeypatch, output_name
):
    rows = _archive_rows(400)
    source = _write(tmp_path / "in.csv", rows)
    output = tmp_path / output_name
    reference = tmp_path / ("ref_" + output_name)
    model = tag_store.load("vfake-1", embedder=FakeEmbedder())
    tag_file(source, reference, model, chunk_size=40)

    original = OutputTarget.write
    calls = {"n": 0}

    def filling_disk(self, chunk, result):
        calls["n"] += 1
        if calls["n"] == 4:  # the disk fills part-way through the fourth chunk
            if self._handle is not None:
                self._handle.write(b"1234,half a row that did not fit")
            raise OSError(errno.ENOSPC, "No space left on device", str(self.partial))
        return original(self, chunk, result)

    monkeypatch.setattr(OutputTarget, "write", filling_disk)
    with pytest.raises(OSError) as raised:
        tag_file(source, output, model, chunk_size=40, checkpoint_seconds=0)
    assert raised.value.errno == errno.ENOSPC and "No space left" in str(raised.value)
    assert not output.exists()
    assert read_state(output)["rows_done"] == 120  # three chunks recorded, the fourth not
    monkeypatch.setattr(OutputTarget, "write", original)  # space freed

    summary = tag_file(source, output, model, chunk_size=40, resume=True)
    assert summary.resumed_after == 120
    assert summary.counters.rows == len(rows)
    assert _read(output) == _read(reference)

"""``tag`` runs against each other and against their own past (issue 19): one writer per output,
a resume with other options refused before any work, no output folder made up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from classifier import cli
from classifier.errors import DataError
from classifier.tagging import tag_file
from classifier.tagging.lock import lock_path, output_lock
from classifier.topics.store import ModelStore
from tests.conftest import ROOT, FakeEmbedder
from tests.tagging.support import (
    archive_rows,
    read_rows,
    run_tag_command,
    train,
    write_rows,
)

# a real ``tag`` run on the fake encoder that stops before tagging its first chunk (its lock held,
# its partial output and resume state on disk) until the test writes a line to its stdin
FIRST_RUN = """
import sys
from classifier.cli import _util, main
from classifier.tagging.tagger import Tagger
from tests.conftest import FakeEmbedder

_util.model_encoder = lambda *args, **kwargs: FakeEmbedder()
tag = Tagger.tag

def tag_when_told(self, chunk):
    print("writing", flush=True)
    sys.stdin.readline()
    return tag(self, chunk)

Tagger.tag = tag_when_told
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def fake_models(tmp_path_factory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("runs") / "models")
    train(store, FakeEmbedder(), version="vfake-1")
    return store


@pytest.mark.parametrize("second_option", [[], ["--force"], ["--resume"]])
def test_a_second_run_on_the_same_output_is_told_another_run_is_writing(
    tmp_path, fake_models, second_option
):
    """The second run used to say 'an interrupted run' and suggest --force; with it, both wrote."""
    source = write_rows(tmp_path / "in.csv", archive_rows(50))
    out = tmp_path / "out.csv"
    args = [source, out, "--no-progress", "--models-dir", fake_models.root]
    first = subprocess.Popen(
        [sys.executable, "-c", FIRST_RUN, "tag", *map(str, args)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout.readline() == "writing\n", first.communicate()
        second = run_tag_command(*args, *second_option)
        assert second.returncode == 2
        assert second.stderr == (
            f"headline-topics tag: error: another tag run (pid {first.pid}) is writing {out}; "
            "wait for it to finish (or stop it) and run again\n"
        )
        stdout, stderr = first.communicate("go\n", timeout=240)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, stderr
    assert [row["id"] for row in read_rows(out)] == [str(i) for i in range(50)]
    assert not lock_path(out).exists()  # removed by the run that held it


def test_a_lock_left_by_a_killed_run_is_not_stale(tmp_path):
    out = tmp_path / "out.csv"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from classifier.tagging.lock import output_lock\n"
            f"with output_lock({str(out)!r}):\n    print('locked', flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with (
            pytest.raises(DataError, match=rf"another tag run \(pid {holder.pid}\)"),
            output_lock(out),
        ):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock_path(out).exists()  # kill -9 left the file, but not the lock
    with output_lock(out):
        assert lock_path(out).read_text() == f"{os.getpid()}\n"


def test_resume_with_other_cluster_options_is_refused_before_any_work(
    tmp_path, fake_models, monkeypatch, capsys
):
    """It was refused only after the model had loaded, when the output was opened."""
    source = write_rows(tmp_path / "in.csv", archive_rows(300))
    out = tmp_path / "out.csv"

    def stop(done, total):
        raise KeyboardInterrupt

    model = fake_models.load("vfake-1", embedder=FakeEmbedder())
    with pytest.raises(KeyboardInterrupt):
        tag_file(source, out, model, clusters="themes", cluster_sample=100, progress=stop)

    def no_work(*args, **kwargs):
        raise AssertionError("the model was loaded before the options were compared")

    monkeypatch.setattr(ModelStore, "load", no_work)
    base = ["tag", str(source), str(out), "--resume", "--models-dir", str(fake_models.root)]
    assert cli.main([*base, "--clusters", "stories"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "clusters: was 'themes, fitted on 100" in err
    assert "now 'stories tracked in file order, quiet default'" in err
    assert cli.main([*base, "--clusters", "themes", "--cluster-sample", "99"]) == 2
    assert "now 'themes, fitted on 99 distinct headlines'" in capsys.readouterr().err
    assert cli.main(base) == 2  # without --clusters at all
    assert "clusters: was 'themes" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["tag", "{input}", "{missing}/out.csv"],
        ["tag", "{input}", "{missing}/parts", "--engine", "dask", "--scheduler", "tcp://x:1"],
        ["cluster", "{input}", "--out", "{missing}/out.csv"],
        ["cluster", "{input}", "--plot", "{missing}/map.png"],
    ],
)
def test_no_command_makes_up_a_missing_output_folder(argv, tmp_path, capsys):
    """``tag`` used to create the folder that ``cluster`` refused; now both refuse it, alike."""
    source = write_rows(tmp_path / "in.csv", archive_rows(3))
    missing = tmp_path / "typo"
    argv = [a.format(input=source, missing=missing) for a in argv]
    argv += ["--models-dir", str(tmp_path / "models")]
    assert cli.main(argv) == 2
    what = "OUTPUT" if argv[0] == "tag" else argv[2]
    assert capsys.readouterr().err == (
        f"headline-topics {argv[0]}: error: {what} {argv[3] if argv[0] == 'cluster' else argv[2]}: "
        f"folder {missing} does not exist; create it first\n"
    )
    assert not missing.exists()

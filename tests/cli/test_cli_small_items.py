"""What a hostile new user tried on the command line (issue 19, "smaller items")."""

from __future__ import annotations

import shutil

import pytest

from classifier.cli import main as cli_main
from classifier.topics.store import ModelStore
from tests.conftest import ROOT


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == "headline-topics 0.1.0"


def test_a_models_dir_that_is_a_file_is_an_error_not_an_empty_store(tmp_path, capsys):
    not_a_folder = tmp_path / "passwd"
    not_a_folder.write_text("root:x:0:0\n")
    assert cli_main(["models", "--models-dir", str(not_a_folder)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli_main(["models", "--models-dir", str(tmp_path / "absent")]) == 0  # nothing yet
    assert "no models in" in capsys.readouterr().out


def test_promote_takes_a_tab_completed_version_folder(tmp_path, capsys):
    store = ModelStore(ROOT / "models")
    for version in store.versions():
        shutil.copytree(store.path_of(version), tmp_path / version)
    other = [v for v in store.versions() if v != store.current_version()][0]
    assert cli_main(["promote", other + "/", "--models-dir", str(tmp_path)]) == 0
    assert ModelStore(tmp_path).current_version() == other
    assert f"current model is now {other}" in capsys.readouterr().out


def test_predict_refuses_a_batch_size_below_one(capsys):
    assert cli_main(["predict", "--batch-size", "0", "Tariffs rise"]) == 2
    assert "--batch-size must be at least 1, not 0" in capsys.readouterr().err

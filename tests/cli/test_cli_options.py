"""Every option of every command: validated when numeric, documented with its default (issue 19)."""

from __future__ import annotations

import argparse

import pytest

from classifier.cli import build_parser

# positional arguments a command needs before its options are looked at
POSITIONAL = {
    "train": ["data.csv"],
    "evaluate": ["data.csv"],
    "cluster": ["in.txt"],
    "tag": ["in.csv", "out.csv"],
    "report": ["tagged.csv"],
    "predict": [],
    "serve": [],
    "export-index": ["data.csv"],
    "suggest": ["in.csv"],
    "diff": ["v1", "v2", "in.csv"],
}
# every numeric option, with values it must refuse
BAD_NUMBERS = {
    ("predict", "--batch-size"): ["0", "-1", "many"],
    ("predict", "--uncertain-below"): ["-0.1", "1.5", "nan"],
    ("tag", "--uncertain-below"): ["-0.1", "1.5", "nan"],
    ("train", "--C"): ["0", "-1", "inf", "nan"],
    ("train", "--f1-tolerance"): ["-0.1", "inf", "nan"],
    ("train", "--max-topic-drop"): ["-1", "inf", "much"],
    ("serve", "--port"): ["0", "70000", "http"],
    ("serve", "--workers"): ["0"],
    ("serve", "--threads"): ["0"],
    ("serve", "--encoder-threads"): ["0"],
    ("serve", "--timeout"): ["0", "-5"],
    ("cluster", "--threshold"): ["-0.1", "2.5", "nan", "inf"],
    ("cluster", "--min-cluster-size"): ["0", "-2", "1.5"],
    ("cluster", "--top"): ["-1", "ten"],
    ("tag", "--batch-size"): ["0"],
    ("tag", "--chunk-size"): ["0"],
    ("tag", "--cluster-sample"): ["0", "1"],
    ("tag", "--blocksize"): ["0"],
    ("tag", "--checkpoint-every"): ["-1", "nan", "inf"],
    ("tag", "--memo-size"): ["0"],
    ("tag", "--encoder-threads"): ["0", "-1"],
    ("report", "--top"): ["0", "-1", "five"],
    ("report", "--wire-top"): ["0"],
    ("report", "--emerging-window"): ["0", "1.5"],
    ("report", "--emerging-ratio"): ["0", "-2", "nan", "inf"],
    ("report", "--emerging-min"): ["0"],
    ("tag", "--story-quiet"): ["0", "-1", "soon", "nan"],
    ("suggest", "--n"): ["0", "-5", "10001", "2.5", "many"],
    ("suggest", "--seed"): ["-1", "x"],
    ("diff", "--limit"): ["-1", "all"],
    **{
        (command, "--max-headline-chars"): ["0", "-3", "long"]
        for command in (
            "predict",
            "tag",
            "train",
            "evaluate",
            "cluster",
            "export-index",
            "suggest",
            "diff",
        )
    },
}
CASES = [(cmd, opt, bad) for (cmd, opt), values in BAD_NUMBERS.items() for bad in values]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_numeric_option_is_in_the_list_below():
    """A numeric option added later must be given bad values here too."""
    numeric = {
        (name, action.option_strings[0])
        for name, command in _subcommands().items()
        for action in command._actions
        if action.option_strings and action.type not in (None, str)
    }
    assert numeric == set(BAD_NUMBERS)


@pytest.mark.parametrize(("command", "option", "bad"), CASES)
def test_a_bad_number_is_refused_by_the_options_name(command, option, bad, tmp_path, capsys):
    from classifier.cli import main

    argv = [command, *(str(tmp_path / p) for p in POSITIONAL[command]), f"{option}={bad}"]
    argv += ["--models-dir", str(tmp_path / "models")]
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse refused it
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert option in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"headline-topics {command}: error: ")


# defaults that the help text gives in a unit people read
SHOWN_AS = {("tag", "--blocksize"): "8 MiB"}


def _shown_forms(default) -> set[str]:
    forms = {str(default)}
    if isinstance(default, int | float) and not isinstance(default, bool):
        forms |= {f"{default:,}", f"{default:g}"}
    return forms


def _options():
    parser = build_parser()
    yield "headline-topics", parser
    yield from _subcommands().items()


def test_every_option_has_help_that_shows_its_default():
    missing = []
    for name, command in _options():
        formatter = command._get_formatter()
        for action in command._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            label = action.option_strings[0] if action.option_strings else action.dest
            text = formatter._expand_help(action) if action.help else ""
            if not text or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {label}: no help")
                continue
            default = action.default
            if default in (None, False, argparse.SUPPRESS) or action.nargs == 0:
                continue
            shown = SHOWN_AS.get((name, label))
            forms = {shown} if shown else _shown_forms(default)
            if "default" not in text or not any(form in text for form in forms):
                missing.append(f"{name} {label}: default {default!r} not shown in {text!r}")
    assert missing == []


def test_an_option_argparse_refuses_is_one_line_too(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["cluster", "in.txt", "--top", "-1"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "headline-topics cluster: error: argument --top: must be at least 0, not -1 (see --help)\n"
    )

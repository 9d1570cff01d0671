"""The command line's shared parser: option values made of numbers may start with "-" (LPS boxes right of the
midline), and ``--help`` says what a box is."""

from __future__ import annotations

import pytest

from medseg_app.cli import main
from medseg_app.cli.common import MedSegParser
from medseg_app.cli.models import segment_parser
from medseg_app.core.errors import CommandError
from medseg_app.core.prompt_box import parse_box

BOX = "-120.5,34,-800,-60,90,-740"


def test_a_box_whose_first_coordinate_is_negative_is_a_value():
    args = segment_parser().parse_args(["image", "--model", "m", "--box", BOX, "--out", "o.nii.gz"])
    assert args.box == BOX and args.out == "o.nii.gz" and args.image == "image"
    assert parse_box(args.box) == [[-120.5, 34.0, -800.0], [-60.0, 90.0, -740.0]]
    assert segment_parser().parse_args(["image", "--model", "m", f"--box={BOX}", "--out", "o"]).box == BOX


@pytest.mark.parametrize("value", ["-1", "-.5,2", "-1e3,-2.5E-2,3", "-7, -8"])
def test_any_option_takes_negative_numbers(value):
    parser = MedSegParser(prog="t")
    parser.add_argument("--offset")
    parser.add_argument("--flag", action="store_true")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args(["--offset", value, "--flag", "x"])
    assert args.offset == value and args.flag and args.rest == ["x"]


def test_words_that_are_not_numbers_stay_options():
    parser = MedSegParser(prog="t")
    parser.add_argument("--offset")
    parser.add_argument("--flag", action="store_true")
    with pytest.raises(SystemExit):
        parser.parse_args(["--offset", "--flag"])  # an option is never taken as the value
    with pytest.raises(SystemExit):
        parser.parse_args(["--offset", "-x1,2"])


def test_segment_help_says_what_the_box_is(capsys):
    with pytest.raises(SystemExit):
        main(["segment", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "x0,y0,z0,x1,y1,z1" in text and "LPS" in text and "corners" in text and "negative" in text


def test_a_box_that_is_not_six_numbers_is_one_sentence(capsys, tmp_path):
    with pytest.raises(CommandError):
        parse_box("-1,2,3")
    out = str(tmp_path / "o.nii.gz")
    assert main(["segment", str(tmp_path), "--model", "pet_gtv_box_unet", "--box", "-1,2,3", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "--box" in err and "six numbers" in err and err.count("\n") == 1

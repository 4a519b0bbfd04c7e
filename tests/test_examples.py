"""The examples run end to end and learn."""
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_demo_learns_to_tell_stripes_apart(capsys):
    runpy.run_path(str(EXAMPLES / "demo.py"), run_name="__main__")
    accuracy = float(capsys.readouterr().out.strip().splitlines()[-1].split()[-1].rstrip("%"))
    assert accuracy >= 90.0

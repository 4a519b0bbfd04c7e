"""bench/gpu_check.py, the one-shot GPU proof, end to end on the stand-in for CuPy: it must work
before a GPU ever sees it. Only compute-sanitizer is skipped here (no GPU code runs)."""
import importlib.util
import json
from pathlib import Path

from cuda_emulation import installed

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "gpu_check.py"


def test_gpu_check_runs_end_to_end_on_the_stand_in(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    with installed():
        status = gpu_check.main(["--quick", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    titles = [s["title"] for s in report["sections"]]
    assert status == 0 and report["failures"] == 0, capsys.readouterr().out
    assert [t.split(".")[0] for t in titles] == ["1", "2", "3", "4", "5", "6", "7"]
    kernels = next(s for s in report["sections"] if s["title"].startswith("2."))
    assert {row[0] for row in kernels["rows"]} == {p.stem for p in
                                                   (SCRIPT.parent.parent / "kernels").glob("*.cu")}
    memcheck = next(s for s in report["sections"] if s["title"].startswith("5."))
    assert memcheck["note"].startswith("skipped: on the stand-in")
    assert "stand-in" in (tmp_path / "gpu_check.md").read_text()

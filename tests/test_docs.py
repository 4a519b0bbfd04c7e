"""The documents hold.

- Every relative link resolves: to a file, to a heading (#anchor), or to a line of source
  (#L42), where that line must define the class or function the link text names.
- Every `python SCRIPT --flags` quoted in a bash block names a script that answers --help and
  lists those flags; answering --help writes no file (the scripts run from a copy of their
  folders, which must be unchanged after). The commands themselves are not run: training
  and benchmarks take minutes to hours.
- Every ```python block followed at once by a ```text block runs, and prints that text.
"""
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The line-link lookup lives in docs/anchors.py, the tool that fixes drifted links: one lookup.
_spec = importlib.util.spec_from_file_location("docs_anchors", ROOT / "docs" / "anchors.py")
anchor_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(anchor_tool)
DOCUMENTS, links, line_links = anchor_tool.DOCUMENTS, anchor_tool.links, anchor_tool.line_links
defined_at, LINE_ANCHOR = anchor_tool.defined_at, anchor_tool.LINE_ANCHOR
COMMAND = re.compile(r"\bpython ((?:examples|bench|docs)/\S+\.py)(.*)$")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def anchors(markdown):
    """GitHub's anchors of a document's headings: lower case, punctuation gone, spaces -> -."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", markdown, re.M)}


def ids(value):
    return value if isinstance(value, str) else getattr(value, "name", "")


@pytest.mark.parametrize("document, text, target", list(links()), ids=ids)
def test_every_relative_link_resolves(document, text, target):
    path, _, anchor = target.partition("#")
    resolved = (document.parent / path).resolve() if path else document
    assert resolved.exists(), f"{document.name}: {target} does not exist"
    if anchor and not LINE_ANCHOR.fullmatch(anchor):
        assert anchor in anchors(resolved.read_text()), f"{document.name}: no heading #{anchor}"


@pytest.mark.parametrize("document, text, target", list(line_links()), ids=ids)
def test_every_line_link_lands_on_the_definition_it_names(document, text, target):
    link = anchor_tool.locate(document, text, target)
    assert link.problem is None, (f"{document.name}: {link.problem}"
                                  + ("; run `python docs/anchors.py` to move the links"
                                     if link.moved_to else ""))


def test_the_line_link_check_refuses_a_wrong_line():
    lines = ["class Function:", "    def apply(cls):", "        pass", "def apply():"]
    assert defined_at(lines, 2, "Function.apply") and defined_at(lines, 1, "Function")
    assert defined_at(lines, 4, "apply") and not defined_at(lines, 4, "Function.apply")
    assert not defined_at(lines, 3, "apply") and not defined_at(lines, 9, "apply")
    assert not defined_at(lines, 2, "Tensor.apply")
    assert defined_at(lines, 4, "ops.apply", "ops") and not defined_at(lines, 2, "ops.apply", "ops")


def test_the_anchors_tool_moves_a_drifted_link_to_the_nearest_definition(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    pass\n\n\ndef g():\n    pass\n\n\ndef f():\n")
    document = tmp_path / "doc.md"
    document.write_text("[`g`](a.py#L1), [`f()`](a.py#L8), [`f`](a.py#L1), [`h`](a.py#L2)\n")
    markdown, moved, unfixable = anchor_tool.relink(document)
    assert markdown == "[`g`](a.py#L5), [`f()`](a.py#L9), [`f`](a.py#L1), [`h`](a.py#L2)\n"
    assert [link.name for link in moved] == ["g", "f"] and [u.name for u in unfixable] == ["h"]


def commands():
    """(document, script, flags) of every `python SCRIPT ...` in a bash block."""
    for document in DOCUMENTS:
        blocks = re.findall(r"```bash\n(.*?)```", document.read_text(), re.S)
        for line in "\n".join(blocks).splitlines():
            match = COMMAND.search(line.split("#")[0])
            if match:
                yield document, match[1], re.findall(r"(?<!\S)(--[\w-]+)", match[2])


SCRIPT_FOLDERS = ("examples", "bench", "docs")  # where the quoted scripts live


def snapshot(folder):
    """{path: bytes} of every file under ``folder``."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def help_runs(tmp_path_factory):
    """{script: its --help run} for every quoted script, and the files of the script folders
    before and after. The scripts run from a copy of those folders, so that a script that
    writes files cannot touch the checkout (and another process editing the checkout meanwhile
    cannot be mistaken for a script writing)."""
    copy = tmp_path_factory.mktemp("checkout")
    for folder in SCRIPT_FOLDERS:
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "site"))
    before = snapshot(copy)
    runs = {script: subprocess.run([sys.executable, str(copy / script), "--help"],
                                   capture_output=True, text=True, timeout=120, cwd=copy)
            for script in sorted({script for _, script, _ in commands()})}
    after = snapshot(copy)
    return runs, {p.relative_to(copy) for p in before.keys() | after.keys()
                  if before.get(p) != after.get(p)}


@pytest.mark.parametrize("document, script, flags", list(commands()), ids=ids)
def test_every_quoted_script_answers_help_with_its_flags(document, script, flags, help_runs):
    result = help_runs[0][script]
    assert result.returncode == 0, f"{script} --help failed: {result.stderr[-500:]}"
    missing = [flag for flag in flags if flag not in result.stdout]
    assert not missing, f"{document.name}: {script} has no {missing}"


def test_answering_help_writes_no_file(help_runs):
    """A script must parse its arguments before it does any work: the bench scripts write
    tracked result files (bench/results/), and `--help` must not rewrite them."""
    changed = help_runs[1]
    assert not changed, f"running the quoted scripts with --help wrote {sorted(map(str, changed))}"


def examples():
    """(document, code, printed text) of every python block followed at once by a text block."""
    for document in DOCUMENTS:
        markdown, number = document.read_text(), 0
        blocks = list(FENCE.finditer(markdown))
        for code, text in zip(blocks, blocks[1:]):
            if (code[1], text[1]) == ("python", "text") and not markdown[
                    code.end():text.start()].strip():
                number += 1
                yield pytest.param(document, code[2], text[2], id=f"{document.name}-{number}")


@pytest.mark.parametrize("document, code, text", list(examples()))
def test_every_example_prints_what_the_document_shows(document, code, text):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, f"{document.name}: the example failed: {result.stderr[-800:]}"
    printed = [line.rstrip() for line in result.stdout.strip().splitlines()]
    shown = [line.rstrip() for line in text.strip().splitlines()]
    assert printed == shown, f"{document.name}: the example printed\n{result.stdout}"

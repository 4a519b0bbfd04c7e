"""The documents hold: every relative link resolves (files, and headings for #anchors), and every
`python SCRIPT --flags` they quote names a script that runs and flags its --help lists."""
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "bench" / "README.md",
             *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
COMMAND = re.compile(r"\bpython ((?:examples|bench|docs)/\S+\.py)(.*)$")


def anchors(markdown):
    """GitHub's anchors of a document's headings: lower case, punctuation gone, spaces -> -."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", markdown, re.M)}


def links():
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")):
                yield document, target


@pytest.mark.parametrize("document, target", list(links()),
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_relative_link_resolves(document, target):
    path, _, anchor = target.partition("#")
    resolved = (document.parent / path).resolve() if path else document
    assert resolved.exists(), f"{document.name}: {target} does not exist"
    if anchor:
        assert anchor in anchors(resolved.read_text()), f"{document.name}: no heading #{anchor}"


def commands():
    """(document, script, flags) of every `python SCRIPT ...` in a bash block."""
    for document in DOCUMENTS:
        blocks = re.findall(r"```bash\n(.*?)```", document.read_text(), re.S)
        for line in "\n".join(blocks).splitlines():
            match = COMMAND.search(line.split("#")[0])
            if match:
                yield document, match[1], re.findall(r"(?<!\S)(--[\w-]+)", match[2])


@functools.cache
def help_text(script):
    result = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, f"{script} --help failed: {result.stderr[-500:]}"
    return result.stdout


@pytest.mark.parametrize("document, script, flags", list(commands()),
                         ids=lambda v: v if isinstance(v, str) else getattr(v, "name", ""))
def test_every_quoted_command_runs_and_its_flags_exist(document, script, flags):
    text = help_text(script)
    missing = [flag for flag in flags if flag not in text]
    assert not missing, f"{document.name}: {script} has no {missing}"

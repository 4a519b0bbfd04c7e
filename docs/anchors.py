"""Keep the documents' links to source lines on the lines they name.

The documents link a line of source as ``[`Tanh`](../tinygan/ops/activation.py#L42)``: the
link text names the class or def that line defines (``Tanh``, ``Function.apply``, or
``ops.batch_norm`` where the file is the module ``ops``). Editing the code moves lines, so the
links drift. This tool moves every such link in README.md, bench/README.md, docs/*.md and
docs/learn/*.md to the line where its name is defined now::

    python docs/anchors.py           # rewrite the drifted links, in place
    python docs/anchors.py --check   # only report them; exit status 1 if any drifted

tests/test_docs.py checks the links with this file's lookup (``defined_at``, ``locate``), so the
tool and the test cannot disagree about where a name is defined.
"""
import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "bench" / "README.md",
             *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "learn").glob("*.md"))]
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
LINE_ANCHOR = re.compile(r"L(\d+)")
NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?")


def is_relative(target):
    return not target.startswith(("http://", "https://", "mailto:"))


def links(documents=DOCUMENTS):
    """(document, link text, target) of every relative link."""
    for document in documents:
        for text, target in LINK.findall(document.read_text()):
            if is_relative(target):
                yield document, text, target


def is_line_link(target):
    path, _, anchor = target.partition("#")
    return bool(path) and LINE_ANCHOR.fullmatch(anchor) is not None


def line_links(documents=DOCUMENTS):
    """(document, link text, target) of every link to a line of source: `path#L42`."""
    for document, text, target in links(documents):
        if is_line_link(target):
            yield document, text, target


def link_name(text):
    """The name a link's text gives: [`Tanh`] and [`Tanh()`] both name Tanh."""
    return text.strip("`").removesuffix("()")


def defined_at(lines, number, name, module=None):
    """Whether line ``number`` (1-based) of a Python file defines ``name``: `Tanh` needs
    `class Tanh` or `def Tanh` there; `Function.apply` needs `def apply` inside `class Function`
    (the nearest less indented class line above it); `convolution.choose`, where the file is
    the module ``convolution``, a `def choose` at the top level."""
    if not 1 <= number <= len(lines):
        return False
    owner, _, member = name.rpartition(".")
    line = lines[number - 1]
    if not re.search(rf"\b(class|def) {re.escape(member)}\b", line):
        return False
    if not owner or owner == module:
        return not owner or not line[0].isspace()
    indent = len(line) - len(line.lstrip())
    for above in reversed(lines[:number - 1]):
        stripped = above.lstrip()
        if stripped.startswith("class ") and len(above) - len(stripped) < indent:
            return re.match(rf"class {re.escape(owner)}\b", stripped) is not None
    return False


class Link:
    """Where one line link points, and where its name is defined now.

    ``problem`` is None for a link that lands on its definition, else why it does not;
    ``hits`` are the lines (1-based) that define the name now."""

    def __init__(self, document, text, target):
        self.document, self.text, self.target = document, text, target
        self.path, _, anchor = target.partition("#")
        self.number = int(anchor[1:])
        self.name = link_name(text)
        self.source = (document.parent / self.path).resolve()
        self.hits, self.problem = [], None
        if not NAME.fullmatch(self.name):
            self.problem = (f"a link to a line must be named by the class or def it points at "
                            f"(`Tanh`, `Function.apply`), got [{text}]({target})")
            return
        if not self.source.is_file():
            self.problem = f"{target} is not a file"
            return
        lines = self.source.read_text().splitlines()
        if self.source.suffix == ".py":
            module = self.source.stem
            self.hits = [i for i in range(1, len(lines) + 1)
                         if defined_at(lines, i, self.name, module)]
            found = self.number in self.hits
        else:
            found = 1 <= self.number <= len(lines) and re.search(
                rf"\b{re.escape(self.name)}\b", lines[self.number - 1])
        if not found:
            self.problem = f"line {self.number} of {self.path} does not define {self.name}" + (
                f"; it is at line {self.hits[0]}" if len(self.hits) == 1 else
                f"; it is at lines {', '.join(map(str, self.hits))}" if self.hits else "")

    @property
    def moved_to(self):
        """The line to move the link to: the definition nearest the old line, or None where
        the name is defined nowhere in the file (or the link is right already)."""
        if self.problem is None or not self.hits:
            return None
        return min(self.hits, key=lambda hit: abs(hit - self.number))


def locate(document, text, target):
    """The Link of ``[text](target)`` in ``document``."""
    return Link(document, text, target)


def relink(document):
    """The document's text with each drifted line link moved to its definition, and the
    (moved, unfixable) Links."""
    moved, unfixable = [], []

    def replace(match):
        text, target = match[1], match[2]
        if not (is_relative(target) and is_line_link(target)):
            return match[0]
        link = locate(document, text, target)
        if link.problem is None:
            return match[0]
        if link.moved_to is None:
            unfixable.append(link)
            return match[0]
        moved.append(link)
        return f"[{text}]({link.path}#L{link.moved_to})"

    return LINK.sub(replace, document.read_text()), moved, unfixable


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Move every #Lnn link to source in README.md, bench/README.md, docs/*.md "
                    "and docs/learn/*.md to the line where the link text's name is defined now.")
    parser.add_argument("--check", action="store_true",
                        help="only report the drifted links; write nothing (exit status 1 if any)")
    args = parser.parse_args(argv)
    drifted = broken = 0
    for document in DOCUMENTS:
        markdown, moved, unfixable = relink(document)
        name = document.relative_to(ROOT)
        for link in moved:
            print(f"{name}: [{link.text}] {link.path}#L{link.number} -> #L{link.moved_to}")
        for link in unfixable:
            print(f"{name}: cannot fix: {link.problem}")
        drifted, broken = drifted + len(moved), broken + len(unfixable)
        if moved and not args.check:
            document.write_text(markdown)
    verb = "drifted" if args.check else "moved"
    print(f"{drifted} line link(s) {verb}, {broken} that cannot be fixed by line number alone")
    return 1 if broken or (args.check and drifted) else 0


if __name__ == "__main__":
    sys.exit(main())

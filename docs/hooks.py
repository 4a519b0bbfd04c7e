"""MkDocs hooks of the docs site (docs/mkdocs.yml names this file; docs/site.py runs MkDocs).

- Source links. The Markdown in docs/ links the code it talks about as GitHub shows it, by
  relative path out of docs/: ``[tensor.py](../tinygan/tensor.py)``,
  ``../tinygan/ops/activation.py#L42`` (one line) or ``#L42-L50`` (from line 42), ``../tinygan/nn/``
  (a folder). MkDocs knows only the files under docs/, so each such link is checked here: a
  missing file, a folder that is not there, or a line past the end of the file is a warning
  (which fails the strict build), and a good link goes to a page of this site that shows the file
  with its line numbers (``source/tinygan/tensor.py/``, line anchors ``#__codelineno-0-42``), or
  lists the folder. Only the files that pages link (and everything under a linked folder) get a
  page.
- Learn. Each stage ``docs/learn/NN_name.py`` becomes a page ``learn/NN_name.md``: its docstring
  as prose, then its code with line numbers; the nav's Learn section lists them after
  learn/index.md, in order, and links from the Markdown to a stage's .py go to its page.
- Math. pymdownx.arithmatex marks the math; MathJax 3 renders it in the browser, served from this
  site: the files come from the django-static-mathjax wheel (no Django needed), so the site needs
  no network.
"""
import ast
import logging
import os
import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, InclusionLevel

log = logging.getLogger("mkdocs.hooks.tinygan")

SOURCE = "source"  # where the source pages live in the site
STAGE = re.compile(r"^(\d\d)_\w+\.py$")
# [text](target "title") and ![alt](target); reference definitions [id]: target
LINK = re.compile(r"(\]\()(<[^>]+>|[^()\s]+)((?:\s+\"[^\"]*\")?\))")
REFDEF = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)(\S+)", re.M)
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
LINES = re.compile(r"^L(\d+)(?:-L?(\d+))?$")
TEXT_SIZE = 2_000_000  # bigger files, or ones that are not UTF-8, are copied, not shown
SKIP = {"__pycache__", ".git", ".venv", "build", "dist", "node_modules"}

MATHJAX_CONFIG = r"""window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
};
document$.subscribe(() => {
  if (!window.MathJax.startup || !window.MathJax.typesetPromise) return;  // still loading
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
"""
# the targeted line of a source page stands out
SOURCE_CSS = """.md-typeset .highlight span[id^="__span-"]:has(> a:target) {
  background-color: var(--md-code-hl-color);
}
"""
# what of MathJax's es5/ folder the site serves: the one component it loads, the fonts, and
# what that component loads on demand (TeX extensions, the menu's accessibility parts)
MATHJAX_PARTS = ("tex-mml-chtml.js", "input/tex/", "output/chtml/", "a11y/", "ui/", "sre/")

# Material's search skips the code pages: the words are the API pages' and the guides', and
# indexing the code took most of the build's time
NOT_SEARCHED = "---\nsearch:\n  exclude: true\n---\n\n"

_state = {}


def _root(config):
    return Path(config.docs_dir).resolve().parent


def _stages(config):
    learn = Path(config.docs_dir) / "learn"
    return sorted(p for p in learn.glob("*.py") if STAGE.match(p.name)) if learn.is_dir() else []


def _stage_title(path):
    """'Stage 1: scalar autograd' from the docstring's first sentence, else from the name."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (SyntaxError, UnicodeDecodeError):
        doc = ""
    first = doc.strip().split("\n")[0]
    head = re.split(r"\.(\s|$)", first)[0].strip() if first else ""
    if head:
        return head
    number, name = path.stem.split("_", 1)
    return f"Stage {int(number)}: {name.replace('_', ' ')}"


def _nav_title(path):
    """The title's head for the nav: 'Stage 4: convolution as loops' of 'Stage 4: convolution as
    loops, with stride and padding, ...'."""
    title = _stage_title(path)
    prefix, sep, rest = title.partition(": ")
    return prefix + sep + re.split(r", |: ", rest)[0] if sep else title


def on_config(config):
    # The Learn section: learn/index.md, then each stage's page.
    stages = [f"learn/{p.stem}.md" for p in _stages(config)]
    for item in config.nav or []:
        if isinstance(item, dict) and "Learn" in item:
            section = item["Learn"]
            listed = {v if isinstance(v, str) else next(iter(v.values())) for v in section}
            section.extend({_nav_title(Path(config.docs_dir) / "learn" / (s[6:-3] + ".py")): s}
                           for s in stages if s not in listed)
    return config


def _fence(text):
    """A backtick fence longer than any run of backticks that starts a line of text."""
    runs = [len(m.group(1)) for m in re.finditer(r"^\s*(`+)", text, re.M)]
    return "`" * max(3, max(runs, default=0) + 1)


def _language(path):
    return {".py": "python", ".cu": "cuda", ".md": "markdown", ".yml": "yaml", ".yaml": "yaml",
            ".toml": "toml", ".json": "json", ".sh": "bash", ".cfg": "ini", ".txt": "text",
            ".dot": "text"}.get(path.suffix, "bash" if path.name == "run" else "text")


def _read_text(path):
    if path.stat().st_size > TEXT_SIZE:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def _code_block(text, path, start=1):
    fence = _fence(text)
    body = text if text.endswith("\n") else text + "\n"
    return f'{fence}{_language(path)} linenums="{start}"\n{body}{fence}\n'


def _source_page(root, rel):
    """The Markdown of the page that shows the file rel (a path from the repository root)."""
    path = root / rel
    text = _read_text(path)
    up = posixpath.dirname(rel)
    parts = [NOT_SEARCHED, f"# `{rel}`\n",
             f"In the folder [`{up}/`](index.md)." if up else "",
             "\n\n",
             _code_block(text, path)]
    return "".join(parts)


def _listing_page(root, rel, wanted):
    """The Markdown of the page that lists the folder rel, each entry linked to its page."""
    lines = [NOT_SEARCHED + f"# `{rel}/`\n"]
    if posixpath.dirname(rel):
        lines.append(f"In the folder [`{posixpath.dirname(rel)}/`](../index.md).\n")
    lines.append("")
    for entry in sorted((root / rel).iterdir(), key=lambda p: (not p.is_dir(), p.name)):
        name = entry.name
        sub = f"{rel}/{name}"
        if entry.is_dir() and sub in wanted:
            lines.append(f"- [`{name}/`]({name}/index.md)")
        elif sub in wanted:
            lines.append(f"- [`{name}`]({name}.md)" if wanted[sub] == "text"
                         else f"- [`{name}`]({name})")
    return "\n".join(lines) + "\n"


def _outside_targets(config, files):
    """Every repository path that a page links out of docs/: {rel path: 'dir' or 'file'}."""
    docs = Path(config.docs_dir).resolve()
    root = docs.parent
    found = {}
    for f in files.documentation_pages():
        if f.abs_src_path is None:
            continue
        here = Path(f.abs_src_path).resolve().parent
        for target in _link_targets(Path(f.abs_src_path).read_text(encoding="utf-8")):
            path = target.split("#")[0]
            if not path or "://" in path or path.startswith(("/", "mailto:")):
                continue
            full = Path(os.path.normpath(here / path))
            if docs in full.parents or full == docs or root not in full.parents:
                continue
            if full.is_dir() or full.is_file():
                found[full.relative_to(root).as_posix()] = "dir" if full.is_dir() else "file"
    return found


def _link_targets(markdown):
    for line in _prose_lines(markdown):
        for m in LINK.finditer(line):
            yield m.group(2).strip("<>")
        for m in REFDEF.finditer(line):
            yield m.group(2)


def _marked_lines(markdown):
    """(line, True where it is prose: outside fenced code blocks) for each line of markdown."""
    fence = None
    for line in markdown.split("\n"):
        m = FENCE.match(line)
        opens = fence is None and m
        closes = (fence is not None and m and m.group(1)[0] == fence[0]
                  and len(m.group(1)) >= len(fence))
        yield line, fence is None and not opens
        if opens:
            fence = m.group(1)
        elif closes:
            fence = None


def _prose_lines(markdown):
    """The lines of markdown outside fenced code blocks."""
    return (line for line, prose in _marked_lines(markdown) if prose)


def _wanted(root, targets):
    """{rel: 'text' | 'binary' | 'dir'}: the linked files, the linked folders and all under them."""
    wanted = {}

    def add_file(rel):
        wanted[rel] = "text" if _read_text(root / rel) is not None else "binary"

    for rel, kind in targets.items():
        if kind == "file":
            add_file(rel)
            continue
        wanted[rel] = "dir"
        for dirpath, dirnames, filenames in os.walk(root / rel):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP and not d.startswith(".")
                                 and not d.endswith(".egg-info"))
            base = Path(dirpath).relative_to(root).as_posix()
            wanted[base] = "dir"
            for name in filenames:
                if not name.startswith(".") and not name.endswith((".pyc", ".pyo")):
                    add_file(f"{base}/{name}")
    # every folder above a page lists it, up to the root of its tree
    for rel in list(wanted):
        parent = posixpath.dirname(rel)
        while parent:
            wanted.setdefault(parent, "dir")
            parent = posixpath.dirname(parent)
    return wanted


def _stage_page(path):
    """A stage's page: its docstring as prose, then the code after it, numbered as in the file."""
    text = path.read_text(encoding="utf-8")
    title = _stage_title(path)
    try:
        module = ast.parse(text)
    except SyntaxError:
        module = None
    doc, start = "", 1
    if module and module.body and isinstance(module.body[0], ast.Expr) \
            and isinstance(getattr(module.body[0], "value", None), ast.Constant) \
            and isinstance(module.body[0].value.value, str):
        doc = ast.get_docstring(module) or ""
        start = module.body[0].end_lineno + 1
    # the docstring's first sentence is the title; the rest is the introduction
    first, _, rest = doc.partition("\n")
    lead = re.split(r"\.(\s|$)", first, maxsplit=1)
    intro = ((lead[2] if len(lead) > 2 else "").strip() + "\n" + rest).strip()
    lines = text.split("\n")[start - 1:]
    while lines and not lines[0].strip():
        lines.pop(0)
        start += 1
    code = "\n".join(lines)
    run = f"python docs/learn/{path.name}"
    return (f"# {title}\n\n{intro}\n\n"
            f"Run it from the repository root: `{run}`. The file: "
            f"[`docs/learn/{path.name}`](../{SOURCE}/docs/learn/{path.name}.md)"
            " (the same code, docstring included).\n\n"
            + _code_block(code, path, start))


def on_files(files, config):
    root = _root(config)
    # the learn stages
    stages = _stages(config)
    for path in stages:
        files.append(File.generated(config, f"learn/{path.stem}.md", content=_stage_page(path)))
    # the source pages: what the pages link out of docs/, plus the learn stages' own files
    targets = _outside_targets(config, files)
    wanted = _wanted(root, targets)
    for path in stages:
        wanted[f"docs/learn/{path.name}"] = "text"
        wanted.setdefault("docs/learn", "dir")
        wanted.setdefault("docs", "dir")
    for rel, kind in sorted(wanted.items()):
        if kind == "dir":
            content = _listing_page(root, rel, wanted)
            files.append(File.generated(config, f"{SOURCE}/{rel}/index.md", content=content,
                                        inclusion=InclusionLevel.NOT_IN_NAV))
        elif kind == "text":
            files.append(File.generated(config, f"{SOURCE}/{rel}.md",
                                        content=_source_page(root, rel),
                                        inclusion=InclusionLevel.NOT_IN_NAV))
        else:
            files.append(File.generated(config, f"{SOURCE}/{rel}", abs_src_path=str(root / rel),
                                        inclusion=InclusionLevel.NOT_IN_NAV))
    _state["wanted"] = wanted
    _state["stages"] = {p.name for p in stages}
    # MathJax, from its wheel; its config; the source pages' line highlight
    files.append(File.generated(config, "assets/mathjax-config.js", content=MATHJAX_CONFIG))
    files.append(File.generated(config, "assets/source.css", content=SOURCE_CSS))
    _add_mathjax(files, config)
    if "assets/source.css" not in config.extra_css:
        config.extra_css.append("assets/source.css")
    return files


def _add_mathjax(files, config):
    try:
        import mathjax  # django-static-mathjax: MathJax's files as package data
    except ImportError:
        log.warning("MathJax is not installed (pip install -e \".[docs]\"): math will not render")
        return
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        log.warning(f"MathJax's tex-mml-chtml.js is not in {es5}: math will not render")
        return
    for dirpath, _, filenames in os.walk(es5):
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(es5).as_posix()
            if any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in MATHJAX_PARTS):
                files.append(File.generated(config, f"assets/mathjax/{rel}",
                                            abs_src_path=str(Path(dirpath) / name)))


def _line_count(root, rel):
    text = _read_text(root / rel)
    return None if text is None else len(text.splitlines())


def on_page_markdown(markdown, page, config, files):
    docs = Path(config.docs_dir).resolve()
    root = docs.parent
    if page.file.abs_src_path is None:  # a generated page: its links are made right
        return markdown
    here = Path(page.file.abs_src_path).resolve().parent
    page_dir = posixpath.dirname(page.file.src_uri)
    wanted = _state.get("wanted", {})

    def rewrite(target):
        bare = target.strip("<>")
        path, _, anchor = bare.partition("#")
        if not path or "://" in path or path.startswith(("/", "mailto:")):
            return target
        full = Path(os.path.normpath(here / path))
        if docs in full.parents or full == docs:
            if full.parent == docs / "learn" and full.name in _state.get("stages", ()):
                page_src = f"learn/{full.stem}.md"  # a stage: its page, not the bare .py
                suffix = f"#{anchor}" if anchor else ""
                return posixpath.relpath(page_src, page_dir or ".") + suffix
            return target  # MkDocs checks links within docs/ itself
        if root not in full.parents:
            log.warning(f"{page.file.src_uri}: the link '{bare}' leads out of the repository")
            return target
        rel = full.relative_to(root).as_posix()
        kind = wanted.get(rel)
        if kind is None:
            log.warning(f"{page.file.src_uri}: the link '{bare}' names "
                        f"{rel}, which is not in the repository")
            return target
        if kind == "dir":
            dest = f"{SOURCE}/{rel}/index.md"
        elif kind == "text":
            dest = f"{SOURCE}/{rel}.md"
        else:
            dest = f"{SOURCE}/{rel}"
        new_anchor = ""
        if anchor:
            m = LINES.match(anchor)
            count = _line_count(root, rel) if kind == "text" else None
            if not m or count is None:
                log.warning(f"{page.file.src_uri}: the link '{bare}': a source link's anchor is "
                            "#L<line> or #L<line>-L<line>, in a text file")
            else:
                first, last = int(m.group(1)), int(m.group(2) or m.group(1))
                if not 1 <= first <= last <= count:
                    log.warning(f"{page.file.src_uri}: the link '{bare}' names line(s) "
                                f"{anchor[1:]}, and {rel} has {count} lines")
                new_anchor = f"#__codelineno-0-{first}"
        return posixpath.relpath(dest, page_dir or ".") + new_anchor

    out = []
    for line, prose in _marked_lines(markdown):
        if prose:
            line = LINK.sub(lambda m: m.group(1) + rewrite(m.group(2)) + m.group(3), line)
            line = REFDEF.sub(lambda m: m.group(1) + rewrite(m.group(2)), line)
        out.append(line)
    return "\n".join(out)


def on_page_content(html, page, config, files):
    # The highlighter writes the code's line anchors (__codelineno-0-42) as HTML of its own,
    # which MkDocs does not look into for anchors: name them, so that MkDocs's check of links to
    # anchors (validation: anchors: warn) covers the links to lines too.
    if page.present_anchor_ids is not None:
        page.present_anchor_ids.update(re.findall(r'id="(__codelineno-\d+-\d+)"', html))
    return html


try:  # the griffe extension below: mkdocstrings loads it from this file (docs/mkdocs.yml)
    import griffe
except ImportError:  # pragma: no cover (griffe comes with mkdocstrings[python])
    griffe = None

if griffe is not None:
    class PlainTextDocstrings(griffe.Extension):
        """tinygan's docstrings are plain text that reads well as Markdown, but for one thing:
        ``y[i][j]`` reads in Markdown as a reference link to "j" (and mkdocstrings warns that
        it finds no such target). An escaped bracket, ``y[i]\\[j]``, shows as written."""

        def on_object(self, *, obj, **kwargs):
            if obj.docstring is not None:
                obj.docstring.value = re.sub(r"\]\[", r"]\\[", obj.docstring.value)

    class OpsNamespace(griffe.Extension):
        """tinygan.ops fills its namespace at run time, from each op family's ``__all__``
        (``globals().update(...)``), which griffe, reading the code, cannot follow: without this,
        ``tinygan.cat`` (tinygan.ops.cat) and the other ops imported at the top level vanish from
        the reference. This adds the same names to tinygan.ops, as aliases of the families'."""

        def on_package(self, *, pkg, **kwargs):
            if pkg.path != "tinygan" or "ops" not in pkg.members:
                return
            ops = pkg["ops"]
            names = []
            for family in list(ops.modules.values()):
                for name in family.exports or ():
                    name = str(name)
                    if name not in ops.members:
                        ops.set_member(name, griffe.Alias(name, f"{family.path}.{name}",
                                                          parent=ops))
                    names.append(name)
            ops.exports = names

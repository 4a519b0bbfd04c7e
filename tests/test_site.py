"""The docs site (docs/mkdocs.yml, docs/site.py, docs/hooks.py): the strict build passes and has
the pages it should; a broken link to the code fails it; every public name that the API
reference shows has a docstring. Needs the docs packages (the test extra brings them)."""
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")
pytest.importorskip("material")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Modules that the API reference leaves out on purpose: their public names are documented where
# they are re-exported (tinygan.tensor's and creation's at the top level, nn's submodules in
# tinygan.nn, ...) or they are a backend's insides. A new module must go on an API page or here.
NOT_ON_A_PAGE = {
    "tinygan.tensor", "tinygan.creation", "tinygan.inplace", "tinygan.convolution",
    "tinygan.schema", "tinygan.ops", "tinygan.optim.optimizer", "tinygan.optim.adam",
    "tinygan.optim.sgd", "tinygan.optim.ema", "tinygan.gan.recipes", "tinygan.utils",
    "tinygan.vision", "tinygan.backend.cpu", "tinygan.backend.cpu_kernels",
    "tinygan.backend.cpu_winograd", "tinygan.backend.cuda", "tinygan.backend.layout",
    "tinygan.backend.winograd", "tinygan.backend.reference",
} | {f"tinygan.nn.{m}" for m in ("activation", "container", "conv", "dropout", "linear", "loss",
                                 "module", "normalization", "pooling", "sparse", "upsampling")}
# The API pages of tinygan.nn, nn.utils, ops and gan leave out the forward, backward and
# extra_repr of modules and Functions (the class's or the family's docstring says what they do).
PROTOCOL = {"forward", "backward", "extra_repr"}


def _build(site_dir, *args):
    return subprocess.run([sys.executable, str(DOCS / "site.py"), "build", "--site-dir",
                           str(site_dir), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built strict (any warning fails it) into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    run = _build(out)
    assert run.returncode == 0, f"the strict build failed:\n{run.stdout}\n{run.stderr}"
    return out


def _page(site, path):
    page = site / path / "index.html" if not path.endswith(".html") else site / path
    assert page.is_file(), f"{path}: no such page in the site"
    return page.read_text(encoding="utf-8")


def test_the_strict_build_has_the_guides_the_learn_stages_and_math(site):
    assert "A guided tour" in _page(site, "tour")
    for name in ("tour-part2", "glossary", "recipes", "extending", "pytorch", "performance",
                 "gpu", "distributed", "learn"):
        _page(site, name)
    stages = sorted(p.stem for p in (DOCS / "learn").glob("[0-9][0-9]_*.py"))
    assert stages, "no stage docs/learn/NN_*.py"
    for stem in stages:  # each stage is a page with its code, and in the nav
        page = _page(site, f"learn/{stem}")
        assert 'class="highlight' in page and "Run it from the repository root" in page
    home = _page(site, "")
    for stem in stages:
        assert f"learn/{stem}/" in home, f"the nav lacks the stage {stem}"
    # math is marked for MathJax, which the site serves itself (no network)
    assert 'class="arithmatex"' in home
    assert "assets/mathjax/tex-mml-chtml.js" in home
    assert (site / "assets/mathjax/tex-mml-chtml.js").is_file()
    assert (site / "assets/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff").is_file()
    assert "fonts.googleapis.com" not in home


def test_source_links_go_to_pages_of_the_code_with_line_anchors(site):
    tour = _page(site, "tour")
    assert 'href="../source/tinygan/tensor.py/' in tour
    source = _page(site, "source/tinygan/tensor.py")
    assert 'id="__codelineno-0-1"' in source and '<span class="nc">Tensor</span>' in source
    assert "tinygan/</code>" in _page(site, "source/tinygan")  # a folder lists its files
    # the links to lines (#L42 in the Markdown, as GitHub reads it) land on the line's anchor
    for md in DOCS.glob("*.md"):
        for path, line in re.findall(r"\]\(\.\./([^)#\s]+)#L(\d+)", md.read_text()):
            page = _page(site, f"source/{path}")
            assert f'id="__codelineno-0-{line}"' in page, f"{md.name}: {path}#L{line}"


def test_the_api_reference_documents_the_public_names(site):
    top = _page(site, "api/tinygan")
    for anchor in ("tinygan.Tensor", "tinygan.Tensor.backward", "tinygan.no_grad",
                   "tinygan.zeros", "tinygan.manual_seed", "tinygan.save"):
        assert f'id="{anchor}"' in top, anchor
    assert "Accumulate d(self)/d(leaf)" in top  # Tensor.backward's docstring
    for page, anchor in [("api/nn", "tinygan.nn.Conv2d"), ("api/nn", "tinygan.nn.Module"),
                         ("api/nn.functional", "tinygan.nn.functional.conv2d"),
                         ("api/optim", "tinygan.optim.Adam"),
                         ("api/optim.lr_scheduler", "tinygan.optim.lr_scheduler.StepLR"),
                         ("api/utils.data", "tinygan.utils.data.DataLoader"),
                         ("api/gan", "tinygan.gan.train_step")]:
        assert f'id="{anchor}"' in _page(site, page), anchor


def test_a_broken_link_to_the_code_fails_the_strict_build(tmp_path):
    """A missing file, and a line past the end of a file, are warnings: the strict build stops."""
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "a.py").write_text("x = 1\ny = 2\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: t
        docs_dir: docs
        site_dir: site
        exclude_docs: /mkdocs.yml
        hooks: [{DOCS / 'hooks.py'}]
        markdown_extensions: [pymdownx.highlight: {{anchor_linenums: true}}, pymdownx.superfences]
        validation: {{anchors: warn}}
    """))
    script = textwrap.dedent("""\
        import logging, sys
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
        from mkdocs.exceptions import Abort
        docs = sys.argv[1]
        config = load_config(config_file=docs + "/mkdocs.yml", config_file_path=docs, strict=True)
        try:
            build(config)
        except Abort as e:
            print("ABORTED", e)
        """)

    def build(markdown):
        (repo / "docs" / "index.md").write_text(markdown)
        run = subprocess.run([sys.executable, "-c", script, str(repo / "docs")],
                             capture_output=True, text=True, timeout=300)
        return run.stdout + run.stderr

    good = build("# t\n\n[a.py](../pkg/a.py), [line 2](../pkg/a.py#L2), [pkg](../pkg/)\n")
    assert "ABORTED" not in good, good
    html = (repo / "site" / "index.html").read_text()
    assert 'href="source/pkg/a.py/#__codelineno-0-2"' in html
    assert 'href="source/pkg/"' in html
    missing = build("# t\n\n[b.py](../pkg/b.py)\n")
    assert "ABORTED" in missing and "pkg/b.py, which is not in the repository" in missing
    past_the_end = build("# t\n\n[line 9](../pkg/a.py#L9)\n")
    assert "ABORTED" in past_the_end and "pkg/a.py has 2 lines" in past_the_end


def _api_modules():
    found = []
    for md in sorted((DOCS / "api").glob("*.md")):
        found += re.findall(r"^::: ([\w.]+)", md.read_text(), re.M)
    return found


def test_every_module_is_on_an_api_page_or_left_out_on_purpose():
    on_pages = set(_api_modules())
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for p in (ROOT / "tinygan").rglob("*.py") if "__pycache__" not in p.parts}
    public = {m for m in modules if not any(part.startswith("_") for part in m.split("."))}
    assert not public - on_pages - NOT_ON_A_PAGE, (
        "modules on no API page (add a ::: line to docs/api/, or to NOT_ON_A_PAGE): "
        f"{sorted(public - on_pages - NOT_ON_A_PAGE)}")
    assert not on_pages & NOT_ON_A_PAGE


def _undocumented():
    """Every public name that the API pages show without a docstring: modules, their public
    classes and functions, and the public methods of those classes (a method without one of its
    own shows its base class's, as on the pages)."""
    import griffe
    package = griffe.load("tinygan", search_paths=[str(ROOT)], resolve_aliases=True,
                          resolve_external=False,
                          extensions=griffe.load_extensions(
                              "griffe_inherited_docstrings", f"{DOCS / 'hooks.py'}:OpsNamespace"))
    missing = set()

    def has_doc(obj):
        return bool(obj.docstring and obj.docstring.value.strip())

    def protocol(cls, name):  # forward/backward/extra_repr of a Module or a Function
        bases = {b.canonical_path for b in cls.mro()} | {cls.canonical_path}
        return name in PROTOCOL and bases & {"tinygan.nn.module.Module", "tinygan.tensor.Function"}

    for ident in _api_modules():
        module = package if ident == "tinygan" else package[ident.removeprefix("tinygan.")]
        if not has_doc(module):
            missing.add(ident)
        for name, member in module.members.items():
            if name.startswith("_") or not member.is_public:
                continue
            target = member.final_target if member.is_alias else member
            if not (target.is_class or target.is_function):
                continue
            if not has_doc(target):
                missing.add(target.path)
            if target.is_class:
                for mname, method in target.members.items():
                    method = method.final_target if method.is_alias else method
                    if (not mname.startswith("_") and method.is_function
                            and not protocol(target, mname) and not has_doc(method)):
                        missing.add(method.path)
    return missing


def test_every_public_name_on_the_api_pages_has_a_docstring():
    missing = _undocumented()
    assert not missing, (f"{len(missing)} public names without a docstring:\n  "
                         + "\n  ".join(sorted(missing)))

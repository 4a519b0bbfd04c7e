"""Build or serve the docs site: ``python docs/site.py serve`` or ``python docs/site.py build``.

The site is MkDocs (Material theme, mkdocstrings for the API reference) over the Markdown in
docs/; its config is docs/mkdocs.yml (``pip install -e ".[docs]"`` brings the packages). The
repository's top level is fixed, so the config sits in docs/, the folder MkDocs reads the pages
from; a plain ``mkdocs -f docs/mkdocs.yml`` refuses a config file inside its docs_dir (and
resolves its paths from docs/). This script loads the file and hands MkDocs the repository root
as the config's folder (config_file_path names docs/ itself, whose folder is the root; serve
watches that path, and docs/ is watched anyway), so the config's paths read from the root and
the pages are docs/.

    python docs/site.py serve              # http://127.0.0.1:8000/, rebuilt on each change
    python docs/site.py build              # strict, into build/site/ (open build/site/index.html)
    python docs/site.py build --site-dir D # somewhere else (tests/test_site.py does)
"""
import argparse
import logging
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
CONFIG = DOCS / "mkdocs.yml"
BASE = str(DOCS)  # os.path.dirname of this is the repository root: the config's paths start there


def load(**overrides):
    """docs/mkdocs.yml as MkDocs's config, its paths from the repository root."""
    from mkdocs.config import load_config
    return load_config(config_file=str(CONFIG), config_file_path=BASE, **overrides)


def build(site_dir=None, strict=True):
    """Build the site into site_dir (build/site/ by default); strict: any warning fails it."""
    from mkdocs.commands.build import build as mkdocs_build
    config = load(site_dir=site_dir, strict=strict)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        mkdocs_build(config)
    finally:
        config.plugins.on_shutdown()
    return Path(config.site_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="serve the site, rebuilding it on each change")
    serve_p.add_argument("-a", "--dev-addr", default=None, metavar="IP:PORT",
                         help="where to serve it (default 127.0.0.1:8000)")
    serve_p.add_argument("--strict", action="store_true", help="stop on the first warning")
    build_p = sub.add_parser("build", help="build the site, strict (any warning fails it)")
    build_p.add_argument("-d", "--site-dir", default=None, help="where (default build/site/)")
    build_p.add_argument("--no-strict", action="store_true",
                         help="build even with warnings (broken links, missing pages)")
    args = parser.parse_args(argv)

    # MkDocs's own command line sets up its log this way: warnings and errors as they come.
    from mkdocs.__main__ import ColorFormatter
    handler = logging.StreamHandler()
    handler.setFormatter(ColorFormatter())
    log = logging.getLogger("mkdocs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    from mkdocs.exceptions import MkDocsException
    try:
        if args.command == "serve":
            from mkdocs.commands.serve import serve
            # Not strict by default: a page being written still shows, its warnings printed.
            serve(config_file=str(CONFIG), config_file_path=BASE, dev_addr=args.dev_addr,
                  strict=args.strict or False)
        else:
            site = build(args.site_dir, strict=not args.no_strict)
            print(f"built {site / 'index.html'}")
    except MkDocsException as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

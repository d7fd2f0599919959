"""Turn nbdev's processed notebooks (_proc/) into a MkDocs source tree, for the offline docs site.

`nbdev_docs` needs Quarto, which these machines cannot install, so `.ci/docs` runs nbdev's own notebook
processing (the step `nbdev_proc_nbs` performs before Quarto: show_doc API outputs, hidden/export cells removed,
`# Title` + `> summary` moved into front matter) and this script adapts the result to MkDocs + mkdocs-jupyter:

- the Quarto front matter becomes a `# Title` + `> summary` markdown cell again;
- `#| echo: false` + `#| output: asis` cells (the show_doc API docs) become markdown cells, so the API entries are
  real headings in the page and its table of contents; other `#| echo: false` cells keep only their outputs;
  `#|` directive lines are stripped from the code that is shown;
- nbdev's API links into the Quarto site (settings.ini doc_host, e.g. .../data.html#key) become links into this site;
- `paper/figures/*.png` (written by the experiment notebooks) are copied in and shown on a "Paper figures" page;
- the nav is written in the story order: Home (index), 00_data ... 07_cli, Experiments, Paper figures.

Usage: python .ci/docs_stage.py [--proc _proc] [--out _proc/_mkdocs] [--config _proc/_mkdocs.yml]
       python .ci/docs_stage.py --lint             # cells that mix imports with code (they break docs processing)
       python .ci/docs_stage.py --quarto-sidebar   # (re)write nbs/sidebar.yml in the same order, for Quarto users
"""
import argparse, html, json, re, shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FRONT = re.compile(r"^\s*---\s*\n(.*?)\n---\s*$", re.S)
DIRECTIVE = re.compile(r"^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")


def nb_files(root: Path):
    "Notebooks under `root` in story order: index first, then numbered top-level ones, then folders."
    files = [p for p in root.rglob("*.ipynb")
             if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)]
    def key(p):
        rel = p.relative_to(root)
        return (len(rel.parts) > 1, rel.parts[:-1], rel.name != "index.ipynb", rel.name)
    return sorted(files, key=key)


def directives(src: str):
    "Leading `#| key: value` lines of a cell -> (dict, remaining source)."
    lines, d = src.splitlines(), {}
    while lines and DIRECTIVE.match(lines[0]):
        k, v = DIRECTIVE.match(lines[0]).groups()
        d[k] = v.strip().lower() if v else "true"
        lines.pop(0)
    return d, "\n".join(lines)


def md_cell(text): return {"cell_type": "markdown", "metadata": {}, "source": text}


def unlink_code_blocks(md: str) -> str:
    "nbdev links `names` even inside code fences (docments comments of a signature); there they would show as raw markdown."
    out, fence = [], False
    for line in md.split("\n"):
        if line.lstrip().startswith(("```", "~~~")): fence = not fence
        elif fence: line = re.sub(r"\[(`[^`]+`)\]\([^)\s]+\)", r"\1", line)
        out.append(line)
    return "\n".join(out)


def html_code_in_headings(md: str) -> str:
    "`code` -> <code>code</code> in markdown headings: mkdocs-jupyter drops backtick spans from the TOC, which then links to ids that do not exist."
    out, fence = [], False
    for line in md.split("\n"):
        if line.lstrip().startswith(("```", "~~~")): fence = not fence
        if not fence and re.match(r"^#{1,6}\s", line):
            line = re.sub(r"`([^`]+)`", lambda m: f"<code>{html.escape(m.group(1))}</code>", line)
        out.append(line)
    return "\n".join(out)


def doc_base():
    "The Quarto site's URL prefix (settings.ini doc_host + doc_baseurl) that nbdev writes into its API links."
    import configparser
    c = configparser.ConfigParser(); c.read(ROOT / "settings.ini")
    d = c["DEFAULT"]
    return d.get("doc_host", "").rstrip("/") + "/" + d.get("doc_baseurl", "").strip("/")


def quarto_pages(proc: Path):
    "Quarto output file (`output-file` of the front matter, e.g. api.html) -> staged page path (04_api)."
    out = {}
    for p in nb_files(proc):
        nb = json.loads(p.read_text())
        for c in nb["cells"][:1]:
            s = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            m = FRONT.match(s) if c["cell_type"] == "raw" else None
            fm = (yaml.safe_load(m.group(1)) or {}) if m else {}
            rel = p.relative_to(proc).with_suffix("")
            out[fm.get("output-file", rel.name + ".html")] = rel.as_posix()
    return out


def page_headings(proc: Path):
    "Staged page path -> lower-cased heading texts (the API entries' anchors) of its notebook."
    out = {}
    for p in nb_files(proc):
        nb = json.loads(p.read_text()); hs = set()
        for c in nb["cells"]:
            texts = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]]
            texts += ["".join(o["data"]["text/markdown"]) if isinstance(o["data"]["text/markdown"], list) else o["data"]["text/markdown"]
                      for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
            for t in texts:
                hs |= {m.strip().strip("`").lower() for m in re.findall(r"^#{1,6}\s+(.+?)\s*$", t, re.M)}
        out[p.relative_to(proc).with_suffix("").as_posix()] = hs
    return out


def relink(text: str, base: str, pages: dict, depth: int, headings: dict = {}) -> str:
    "nbdev's links into the (unbuilt) Quarto site -> relative links into this site; `depth` = folder depth of the page."
    def sub(m):
        page = pages.get(m.group(1))
        if page is None: return m.group(0)
        name = (m.group(2) or "#")[1:]
        # an entry is headed by its own name (methods too); fall back to the class, then to the page itself
        cands = [name.rsplit(".", 1)[-1], name.split(".")[0]] if name else []
        anchor = next((f"#{c}" for c in cands if c.lower() in headings.get(page, {c.lower()})), "")
        return "../" * (depth + 1) + page + "/" + anchor.lower()
    return re.sub(re.escape(base) + r"/([\w.-]+\.html)(#[\w.-]+)?", sub, text)


def stage_notebook(src: Path, dst: Path, link=lambda t: t):
    "Adapt one processed notebook; returns its page title."
    nb = json.loads(link(src.read_text()))
    cells, title = [], None
    for c in nb["cells"]:
        s = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if c["cell_type"] == "raw" and FRONT.match(s):
            fm = yaml.safe_load(FRONT.match(s).group(1)) or {}
            title = fm.get("title")
            head = f"# {title}" if title else ""
            if fm.get("description"): head += f"\n\n> {fm['description']}"
            if head: cells.append(md_cell(head.strip()))
            continue
        if c["cell_type"] == "markdown" and "THIS FILE WAS AUTOGENERATED" in s: continue
        if c["cell_type"] != "code":
            cells.append(c); continue
        d, body = directives(s)
        if d.get("include") == "false" or "hide" in d: continue
        if d.get("echo") == "false":
            outs = c.get("outputs", [])
            md = ["".join(o["data"]["text/markdown"]) if isinstance(o["data"]["text/markdown"], list)
                  else o["data"]["text/markdown"] for o in outs if "text/markdown" in o.get("data", {})]
            if md and len(md) == len(outs):
                cells.append(md_cell("\n\n".join(md))); continue
            c = dict(c, metadata=dict(c.get("metadata", {}), tags=["remove_input"]))
        cells.append(dict(c, source=body))
    for i, c in enumerate(cells):   # unique cell ids (nbformat 4.5) for the new and the copied cells
        if c["cell_type"] == "markdown":
            c["source"] = unlink_code_blocks(html_code_in_headings(
                "".join(c["source"]) if isinstance(c["source"], list) else c["source"]))
        cells[i] = dict(c, id=f"cell-{i}")
    nb["cells"] = cells
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, nb.get("nbformat_minor", 5))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb, indent=1))
    return title or src.stem


def figures_page(out: Path):
    "Copy paper/figures/*.png into the site and write a page showing them."
    figs = sorted((ROOT / "paper" / "figures").glob("*.png"))
    (out / "figures").mkdir(parents=True, exist_ok=True)
    lines = ["# Paper figures", "",
             "The figures of the paper, exactly as the experiment notebooks wrote them into `paper/figures/`",
             "(their `#| slow` cells; rerun them to update these and the PDF).", ""]
    for f in figs:
        shutil.copy2(f, out / "figures" / f.name)
        lines += [f"## {f.stem}", "", f"![{f.stem}](figures/{f.name})", ""]
    if not figs:
        lines += ["*No figures yet: run the `slow` cells of the notebooks in `nbs/experiments/`.*", ""]
    (out / "paper_figures.md").write_text("\n".join(lines))
    return len(figs)


def nav_entries(root: Path, titles: dict):
    "MkDocs nav in story order: top-level pages, then one section per folder."
    nav, sections = [], {}
    for p in nb_files(root):
        rel = p.relative_to(root)
        t = "Home" if rel.as_posix() == "index.ipynb" else titles.get(rel.as_posix(), rel.stem)
        if len(rel.parts) == 1: nav.append({t: rel.as_posix()})
        else: sections.setdefault(rel.parts[0].replace("_", " ").capitalize(), []).append({t: rel.as_posix()})
    nav += [{k: v} for k, v in sections.items()]
    return nav


def quarto_sidebar(nbs: Path):
    "The same order for Quarto users (nbdev_docs): nbs/sidebar.yml (keep settings.ini custom_sidebar = True)."
    contents, sections = [], {}
    for p in nb_files(nbs):
        rel = p.relative_to(nbs)
        if len(rel.parts) == 1: contents.append(rel.as_posix())
        else: sections.setdefault(rel.parts[0], []).append(rel.as_posix())
    contents += [{"section": k, "contents": v} for k, v in sections.items()]
    (nbs / "sidebar.yml").write_text(yaml.safe_dump({"website": {"sidebar": {"contents": contents}}}, sort_keys=False))
    print(f"wrote {nbs/'sidebar.yml'}")


def _names(trees):
    """Names a cell loads when it runs that it does not define, and the names it defines (assignments, defs,
    classes, imports, arguments, `except ... as e`). Function bodies count only if the cell itself uses the function."""
    import ast
    def scan(nodes, loads, defs, bodies):
        for n in nodes:
            if isinstance(n, ast.Name): (loads if isinstance(n.ctx, ast.Load) else defs).add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defs.add(n.name); bl, bd = set(), set()
                scan(n.decorator_list, loads, defs, bodies)
                scan(list(ast.iter_child_nodes(n.args)) + n.body, bl, bd, bodies)
                bodies[n.name] = bl - bd
                continue
            elif isinstance(n, ast.arg): defs.add(n.arg)
            elif isinstance(n, ast.ExceptHandler) and n.name: defs.add(n.name)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                for al in n.names:
                    if al.name != "*": defs.add(al.asname or al.name.split(".")[0]); continue
                    try:
                        m = __import__(n.module, fromlist=["*"]); defs.update(getattr(m, "__all__", None) or dir(m))
                    except Exception: defs.add("*")
            if isinstance(n, ast.ClassDef): defs.add(n.name)
            scan(list(ast.iter_child_nodes(n)), loads, defs, bodies)
    loads, defs, bodies = set(), set(), {}
    scan(trees, loads, defs, bodies)
    used, todo = set(), [f for f in bodies if f in loads]
    while todo:                       # functions the cell calls (directly or through each other)
        f = todo.pop()
        if f in used: continue
        used.add(f); loads |= bodies[f]; todo += [g for g in bodies if g in bodies[f]]
    return loads - defs, defs


def lint(nbs: Path):
    "Cells nbdev's docs processing runs that use names only earlier, unexecuted cells define (imports mixed with code)."
    import builtins, warnings
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    bad = []
    for p in nb_files(nbs):
        known = set(dir(builtins)) | {"show_doc", "get_ipython", "display"}
        for c in NBProcessor(p, procs=[]).nb.cells:   # cells with parsed directives, as nbdev sees them
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore"); run = _do_eval(c)
                trees = c.parsed_() if run else None
            except SyntaxError: continue
            if not trees: continue
            free, defs = _names(trees)
            missing = sorted(free - known) if "*" not in known else []
            known |= defs
            if missing: bad.append(f"{p.relative_to(ROOT)} cell {c.idx_} ({c.source.splitlines()[0][:50]!r}) uses {missing}")
    for b in bad: print("  docs processing runs this cell without the cells before it:", b)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proc", default=str(ROOT / "_proc"))
    ap.add_argument("--out", default=str(ROOT / "_proc" / "_mkdocs"))
    ap.add_argument("--config", default=str(ROOT / "_proc" / "_mkdocs.yml"))
    ap.add_argument("--site", default=str(ROOT / "site"))
    ap.add_argument("--quarto-sidebar", action="store_true")
    ap.add_argument("--lint", action="store_true", help="list cells that break nbdev's docs processing")
    a = ap.parse_args()
    if a.quarto_sidebar: return quarto_sidebar(ROOT / "nbs")
    if a.lint:
        if lint(ROOT / "nbs"):
            print("These cells run during docs processing without the notebook's earlier cells: move the imports into "
                  "an imports cell (nbdev FAQ: keep imports in cells of their own).")
            raise SystemExit(1)
        return print("lint: no cell that nbdev's docs processing would run out of context")
    proc, out = Path(a.proc), Path(a.out)
    if not any(nb_files(proc)): raise SystemExit(f"no processed notebooks in {proc}: run nbdev's proc_nbs first")
    shutil.rmtree(out, ignore_errors=True)
    titles, base, pages, heads = {}, doc_base(), quarto_pages(proc), page_headings(proc)
    for p in nb_files(proc):
        rel = p.relative_to(proc)
        link = lambda t, d=len(rel.parts) - 1: relink(t, base, pages, d, heads)
        titles[rel.as_posix()] = stage_notebook(p, out / rel, link)
    n_figs = figures_page(out)
    cfg = yaml.safe_load((ROOT / ".ci" / "mkdocs.yml").read_text())
    cfg.update(docs_dir=str(out), site_dir=str(Path(a.site).resolve()),
               nav=nav_entries(out, titles) + [{"Paper figures": "paper_figures.md"}])
    Path(a.config).write_text(yaml.safe_dump(cfg, sort_keys=False))
    print(f"staged {len(titles)} notebooks and {n_figs} paper figures into {out}; config {a.config}")
    for e in cfg["nav"]: print("  nav:", e)


if __name__ == "__main__": main()

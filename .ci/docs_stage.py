"""Turn nbdev's processed notebooks (_proc/) into a MkDocs source tree, for the offline docs site.

`nbdev_docs` needs Quarto, which these machines cannot install, so `.ci/docs` runs nbdev's own notebook
processing (the step `nbdev_proc_nbs` performs before Quarto: show_doc API outputs, hidden/export cells removed,
`# Title` + `> summary` moved into front matter) and this script adapts the result to MkDocs + mkdocs-jupyter:

- the Quarto front matter becomes a `# Title` + `> summary` markdown cell again;
- API entries are rendered by `table_renderer` (`.ci/docs` installs it before nbdev's processing runs the show_doc
  cells): a signature line `name(a, b=1, **kw) -> T` (no docments comments, `*args`/`**kwargs` as Python writes them),
  the docstring, and a Parameter | Type | Default | Description table from the docments comments (or the numpy
  docstring's Parameters), as scvi-tools/squidpy pages show them; public methods and properties of a documented class
  that no page documents get their own entry under it (`member_entries`, as autodoc's `:members:`);
- `#| echo: false` + `#| output: asis` cells (the show_doc API docs) become markdown cells, so the API entries are
  real headings in the page and its table of contents; other `#| echo: false` cells keep only their outputs;
  `#|` directive lines are stripped from the code that is shown;
- nbdev's API links into the Quarto site (settings.ini doc_host, e.g. .../data.html#key) become links into this site;
- Pandoc/Quarto link attributes, which MkDocs' notebook renderer does not know (nbdev's show_doc writes
  `[source](url){target="_blank" style="float:right; font-size:smaller"}`), become HTML links `<a href target style>`
  instead of showing as literal `{target=...}` text;
- LaTeX citations in markdown (`\cite{key}`, `\citep`, `\citet`) become "(Author et al., year)" from paper/refs.bib;
- MathJax (a pinned npm bundle from `bash .ci/mathjax`, never a CDN) and its configuration are copied into the site
  and loaded on every page, so `$...$` / `\(...\)` math in markdown renders;
- a small stylesheet keeps markdown tables (the parameter tables) compact;
- `paper/figures/*.png` (written by the experiment notebooks) are copied in and shown on a "Paper figures" page;
- the nav is written in the story order: Home (index), 00_data ... 07_cli, Experiments, Paper figures.

Usage: python .ci/docs_stage.py [--proc _proc] [--out _proc/_mkdocs] [--config _proc/_mkdocs.yml] [--mathjax JS]
       python .ci/docs_stage.py --lint             # the cells nbdev's docs processing warns about or runs out of context
       python .ci/docs_stage.py --quarto-sidebar   # (re)write nbs/sidebar.yml in the same order, for Quarto users
"""
import argparse, html, inspect, json, re, shutil
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


def _outside_code(md: str, fix, inline=True) -> str:
    "Apply `fix` to the markdown outside fenced code blocks and (`inline`) outside `inline code` spans."
    out, fence, block = [], False, []
    def flush():
        if block:
            parts = re.split(r"(`+[^`]*?`+)" if inline else r"(?!)", "\n".join(block))   # keep inline code spans
            out.append("".join(p if i % 2 else fix(p) for i, p in enumerate(parts))); block.clear()
    for line in md.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            flush(); fence = not fence; out.append(line)
        elif fence: out.append(line)
        else: block.append(line)
    flush()
    return "\n".join(out)


ATTR_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)\{([^{}\n]*)\}")
ATTR = re.compile(r"""([\w-]+)=(?:"([^"]*)"|'([^']*)'|(\S+))|\.([\w-]+)|#([\w-]+)""")


def attr_links(md: str) -> str:
    "`[text](url){target=\"_blank\" style=\"...\" .cls #id}` (Pandoc link attributes) -> `<a href=url target style class id>text</a>`."
    def sub(m):
        text, url, attrs = m.groups()
        kv, classes = {"href": url}, []
        for a in ATTR.finditer(attrs):
            if a.group(1): kv[a.group(1)] = next(g for g in a.group(2, 3, 4) if g is not None)
            elif a.group(5): classes.append(a.group(5))
            elif a.group(6): kv["id"] = a.group(6)
        if classes: kv["class"] = " ".join(classes)
        if kv.get("target") == "_blank": kv.setdefault("rel", "noopener")
        attrs_html = " ".join(f'{k}="{html.escape(v)}"' for k, v in kv.items())
        text_html = re.sub(r"`([^`]+)`", lambda c: f"<code>{html.escape(c.group(1))}</code>", html.escape(text, quote=False))
        return f"<a {attrs_html}>{text_html}</a>"
    return _outside_code(md, lambda t: ATTR_LINK.sub(sub, t), inline=False)   # link texts may hold `code`


ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "c": "\u0327", "v": "\u030c", "=": "\u0304"}
LETTERS = {"aa": "å", "AA": "Å", "o": "ø", "O": "Ø", "ss": "ß", "ae": "æ", "AE": "Æ", "l": "ł", "L": "Ł", "i": "ı"}


def delatex(t: str) -> str:
    "BibTeX name/year text -> plain Unicode: {\\aa} -> å, {\\'e} -> é, braces dropped."
    import unicodedata
    t = re.sub(r"\\(aa|AA|ss|ae|AE|o|O|l|L|i)\b\s?", lambda m: LETTERS[m.group(1)], t)
    t = re.sub(r"\\([\'`\"^~=]|[cv](?=[\s{]))\s*\{?(\w)\}?", lambda m: m.group(2) + ACCENTS[m.group(1)], t)
    return unicodedata.normalize("NFC", t.replace("{", "").replace("}", "")).strip()


def bib_entries(path: Path = ROOT / "paper" / "refs.bib"):
    "BibTeX key -> short citation 'Lein et al., 2007' (first author's surname, year), from a .bib file."
    out = {}
    if not path.is_file(): return out
    for m in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)(?=^@|\Z)", path.read_text(encoding="utf-8"), re.S | re.M):
        key, body = m.groups()
        field = lambda f: (re.search(rf"\b{f}\s*=\s*[{{\"](.*?)[}}\"]\s*,?\s*$", body, re.M | re.I) or [None, ""])[1]
        author = field("author").strip()
        if author.startswith("{") and author.endswith("}"): author = author.replace(" ", "\x00")   # {{10x Genomics}}: one name
        authors = [a.strip() for a in re.split(r"\s+and\s+", author) if a.strip()]
        if not authors: continue
        first = authors[0].split(",")[0].strip() if "," in authors[0] else authors[0].split()[-1].replace("\x00", " ")
        second = authors[1].split(",")[0].strip() if len(authors) > 1 else ""
        who = (delatex(first) if len(authors) == 1 else f"{delatex(first)} and {delatex(second)}"
               if len(authors) == 2 and second != "others" else f"{delatex(first)} et al.")
        year = delatex(field("year"))
        out[key] = f"{who}, {year}" if year else who
    return out


def citations(md: str, bib: dict) -> str:
    "LaTeX `\\cite{a,b}` (also citep/citet, an optional `~` before it) -> '(A et al., 2007; B, 2010)'; unknown keys stay raw."
    def sub(m):
        keys = [k.strip() for k in m.group(2).split(",")]
        if not all(k in bib for k in keys): return m.group(0)
        return m.group(1).replace("~", " ") + "(" + "; ".join(bib[k] for k in keys) + ")"
    return _outside_code(md, lambda t: re.sub(r"(~?\s?)\\cite[pt]?\*?(?:\[[^\]]*\])?\{([^}]*)\}", sub, t))


def fix_markdown(md: str, bib: dict = {}) -> str:
    "Every markdown rewrite for mkdocs-jupyter's renderer (cells and text/markdown outputs)."
    return citations(attr_links(md), bib)


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


def stage_notebook(src: Path, dst: Path, link=lambda t: t, bib: dict = {}, members=None):
    """Adapt one processed notebook; returns its page title. `members(md)`: markdown of the undocumented public
    methods of the classes that the show_doc output `md` documents (appended to it; see `member_entries`)."""
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
                text = "\n\n".join(md)
                if members and (extra := members(text)): text += "\n\n" + link(extra)
                cells.append(md_cell(text)); continue
            c = dict(c, metadata=dict(c.get("metadata", {}), tags=["remove_input"]))
        cells.append(dict(c, source=body))
    for i, c in enumerate(cells):   # unique cell ids (nbformat 4.5) for the new and the copied cells
        if c["cell_type"] == "markdown":
            c["source"] = fix_markdown(unlink_code_blocks(html_code_in_headings(
                "".join(c["source"]) if isinstance(c["source"], list) else c["source"])), bib)
        for o in c.get("outputs", []):
            if "text/markdown" in o.get("data", {}):
                t = o["data"]["text/markdown"]
                o["data"]["text/markdown"] = fix_markdown("".join(t) if isinstance(t, list) else t, bib)
        cells[i] = dict(c, id=f"cell-{i}")
    nb["cells"] = cells
    # saved ipywidgets state makes nbconvert load the widget manager from a CDN (unpkg); the site is offline, and
    # without the state the widget outputs (tqdm bars) show their text/plain form
    nb.get("metadata", {}).pop("widgets", None)
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, nb.get("nbformat_minor", 5))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb, indent=1))
    return title or src.stem


# ---- API entries: signature + parameters table (nbdev's show_doc renderer, replaced for the docs build) ----------
SIG_WIDTH = 88          # a signature longer than this is shown one parameter per line
PARAM_HEADER = ("Parameter", "Type", "Default", "Description")


def _anno_str(a) -> str:
    "Annotation as the reader wrote it: strings as-is, classes by their qualified name, typing forms via inspect."
    if a is inspect.Parameter.empty: return ""
    if isinstance(a, str): return a.strip("'\"")
    # an evaluated annotation: drop module paths before class names (pandas.core.frame.DataFrame -> DataFrame)
    return re.sub(r"\b(?:[a-z_]\w*\.)+(?=[A-Z]\w*)", "", inspect.formatannotation(a))


def _default_str(d) -> str:
    if d is inspect.Parameter.empty: return ""
    if inspect.isfunction(d) or inspect.isclass(d) or inspect.isbuiltin(d): return getattr(d, "__qualname__", repr(d))
    return repr(d)


def _star(p) -> str:
    return {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(p.kind, "")


def _sig_params(sig, drop_self: bool):
    ps = list(sig.parameters.values())
    if drop_self and ps and ps[0].name in ("self", "cls"): ps = ps[1:]
    return ps


def format_signature(name: str, sig, drop_self: bool = False) -> str:
    """`name(a, b=1, *, c=None, **kw) -> T`: names and defaults only (the table gives the types), `*`/`/` markers where
    Python needs them, one parameter per line when longer than SIG_WIDTH."""
    P = inspect.Parameter
    parts, ps = [], _sig_params(sig, drop_self)
    for i, p in enumerate(ps):
        if p.kind == P.KEYWORD_ONLY and not any(q.kind in (P.KEYWORD_ONLY, P.VAR_POSITIONAL) for q in ps[:i]): parts.append("*")
        d = p.default
        parts.append(_star(p) + p.name + ("" if d is P.empty else "=" + _default_str(d)))
        if p.kind == P.POSITIONAL_ONLY and (i + 1 == len(ps) or ps[i + 1].kind != P.POSITIONAL_ONLY): parts.append("/")
    ret = _anno_str(sig.return_annotation)
    tail = f") -> {ret}" if ret and ret != "None" else ")"
    one = f"{name}({', '.join(parts)}{tail}"
    if len(one) <= SIG_WIDTH or not parts: return one
    return f"{name}(\n" + "".join(f"    {x},\n" for x in parts) + tail


def _cell(text) -> str:
    "Text for one markdown table cell: no raw `|` (mistune would split the cell), line breaks as <br>."
    text = " ".join(str(text).split("\n")) if text else ""
    def code(m):   # code spans holding a pipe become HTML (mistune keeps `\|` literally inside backticks)
        return m.group(0) if "|" not in m.group(1) else f"<code>{html.escape(m.group(1), quote=False).replace('|', '&#124;')}</code>"
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(code(re.match(r"`([^`]+)`", p)) if i % 2 else p.replace("|", "&#124;") for i, p in enumerate(parts))


def _code_cell(text: str) -> str:
    return f"<code>{html.escape(text, quote=False).replace('|', '&#124;')}</code>" if text else ""


def _np_params(*objs):
    "numpy-style docstring 'Parameters' of `objs` -> {name: (description, grouped)}; `a, b` entries split, stars dropped."
    from fastcore.docments import parse_docstring
    out = {}
    for o in objs:
        try: sec = parse_docstring(o).get("Parameters") or {}
        except Exception: continue
        for key, prm in sec.items():
            names = [n.strip().lstrip("*") for n in key.split(",") if n.strip()]
            desc = " ".join(" ".join(prm.desc).split()) if getattr(prm, "desc", None) else ""
            for n in names:
                if desc and n not in out: out[n] = (desc, len(names) > 1)
    return out


def _np_sections(o) -> str:
    "Notes / Examples / Raises / Warnings / References of a numpy-style docstring, as markdown (the summary and extended text come first)."
    from fastcore.docments import parse_docstring
    try: d = parse_docstring(o)
    except Exception: return ""
    out = []
    for sec in ("Raises", "Warnings", "Notes", "References", "Examples"):
        v = d.get(sec)
        if not v: continue
        if isinstance(v, list):   # Raises: Parameter(name, type, desc) entries
            items = [f"- `{p.type or p.name}`: {' '.join(p.desc)}".rstrip(": ") for p in v]
            out.append(f"**{sec}**\n\n" + "\n".join(items))
        elif sec == "Examples":
            out.append(f"**{sec}**\n\n```python\n{v.strip()}\n```")
        else: out.append(f"**{sec}**\n\n{v.strip()}")
    return "\n\n".join(out)


def params_table(sym, sig, drop_self: bool = False) -> str:
    """Markdown table Parameter | Type | Default | Description of `sym`'s signature (docments comments, else the numpy
    docstring's Parameters), with a Returns row when the return is annotated or documented; '' when there is nothing."""
    from fastcore.docments import docments
    P = inspect.Parameter
    try: dm = docments(sym, full=True, args_kwargs=True)
    except Exception: dm = {}
    objs = [sym] + ([sym.__init__] if inspect.isclass(sym) else [])
    npd = _np_params(*objs)
    rows = []
    for p in _sig_params(sig, drop_self):
        dmc = (dm.get(p.name) or {}).get("docment") if isinstance(dm.get(p.name), dict) else None
        np_desc, grouped = npd.get(p.name, ("", False))
        desc = np_desc if np_desc and not grouped else dmc or np_desc or ""
        default = "*required*" if p.default is P.empty and p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD) else _code_cell(_default_str(p.default))
        rows.append((f"`{_star(p)}{p.name}`", _code_cell(_anno_str(p.annotation)), default, _cell(desc)))
    if not inspect.isclass(sym):
        ret = dm.get("return") if isinstance(dm.get("return"), dict) else {}
        ret_anno, ret_doc = _anno_str(sig.return_annotation), (ret or {}).get("docment") or ""
        if ret_doc or ret_anno not in ("", "None"): rows.append(("**Returns**", _code_cell(ret_anno), "", _cell(ret_doc)))
    if not rows: return ""
    lines = ["| " + " | ".join(PARAM_HEADER) + " |", "|" + "|".join(["---"] * len(PARAM_HEADER)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def table_renderer():
    "nbdev's show_doc renderer with the parameters as a table (name, type, default, description), as scvi-tools/squidpy pages show them."
    from fastcore.docments import _ital_first
    from nbdev.showdoc import BasicMarkdownRenderer, _ext_link
    from nbdev.doclinks import NbdevLookup

    class TableRenderer(BasicMarkdownRenderer):
        "show_doc entry: heading, one-line signature (names and defaults), docstring, parameters table, numpy sections."
        def __init__(self, sym, name=None, title_level=3, maxline=110):
            self.is_property = isinstance(sym, property)
            super().__init__(sym, name=name, title_level=title_level, maxline=maxline)
            if inspect.isfunction(self.sym) and not self.sym.__doc__: self.docs = ""   # not a docstring inherited from elsewhere

        def _repr_markdown_(self):
            doc = "---\n\n"
            src = NbdevLookup().code(self.fn)
            if src: doc += _ext_link(src, "source", 'style="float:right; font-size:smaller"') + "\n\n"
            doc += f"{'#' * self.title_level} {self.nm}\n\n"
            sym = self.sym
            try: sig = inspect.signature(sym)   # annotations as written in the source (not evaluated), for the table
            except (ValueError, TypeError): sig = self.sig
            # a function reached through its class (a method, also `@patch`ed ones) has `self` first: not a parameter
            drop_self = inspect.isfunction(sym) and "." in (self.nm or "")
            if self.is_property: doc += f"```python\n{self.nm}\n```\n\n*(property)* "
            elif sig is not None: doc += f"```python\n{format_signature(self.nm, sig, drop_self)}\n```\n\n"
            elif inspect.isclass(sym):   # no Python signature (e.g. an exception class): its name and bases
                bases = ", ".join(f"`{b.__qualname__}`" for b in sym.__bases__ if b is not object)
                doc += f"```python\n{self.nm}\n```\n\n" + (f"*(a subclass of {bases})* " if bases else "")
            if self.docs: doc += _ital_first(self.docs) + "\n\n"
            if sig is not None and (tbl := params_table(sym, sig, drop_self)): doc += tbl + "\n\n"
            if extra := _np_sections(sym): doc += extra + "\n\n"
            return doc.rstrip() + "\n"
    return TableRenderer


ENTRY = re.compile(r"\[source\]\(https?://[^)\s]*?/blob/[^/)\s]+/([\w/]+)\.py(?:#L\w+)?\)\{[^{}\n]*\}\s*\n+(#{2,5}) ([\w.]+)\s*\n")


def public_members(cls):
    "Public methods and properties defined in `cls` itself (also `@patch`ed ones), in definition order: [(name, object)]."
    out = []
    for k, v in vars(cls).items():
        if k.startswith("_"): continue
        f = v.__func__ if isinstance(v, (classmethod, staticmethod)) else v
        if isinstance(v, property) or inspect.isfunction(f): out.append((k, v if isinstance(v, property) else getattr(cls, k)))
    return out


def member_entries(md: str, documented: set, render) -> str:
    """Entries for the public methods and properties of the classes documented in `md` (show_doc output) that no page
    documents (`documented`: lower-cased headings of every page), one heading level below the class, rendered by
    `render(obj, name, title_level)`: as autodoc's `:members:` does, so every public method gets its parameters table."""
    import importlib
    extra = []
    for m in ENTRY.finditer(md):
        modname, level, name = m.group(1).replace("/", "."), len(m.group(2)), m.group(3)   # spatial_vae/api -> spatial_vae.api
        if "." in name: continue
        try: cls = getattr(importlib.import_module(modname), name)
        except Exception: continue
        if not inspect.isclass(cls): continue
        for k, obj in public_members(cls):
            if f"{name}.{k}".lower() in documented: continue
            extra.append(render(obj, f"{name}.{k}", min(level + 1, 6)))
            documented.add(f"{name}.{k}".lower())
    return "\n\n".join(extra)


def api_members(documented: set):
    "`member_entries` for `stage_notebook`: rendered by the table renderer, with nbdev's links to documented names."
    from nbdev.doclinks import NbdevLookup
    R, nl = table_renderer(), NbdevLookup()
    return lambda md: member_entries(md, documented, lambda o, n, l: nl.linkify(R(o, name=n, title_level=l)._repr_markdown_()))


def use_table_renderer():
    "Make nbdev's show_doc (and so its docs processing, run in this process) render parameter tables."
    import nbdev.showdoc
    nbdev.showdoc.BasicMarkdownRenderer = table_renderer()


MATHJAX_BUNDLE = ROOT / "build" / "mathjax" / "node_modules" / "mathjax" / "es5" / "tex-svg-full.js"   # bash .ci/mathjax
MATHJAX_CONFIG = r"""// MathJax 3 configuration for the docs site (written by .ci/docs_stage.py; the bundle is loaded after this file).
// The same delimiters as the notebooks (Jupyter): $...$ and \(...\) inline, $$...$$ and \[...\] displayed.
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  // clipboard-copy-txt: mkdocs-jupyter's hidden copy of each cell's source, for the copy button (code, not math)
  options: {skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code', 'kbd', 'annotation', 'annotation-xml'],
            ignoreHtmlClass: 'tex2jax_ignore|clipboard-copy-txt', enableMenu: false},
  svg: {fontCache: 'global'}
};
"""


def stage_mathjax(out: Path, bundle: Path):
    "Copy the offline MathJax bundle and its configuration into the site; returns their paths for extra_javascript."
    if not bundle.is_file():
        raise SystemExit(f"FAIL: MathJax bundle {bundle} not found: run bash .ci/mathjax (npm install of mathjax) first")
    (out / "javascripts" / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy2(bundle, out / "javascripts" / "mathjax" / bundle.name)
    (out / "javascripts" / "mathjax-config.js").write_text(MATHJAX_CONFIG)
    return ["javascripts/mathjax-config.js", f"javascripts/mathjax/{bundle.name}"]


EXTRA_CSS = """/* written by .ci/docs_stage.py: markdown tables (the API pages' parameter tables, the guide's tables) compact and
   top-aligned; names, types and defaults in code kept on one line where they fit */
.jp-RenderedMarkdown table { font-size: .72rem; margin: .6em 0 1.2em; }
.jp-RenderedMarkdown th, .jp-RenderedMarkdown td { padding: .3em .7em !important; vertical-align: top; text-align: left; }
.jp-RenderedMarkdown td:nth-child(-n+3) code { white-space: nowrap; }
"""


def stage_css(out: Path):
    "Write the site's extra stylesheet; returns its path for extra_css."
    (out / "stylesheets").mkdir(parents=True, exist_ok=True)
    (out / "stylesheets" / "extra.css").write_text(EXTRA_CSS)
    return ["stylesheets/extra.css"]


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
    classes, imports, arguments, `except ... as e`). Function bodies count only if the cell itself uses the function;
    lambda bodies never (they run only when called)."""
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
            elif isinstance(n, ast.Lambda): continue   # its body runs only when called: like a function nobody calls
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
    """What nbdev 2.4.14's docs processing (`exec_show_docs`) will complain about, found without running anything.

    nbdev runs the processors before `exec_show_docs` (front matter, add_show_docs, clean_show_doc, ...), then, only in
    notebooks that have docs (exported cells or show_doc calls) and no `skip_showdoc: true` front matter, decides per
    cell with `nbdev.processors._do_eval` which cells to execute: export/exports/exporti/exec_doc cells, show_doc calls
    and any cell whose AST contains an import. A cell with an import that *also* contains an expression statement or
    an assignment anywhere (`ast.walk`, so function bodies count) gets the warning "Found cells containing imports and
    other code" -- here the same function is called on the same processed cells and its warnings are recorded.
    Second, a cell that runs there but uses names only earlier, unexecuted cells define fails the docs build."""
    import builtins, warnings
    from fastcore.basics import str2bool
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, _do_eval
    procs = FilterDefaults().procs()
    names = [getattr(p, "__name__", type(p).__name__) for p in procs]
    before = procs[:names.index("exec_show_docs")]   # the processors nbdev applies before it executes cells
    mixed, out_of_context = [], []
    for p in nb_files(nbs):
        proc = NBProcessor(p, procs=before)
        for i, c in enumerate(proc.nb.cells): c.nb_index_ = i      # the cell's index in the notebook file
        proc.process()
        nb = proc.nb
        if not getattr(nb, "has_docs_", None): continue              # exec_show_docs runs nothing in this notebook
        if str2bool(getattr(nb, "frontmatter_", {}).get("skip_showdoc", False)): continue
        known = set(dir(builtins)) | {"show_doc", "get_ipython", "display"}
        for c in nb.cells:
            where = f"{p.relative_to(ROOT)} cell {getattr(c, 'nb_index_', '(added by nbdev)')}"
            first = next((l for l in (c.get("source") or "").splitlines() if l.strip()), "")[:60]
            try:
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always"); run = _do_eval(c)
            except SyntaxError: continue
            if any("imports and other code" in str(x.message) for x in w):
                mixed.append(f"{where} ({first!r})")
            trees = c.parsed_() if run else None
            if not trees: continue
            free, defs = _names(trees)
            missing = sorted(free - known) if "*" not in known else []
            known |= defs
            if missing: out_of_context.append(f"{where} ({first!r}) uses {missing}")
    for b in mixed: print("  nbdev warns 'Found cells containing imports and other code':", b)
    for b in out_of_context: print("  docs processing runs this cell without the cells before it:", b)
    return mixed + out_of_context


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proc", default=str(ROOT / "_proc"))
    ap.add_argument("--out", default=str(ROOT / "_proc" / "_mkdocs"))
    ap.add_argument("--config", default=str(ROOT / "_proc" / "_mkdocs.yml"))
    ap.add_argument("--site", default=str(ROOT / "site"))
    ap.add_argument("--mathjax", default=str(MATHJAX_BUNDLE), help="MathJax single-file bundle (bash .ci/mathjax prints it)")
    ap.add_argument("--quarto-sidebar", action="store_true")
    ap.add_argument("--lint", action="store_true", help="list cells that break nbdev's docs processing")
    a = ap.parse_args()
    if a.quarto_sidebar: return quarto_sidebar(ROOT / "nbs")
    if a.lint:
        if bad := lint(ROOT / "nbs"):
            print(f"FAIL: {len(bad)} cell(s) above: nbdev's docs processing executes every cell that contains an import, "
                  "so keep imports in cells of their own (no other statements, no assignments, no calls) and put the "
                  "code that uses them in the next cell (nbdev FAQ).")
            raise SystemExit(1)
        return print("lint: no cell that nbdev's docs processing warns about or would run out of context")
    proc, out = Path(a.proc), Path(a.out)
    if not any(nb_files(proc)): raise SystemExit(f"no processed notebooks in {proc}: run nbdev's proc_nbs first")
    shutil.rmtree(out, ignore_errors=True)
    titles, base, pages, heads, bib = {}, doc_base(), quarto_pages(proc), page_headings(proc), bib_entries()
    members = api_members(set().union(*heads.values()))
    for p in nb_files(proc):
        rel = p.relative_to(proc)
        link = lambda t, d=len(rel.parts) - 1: relink(t, base, pages, d, heads)
        titles[rel.as_posix()] = stage_notebook(p, out / rel, link, bib, members)
    n_figs = figures_page(out)
    js = stage_mathjax(out, Path(a.mathjax))
    cfg = yaml.safe_load((ROOT / ".ci" / "mkdocs.yml").read_text())
    cfg.update(docs_dir=str(out), site_dir=str(Path(a.site).resolve()),
               nav=nav_entries(out, titles) + [{"Paper figures": "paper_figures.md"}],
               extra_javascript=list(cfg.get("extra_javascript") or []) + js,
               extra_css=list(cfg.get("extra_css") or []) + stage_css(out))
    Path(a.config).write_text(yaml.safe_dump(cfg, sort_keys=False))
    print(f"staged {len(titles)} notebooks, {n_figs} paper figures and MathJax ({Path(a.mathjax).name}) into {out}; config {a.config}")
    for e in cfg["nav"]: print("  nav:", e)


if __name__ == "__main__": main()

"""A reviewer's checklist for the paper: run by `make -C paper` after the PDF is built (or `make -C paper checklist`).

Each item is printed as [x] (passes) or [ ] (fails) with what fails and where:

1. Seeds: sections/methods.tex says that every random step takes a seed, and each results section written by an
   experiment notebook (a file of sections/ that uses macros of tables/*_macros.tex) states its seeds.
2. Abstract: states results as numbers, through the macros the notebooks write: for every tables/<exp>_macros.tex
   there is, the abstract uses at least one of its macros.
3. Conclusion: sections/discussion.tex quotes the results through those macros too.
4. Numbers in prose: no bare number in the prose of sections/*.tex or of the abstract; every number a reader sees
   there comes from a generated macro. Not prose, so not scanned: comments, labels, references, citations, file names
   and command options; see EXCEPTIONS for the few kinds of bare numbers that are allowed (printed with the check).
5. Figure legibility: in the built PDF, every piece of text inside an included figure is at least MIN_PT points at
   print size (PyMuPDF reads each text span with the figure's scaling applied; each figure is located on its page
   from pdfTeX's placement of the included PDF, /PTEX.FileName), and figures are vector PDFs whose text can be
   measured; text outside figures (tables scaled by \\resizebox, footnotes) is held to the same minimum.

Usage: python check_paper.py [--pdf main.pdf] [--min-pt 6] [--warn-only]
Exit 1 when an item fails (0 with --warn-only). Needs PyMuPDF (`pip install pymupdf`, in the project's dev
dependencies) for item 5.
"""
import argparse, re, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_PT = 6.0
TOL = 0.05   # LaTeX's 6 pt fonts are 5.978 PostScript points; sizes are compared with this tolerance

# bare numbers that are allowed in prose (name, regex over the comment-free source); printed with item 4
UNIT = r"(?:\\,|~|\\ |\s)?(?:\$\\mu\$\s*m|\\textmu\s*m|µm|μm|mm|nm)\b"
EXCEPTIONS = [
    ("lengths with a unit (the data's geometry: 200 µm grid)", rf"\b\d+(?:\.\d+)?{UNIT}"),
    ("N-fold (the cross-validation scheme's name)", r"\b\d+-fold\b"),
    ("N-D (dimensions: 2-D, 3-D)", r"\b[23]-D\b"),
    ("N-nearest-neighbour (the graph's name)", r"\b\d+-nearest"),
    ("ring-N (a ring of the spatial graph: ring-1 = the direct neighbours)", r"\bring-\d\b"),
    ("code in typewriter type (a setting's name and value: \\texttt{n\\_models=3})", r"\\texttt\{(?:[^{}]|\{[^{}]*\})*\}"),
    ("Study 1 / study-2 (the two studies' names)", r"\b[Ss]tud(?:y|ies)(?:~|\s|-)+\d\b"),
    ("6-digit sample identifiers (DLPFC sections 151673, 151674)", r"(?<![\d.])\d{6}(?!\d|\.\d)"),
    ("quoted names (a data set's title: ``Human Breast Cancer (Block A Section 1)'')", r"``[^`']{1,120}''"),
    ("software versions and licence names (1.1.0, CC BY 4.0)", r"\b\d+\.\d+\.\d+\b|CC(?:~|\s)BY(?:~|\s)\d\.\d"),
    ("integers inside math (notation and definitions: $d=3$, exponents, $-1$ as the no-data value)", None),
]
NON_PROSE_CMDS = ("label|ref|eqref|autoref|cref|Cref|pageref|cite|citep|citet|citealp|citeauthor|citeyear|input|include|"
                  "includegraphics|url|begin|end|generated|results|optionalinput|bibliography|bibliographystyle|"
                  "graphicspath|usepackage|newcommand|renewcommand|resizebox|scalebox|hspace|vspace|setlength|"
                  "addtolength|rule|href|fcolorbox|parbox|multicolumn|multirow|cmidrule")
MATH_ENVS = r"equation|align|gather|multline|eqnarray|displaymath|math"


# ---------------------------------------------------------------------------------------------------------- tex ----
def blank(text: str, spans) -> str:
    "`text` with the character ranges `spans` replaced by spaces (newlines kept, so line numbers stay)."
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n": chars[i] = " "
    return "".join(chars)


def strip_comments(tex: str) -> str:
    return blank(tex, [m.span() for m in re.finditer(r"(?<!\\)%.*", tex)])


def _group(tex: str, i: int, open_="{", close="}"):
    "End index of the balanced group starting at tex[i] == open_ (or i when there is none)."
    if i >= len(tex) or tex[i] != open_: return i
    depth = 0
    for j in range(i, len(tex)):
        if tex[j] == "\\": continue
        if tex[j] == open_ and (j == 0 or tex[j - 1] != "\\"): depth += 1
        elif tex[j] == close and tex[j - 1] != "\\":
            depth -= 1
            if depth == 0: return j + 1
    return len(tex)


def macro_defs(tables: Path):
    "{macro name: (file, value)} of the generated macro files tables/*_macros.tex."
    out = {}
    for f in sorted(tables.glob("*_macros.tex")):
        for m in re.finditer(r"\\(?:re)?newcommand\{?\\(\w+)\}?\{(.*)\}\s*$", strip_comments(f.read_text()), re.M):
            out[m.group(1)] = (f.name, m.group(2))
    return out


def macros_used(tex: str, defs: dict):
    return {m for m in re.findall(r"\\([A-Za-z]+)", strip_comments(tex)) if m in defs}


def abstract_of(main_tex: str):
    "(text, line offset) of the abstract in main.tex."
    m = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", main_tex, re.S)
    return (m.group(1), main_tex[:m.start(1)].count("\n")) if m else ("", 0)


def bare_numbers(tex: str):
    """[(line, number, context)] of the numbers in the prose of `tex` that no macro writes, and
    {exception name: count} of the allowed ones."""
    t = strip_comments(tex)
    allowed = {}
    spans = []
    for name, rx in EXCEPTIONS:
        if rx is None: continue
        for m in re.finditer(rx, t):
            allowed[name] = allowed.get(name, 0) + 1; spans.append(m.span())
    t = blank(t, spans)
    # math: display environments and inline math; decimals inside math are results and stay flagged
    flagged, spans = [], []
    for m in re.finditer(rf"\\begin\{{({MATH_ENVS})\*?\}}.*?\\end\{{\1\*?\}}|\$\$.*?\$\$|(?<!\\)\\\[.*?\\\]|\\\(.*?\\\)|(?<![\\$])\$(?:\\\$|[^$])+?\$", t, re.S):
        ints = re.findall(r"(?<![\w.])\d+(?![\w.]|\.\d)", m.group(0))
        if ints: allowed[EXCEPTIONS[-1][0]] = allowed.get(EXCEPTIONS[-1][0], 0) + len(ints)
        for d in re.finditer(r"(?<![\w.])\d*\.\d+(?![\w])", m.group(0)):
            flagged.append((m.start() + d.start(), d.group(0)))
        spans.append(m.span())
    t = blank(t, spans)
    # commands whose arguments are not prose: the command, its [options] and {arguments}
    spans = []
    for m in re.finditer(rf"\\(?:{NON_PROSE_CMDS})\*?(?![A-Za-z])", t):
        j = m.end()
        while True:
            k = j
            while k < len(t) and t[k] in " \t": k += 1
            if k < len(t) and t[k] == "[": e = _group(t, k, "[", "]")
            elif k < len(t) and t[k] == "{": e = _group(t, k)
            else: break
            j = e
        spans.append((m.start(), j))
    for m in re.finditer(r"\\\\(?:\[[^\]]*\])?", t): spans.append(m.span())      # \\[2pt] line breaks
    for m in re.finditer(r"\\(?:includegraphics|begin\{\w+\})\[[^\]]*\]", t): spans.append(m.span())
    t = blank(t, spans)
    for m in re.finditer(r"(?:(?<![\w-])[-−])?(?<![\w\\.])\d+(?:\{,\}\d{3})*(?:\.\d+)?(?![\w])", t):
        flagged.append((m.start(), m.group(0)))
    out = []
    for pos, num in sorted(flagged):
        line = tex.count("\n", 0, pos) + 1
        a, b = tex.rfind("\n", 0, pos) + 1, tex.find("\n", pos)
        src = tex[a:b if b >= 0 else None]
        col = pos - a
        out.append((line, num, " ".join(src[max(0, col - 45):col + 45].split())))
    return out, allowed


# ---------------------------------------------------------------------------------------------------------- pdf ----
_TOK = re.compile(rb"\((?:\\.|[^\\()])*\)|<<|>>|<[0-9A-Fa-f\s]*>|\[|\]|/[^\s/\[\]()<>{}%]+|[-+]?(?:\d+\.?\d*|\.\d+)|[A-Za-z'\"*]+|%[^\n]*")


def _mul(m, n):
    a, b, c, d, e, f = m; A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def placements(page):
    "[(xobject name, CTM)] for every `Do` in the page's content stream (q/Q/cm tracked)."
    stack, ctm, ops, out = [], (1, 0, 0, 1, 0, 0), [], []
    for t in _TOK.findall(page.read_contents()):
        if t == b"q": stack.append(ctm)
        elif t == b"Q": ctm = stack.pop() if stack else ctm
        elif t == b"cm" and len(ops) >= 6: ctm = _mul(tuple(float(x) for x in ops[-6:]), ctm)
        elif t == b"Do" and ops: out.append((ops[-1].decode("latin1")[1:], ctm))
        if re.fullmatch(rb"[A-Za-z'\"*]+", t): ops = []
        else: ops.append(t)
    return out


def figure_fonts(pdf: Path, min_pt: float):
    """Per included figure: {file: dict(pages, min size, small spans)}, the raster images, and the small text outside
    figures. Sizes are the spans' font sizes at print size (PyMuPDF applies the figure's scaling)."""
    import pymupdf
    doc = pymupdf.open(pdf)
    figs, raster, outside = {}, [], []
    for pno, page in enumerate(doc, 1):
        H = page.rect.height
        xo = {name: (xref, bbox) for xref, name, inv, bbox in page.get_xobjects() if inv == 0}
        rects = []
        for name, ctm in placements(page):
            if name not in xo: continue
            xref, (x0, y0, x1, y1) = xo[name]
            mtx = doc.xref_get_key(xref, "Matrix")
            m = tuple(float(v) for v in mtx[1].strip("[]").split()) if mtx[0] == "array" else (1, 0, 0, 1, 0, 0)
            full = _mul(m, ctm)
            pts = [(x * full[0] + y * full[2] + full[4], x * full[1] + y * full[3] + full[5]) for x in (x0, x1) for y in (y0, y1)]
            r = pymupdf.Rect(min(p[0] for p in pts), H - max(p[1] for p in pts), max(p[0] for p in pts), H - min(p[1] for p in pts))
            fn = doc.xref_get_key(xref, "PTEX.FileName")[1] or name
            rects.append((Path(fn.strip("()")).name, r))
        for img in page.get_image_info(xrefs=True):
            r = pymupdf.Rect(img["bbox"])
            if r.width > 50 and r.height > 50 and not any(fr.contains(r) for _, fr in rects):
                raster.append((pno, tuple(round(v) for v in r)))
        spans = [s for b in page.get_text("dict")["blocks"] for l in b.get("lines", []) for s in l["spans"] if s["text"].strip()]
        for fn, r in rects:
            f = figs.setdefault(fn, {"pages": set(), "min": None, "small": [], "n": 0})
            f["pages"].add(pno)
        for s in spans:
            c = pymupdf.Point((s["bbox"][0] + s["bbox"][2]) / 2, (s["bbox"][1] + s["bbox"][3]) / 2)
            owner = next((fn for fn, r in rects if r.contains(c)), None)
            if owner is None:
                if s["size"] < min_pt - TOL: outside.append((pno, round(s["size"], 2), s["text"].strip()[:40]))
                continue
            f = figs[owner]; f["n"] += 1
            f["min"] = s["size"] if f["min"] is None else min(f["min"], s["size"])
            if s["size"] < min_pt - TOL: f["small"].append((round(s["size"], 2), s["text"].strip()[:30]))
    return figs, raster, outside


# ---------------------------------------------------------------------------------------------------------- main ---
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", default=str(HERE / "main.pdf"))
    ap.add_argument("--min-pt", type=float, default=MIN_PT, help="smallest text size allowed at print size (points)")
    ap.add_argument("--warn-only", action="store_true", help="print the checklist but exit 0")
    a = ap.parse_args()
    sections, tables = HERE / "sections", HERE / "tables"
    main_tex = (HERE / "main.tex").read_text()
    defs = macro_defs(tables)
    files = {p.name: p.read_text() for p in sorted(sections.glob("*.tex"))}
    # results sections: those an experiment notebook writes (their first line says so)
    results = [n for n, t in files.items() if re.match(r"\s*%[^\n]*written by\s+nbs/", t)]
    items = []   # (title, ok, details)

    # 1. seeds
    det, ok = [], True
    meth = strip_comments(files.get("methods.tex", ""))
    if not re.search(r"\bseed", meth, re.I):
        ok = False; det.append("sections/methods.tex never mentions seeds")
    elif not re.search(r"(every|each|all)\s+random\s+(step|number|choice)[^.]*seed|seed[^.]*(every|each|all)\s+random", meth, re.I | re.S):
        ok = False; det.append("sections/methods.tex mentions seeds but does not say that every random step is seeded")
    else: det.append("sections/methods.tex: every random step takes a seed")
    for n in results:
        t = strip_comments(files[n])
        if re.search(r"\bseed", t, re.I): det.append(f"sections/{n}: states its seeds")
        else: ok = False; det.append(f"sections/{n}: results without a word on the seeds they come from")
    items.append(("Seeds described (methods, and the seeds behind each results section)", ok, det))

    # 2. abstract
    abstract, off = abstract_of(main_tex)
    used = macros_used(abstract, defs)
    det, ok = [], bool(abstract.strip())
    if not abstract.strip(): det.append("main.tex has no abstract")
    for mf in sorted({f for f, _ in defs.values()}):
        mine = sorted(m for m in used if defs[m][0] == mf)
        if mine: det.append(f"{mf}: {len(mine)} macro(s) in the abstract ({', '.join(mine[:4])}{', ...' if len(mine) > 4 else ''})")
        else: ok = False; det.append(f"{mf}: none of its results is in the abstract")
    items.append(("Abstract states the results as numbers from the generated macros", ok, det))

    # 3. conclusion
    disc = files.get("discussion.tex", "")
    used_d = macros_used(disc, defs)
    files_d = sorted({defs[m][0] for m in used_d})
    missing = sorted({f for f, _ in defs.values()} - set(files_d))
    ok = bool(used_d) and not missing
    det = [f"sections/discussion.tex quotes {len(used_d)} generated number(s) from {', '.join(files_d) or 'no macro file'}"]
    if missing: det.append(f"no result from {', '.join(missing)} in the conclusion")
    items.append(("Conclusion (discussion) states the main findings with numbers, including where the model loses", ok, det))

    # 4. bare numbers in prose
    det, n_bad, allowed = [], 0, {}
    sources = [(f"sections/{n}", t, 0) for n, t in files.items()] + [("main.tex (abstract)", abstract, off)]
    for name, t, off_ in sources:
        bad, al = bare_numbers(t)
        for k, v in al.items(): allowed[k] = allowed.get(k, 0) + v
        n_bad += len(bad)
        for line, num, ctx in bad: det.append(f"{name}:{line + off_}: {num!r} in \"...{ctx}...\"")
    det.insert(0, f"{n_bad} bare number(s) in prose" + (" (each should be a macro the notebooks write, or words)" if n_bad else ""))
    det.append("allowed without a macro: " + "; ".join(f"{k} [{allowed.get(k, 0)} here]" for k, _ in EXCEPTIONS))
    items.append(("Every number in the prose comes from a generated macro", n_bad == 0, det))

    # 5. figure legibility
    pdf = Path(a.pdf)
    det, ok = [], True
    try:
        import pymupdf  # noqa: F401
    except ImportError:
        ok = False; det.append("PyMuPDF is not installed: pip install pymupdf (a dev dependency: pip install -e '.[dev]')")
    if ok and not pdf.is_file(): ok = False; det.append(f"{pdf} not found: build it first (make -C paper pdf)")
    if ok:
        figs, raster, outside = figure_fonts(pdf, a.min_pt)
        for fn, f in sorted(figs.items(), key=lambda kv: min(kv[1]["pages"])):
            pages = ",".join(map(str, sorted(f["pages"])))
            if f["n"] == 0: det.append(f"[ok?] {fn} (p. {pages}): no text found (drawn as paths?): not measurable"); continue
            if f["small"]:
                ok = False
                eg = "; ".join(f"{t!r} {s} pt" for s, t in sorted(set(f["small"]))[:4])
                det.append(f"[FAIL] {fn} (p. {pages}): {len(f['small'])} of {f['n']} text spans below {a.min_pt:g} pt, "
                           f"smallest {f['min']:.1f} pt, e.g. {eg}")
            else: det.append(f"[ok]   {fn} (p. {pages}): smallest text {f['min']:.1f} pt ({f['n']} spans)")
        for pno, r in raster:
            ok = False; det.append(f"[FAIL] raster image on p. {pno} at {r}: its text cannot be measured; include the figure as PDF")
        if outside:
            ok = False
            det.append(f"[FAIL] {len(outside)} text span(s) outside figures below {a.min_pt:g} pt, e.g. "
                       + "; ".join(f"p. {p} {t!r} {s} pt" for p, s, t in outside[:5]))
        if not figs: det.append("no included PDF figures found")
    items.append((f"No text below {a.min_pt:g} pt at print size (figures, tables)", ok, det))

    print("Reviewer's checklist (paper/check_paper.py)")
    for i, (title, ok, det) in enumerate(items, 1):
        print(f"[{'x' if ok else ' '}] {i}. {title}")
        for d in det: print(f"      {d}")
    n_fail = sum(not ok for _, ok, _ in items)
    print(f"checklist: {len(items) - n_fail} of {len(items)} items pass" + (f"; FAIL: {n_fail} item(s) above" if n_fail else ""))
    sys.exit(1 if n_fail and not a.warn_only else 0)


if __name__ == "__main__": main()

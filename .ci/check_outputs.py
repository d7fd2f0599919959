"""Check the outputs stored in the notebooks (nbs/**/*.ipynb), which become the docs pages and README.md.

Fails (exit 1) when a stored output shows an absolute path of the machine that ran it: the repository's own
absolute path, or a path under /work/, /root/, /home/, /Users/, /tmp/ (e.g. a warning's
"/work/main/.venv/lib/python3.12/site-packages/...", a temporary folder printed by a test). Scanned: stream text
(stdout and stderr), text/plain, text/html, text/markdown, text/latex and other textual data of display and result
outputs, and error tracebacks; images are not. Each offender is listed as notebook, cell index (as in the file,
0-based), output and a snippet. Fix: print paths relative to a known folder, or silence/filter the warning; cells
flagged `#| slow` are checked too (their stored outputs are published like any other).

Warns only (never fails, for now): code cells that would display something when run (a bare expression as last
statement, print/display/show_doc, a plot) but have no stored output, in notebooks that store outputs at all --
usually a cell added or edited without re-running the notebook. Cells `#| eval: false`, `#| export`-style and
`#| hide` cells are skipped.

Usage: python .ci/check_outputs.py [NOTEBOOK_OR_FOLDER ...]   (default: nbs/). Standard library only.
"""
import ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MACHINE_DIRS = ("work", "root", "home", "Users", "tmp")
# a path starts at a "/" that does not continue a word, URL or relative path ("https://x.org/home/..." is not one)
ABS_PATH = re.compile(r"(?<![\w.~:/-])/(?:%s)/[\w.@+-]+" % "|".join(MACHINE_DIRS))
TEXT_SKIP = ("image/",)
DIRECTIVE = re.compile(r"^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")
NO_RUN = {"export", "exports", "exporti", "hide", "default_exp"}


def patterns():
    "Regexes of machine paths: the repository's absolute path (and its parent's), then the generic ones."
    out = []
    for p in {ROOT, ROOT.parent}:
        if len(p.parts) > 2: out.append(re.compile(re.escape(str(p)) + r"(?=/|\b)"))
    return out + [ABS_PATH]


def output_texts(o):
    "(label, text) for the textual parts of one output."
    t = o.get("output_type")
    j = lambda v: "".join(v) if isinstance(v, list) else str(v)
    if t == "stream": yield f"stream {o.get('name', '')}", j(o.get("text", ""))
    elif t == "error":
        yield "error", j(o.get("evalue", "")) + "\n" + "\n".join(o.get("traceback", []))
    else:
        for mime, v in (o.get("data") or {}).items():
            if mime.startswith(TEXT_SKIP): continue
            yield f"{t} {mime}", v if isinstance(v, str) and mime.endswith("json") else j(v) if not isinstance(v, dict) else json.dumps(v)


def directives(src: str):
    d = {}
    for line in src.splitlines():
        m = DIRECTIVE.match(line)
        if not m:
            if line.strip(): break
            continue
        d[m.group(1).lower()] = (m.group(2) or "").strip().lower()
    return d


DISPLAY_CALLS = {"print", "display", "show_doc", "pprint", "imshow", "show"}


def would_display(src: str) -> bool:
    "True when running the cell surely shows something: a non-call expression last, or print/display/show_doc/plt.* calls."
    code = "\n".join(l for l in src.splitlines() if not re.match(r"^\s*(#\||[%!])", l))
    try: tree = ast.parse(code)
    except SyntaxError: return False
    if not tree.body: return False
    last = tree.body[-1]
    if isinstance(last, ast.Expr) and not isinstance(last.value, (ast.Call, ast.Constant, ast.Await, ast.Yield)):
        return True                                     # a bare name, attribute, subscript, tuple... is displayed
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Constant) and not isinstance(last.value.value, str):
        return True
    calls = []
    for n in tree.body:                                 # statements that run: not the bodies of defs, lambdas, classes
        todo = [n]
        while todo:
            c = todo.pop()
            if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)): continue
            if isinstance(c, ast.Call):
                f = c.func
                calls.append((f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else "",
                              f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""))
            todo += list(ast.iter_child_nodes(c))
    closed = any(name == "close" for owner, name in calls)   # a figure closed in the cell is not displayed
    for owner, name in calls:
        if name in DISPLAY_CALLS and (name != "show" or owner == "plt"): return True
        if owner == "plt" and name in {"plot", "scatter", "figure", "subplots", "hist", "bar"} and not closed: return True
    return False


def check(nb_path: Path, pats):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    offenders, missing = [], []
    cells = nb.get("cells", [])
    has_outputs = any(c.get("outputs") for c in cells if c.get("cell_type") == "code")
    for i, c in enumerate(cells):
        if c.get("cell_type") != "code": continue
        src = "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source", "")
        for k, o in enumerate(c.get("outputs", [])):
            for label, text in output_texts(o):
                for rx in pats:
                    for m in rx.finditer(text):
                        s, e = max(0, m.start() - 50), min(len(text), m.end() + 50)
                        offenders.append((i, k, label, " ".join(text[s:e].split())))
                        break                           # one hit per pattern and output is enough
        d = directives(src)
        if (has_outputs and not c.get("outputs") and not (d.keys() & NO_RUN) and d.get("eval") != "false"
                and would_display(src)):
            missing.append((i, next((l for l in src.splitlines() if l.strip() and not l.lstrip().startswith("#|")), "")[:70]))
    return offenders, missing


def main(argv):
    targets = [Path(a) for a in argv] or [ROOT / "nbs"]
    nbs = []
    for t in targets:
        nbs += sorted(p for p in t.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts) if t.is_dir() else [t]
    pats, n_off, n_miss = patterns(), 0, 0
    for p in nbs:
        rel = p.resolve().relative_to(ROOT) if p.resolve().is_relative_to(ROOT) else p
        offenders, missing = check(p, pats)
        seen = set()
        for i, k, label, snip in offenders:
            if (i, k, snip) in seen: continue
            seen.add((i, k, snip)); n_off += 1
            print(f"FAIL: {rel} cell {i} output {k} ({label}) shows a machine path: ...{snip}...")
        for i, first in missing:
            n_miss += 1
            print(f"warning: {rel} cell {i} has no stored output but would display one (not re-run?): {first!r}")
    print(f"checked the stored outputs of {len(nbs)} notebook(s): {n_off} with a machine path, "
          f"{n_miss} code cell(s) without stored output (warning only)")
    if n_off:
        print("FAIL: stored notebook outputs show absolute paths of the machine that ran them; they end up in the docs "
              "and README. Print relative paths or filter the warning, re-run the cell and save the notebook.")
        return 1
    return 0


if __name__ == "__main__": sys.exit(main(sys.argv[1:]))

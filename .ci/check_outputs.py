"""Check the outputs stored in the notebooks (nbs/**/*.ipynb), which become the docs pages and README.md.

1. Machine paths (every notebook). Fails (exit 1) when a stored output shows an absolute path of the machine that
   ran it: the repository's own absolute path, or a path under /work/, /root/, /home/, /Users/, /tmp/ (e.g. a
   warning's "/work/main/.venv/lib/python3.12/site-packages/...", a temporary folder printed by a test). Scanned:
   stream text (stdout and stderr), text/plain, text/html, text/markdown, text/latex and other textual data of
   display and result outputs, and error tracebacks; images are not. Each offender is listed as notebook, cell
   index (as in the file, 0-based), output and a snippet. Fix: print paths relative to a known folder, or
   silence/filter the warning; cells flagged `#| slow` are checked too (their stored outputs are published like
   any other).

2. Missing outputs (issue #14). A code cell MUST have at least one stored output when all of these hold:
   a. the notebook is directly in nbs/ (or is given outside nbs/); notebooks in a subfolder of nbs/ (the
      experiments, whose outputs come from their full runs) only get a warning, and only when they store some
      outputs at all;
   b. the cell is not exempt: no `#| export`, `#| exports`, `#| exporti`, `#| default_exp` or `#| hide`
      directive (code and hidden cells: the docs show no output for them), no `#| eval: false` (never run),
      no `#| output: false` (output hidden on purpose), and no test flag of settings.ini's `tst_flags`
      (`#| slow`, `#| gpu`: not run by the tests, possibly far too long to execute for the docs);
   c. running the cell surely shows something, judged from its source alone (lines starting with `#|`, `%` or
      `!` ignored; a cell that does not parse as Python is not judged):
      - its last statement is an expression whose value IPython displays: anything but a call, a string
        constant (a docstring), `await` or `yield` -- e.g. a name, attribute, subscript, tuple, comparison,
        arithmetic, or a non-string constant -- and the cell's code does not end in `;` (which hides it); or
      - it calls, anywhere outside the bodies of `def`, `lambda` and `class` (so also inside `for`, `with`, `if`),
        `print`, `display`, `show_doc`, `pprint`, `imshow` or `plt.show`; or one of `plt.plot`, `plt.scatter`,
        `plt.figure`, `plt.subplots`, `plt.hist`, `plt.bar` when the cell does not also call `close` (a figure
        closed in its own cell is not displayed).
   A call as the last statement (`f(x)`) is not counted: whether it shows anything depends on what it returns
   (`test_eq` returns None). Such a cell without output is reported as "notebook, cell index, first line".
   Fix: execute the notebook in place (`python .ci/execute_nb.py nbs/NB.ipynb`, then `nbdev_clean --fname
   nbs/NB.ipynb`) and commit its outputs; or, if the cell really shows nothing, change it (e.g. `x;`).

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
NBS = ROOT / "nbs"


def test_flags():
    "settings.ini's tst_flags (cells flagged with one are not run by the tests), default slow and gpu."
    import configparser
    c = configparser.ConfigParser(); c.read(ROOT / "settings.ini")
    return set((c["DEFAULT"].get("tst_flags", "") if "DEFAULT" in c else "").split()) or {"slow", "gpu"}


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
    last, hidden = tree.body[-1], code.rstrip().endswith(";")          # `x;` displays nothing
    if (isinstance(last, ast.Expr) and not hidden
            and not isinstance(last.value, (ast.Call, ast.Constant, ast.Await, ast.Yield, ast.YieldFrom))):
        return True                                     # a bare name, attribute, subscript, tuple... is displayed
    if (isinstance(last, ast.Expr) and not hidden and isinstance(last.value, ast.Constant)
            and not isinstance(last.value.value, str)):
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


def strict(nb_path: Path) -> bool:
    "True when missing outputs fail (a notebook directly in nbs/, or outside nbs/), False for nbs/<subfolder>/."
    p = nb_path.resolve()
    return not (p.is_relative_to(NBS) and len(p.relative_to(NBS).parts) > 1)


def exempt(d: dict, flags) -> bool:
    "True for cells whose output is not expected (rule 2b of the module docstring), from their directives `d`."
    return bool(d.keys() & (NO_RUN | flags)) or d.get("eval") == "false" or d.get("output") == "false"


def check(nb_path: Path, pats, flags=frozenset({"slow", "gpu"})):
    """(offenders, missing) of one notebook: machine paths in outputs; cells that must show output but have none
    (all such cells when `strict(nb_path)`, else only in a notebook that stores some outputs)."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    offenders, missing = [], []
    cells = nb.get("cells", [])
    has_outputs = strict(nb_path) or any(c.get("outputs") for c in cells if c.get("cell_type") == "code")
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
        if has_outputs and not c.get("outputs") and not exempt(d, flags) and would_display(src):
            missing.append((i, next((l for l in src.splitlines() if l.strip() and not l.lstrip().startswith("#|")), "")[:70]))
    return offenders, missing


def main(argv):
    targets = [Path(a) for a in argv] or [NBS]
    nbs = []
    for t in targets:
        nbs += sorted(p for p in t.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts) if t.is_dir() else [t]
    pats, flags, n_off, n_miss, n_warn = patterns(), test_flags(), 0, 0, 0
    for p in nbs:
        rel = p.resolve().relative_to(ROOT) if p.resolve().is_relative_to(ROOT) else p
        offenders, missing = check(p, pats, flags)
        seen = set()
        for i, k, label, snip in offenders:
            if (i, k, snip) in seen: continue
            seen.add((i, k, snip)); n_off += 1
            print(f"FAIL: {rel} cell {i} output {k} ({label}) shows a machine path: ...{snip}...")
        for i, first in missing:
            if strict(p):
                n_miss += 1
                print(f"FAIL: {rel} cell {i} has no stored output but would display one: {first!r}")
            else:
                n_warn += 1
                print(f"warning: {rel} cell {i} has no stored output but would display one (not re-run?): {first!r}")
    print(f"checked the stored outputs of {len(nbs)} notebook(s): {n_off} output(s) with a machine path, "
          f"{n_miss} code cell(s) that would display something without stored output"
          + (f", {n_warn} more in subfolders (warning only)" if n_warn else ""))
    if n_off:
        print("FAIL: stored notebook outputs show absolute paths of the machine that ran them; they end up in the docs "
              "and README. Print relative paths or filter the warning, re-run the cell and save the notebook.")
    if n_miss:
        print("FAIL: code cells that would display something have no stored output, so their docs pages show none: "
              "execute the notebook in place (python .ci/execute_nb.py nbs/NB.ipynb; nbdev_clean --fname nbs/NB.ipynb) "
              f"and commit it, or flag the cell (exempt: {', '.join(sorted(NO_RUN | flags))}, eval: false, output: false)")
    return 1 if n_off or n_miss else 0


if __name__ == "__main__": sys.exit(main(sys.argv[1:]))

"""Execute notebooks in place to store their outputs for the docs (issue #14), as `jupyter nbconvert --to notebook
--execute --inplace` does, but honouring nbdev's cell directives the way `nbdev_test` does.

- Runs each notebook top to bottom in a fresh kernel, from the notebook's own folder, no cell timeout, stopping at
  the first error (the notebook is then left unchanged, as it is when its cells were edited while it ran).
- Never runs `#| eval: false` cells (e.g. `if __name__ == "__main__": sys.exit(main())`, which would end the kernel,
  or a real download); their outputs stay empty.
- Cells flagged with one of `--skip` (e.g. `--skip slow` when a full-size cell takes far more than a few minutes)
  are not run either; they keep the outputs they had (from their last full run), so the docs still show them.
- stderr stream outputs that show a machine path (a library warning's "/work/main/.venv/lib/.../x.py:12:
  FutureWarning") are dropped, as .ci/check_outputs.py rejects them; any other machine path (in stdout or a
  result) is left for check_outputs.py to report: print relative paths in the cell instead.

Then run `nbdev_clean --fname NB` and `python .ci/check_outputs.py NB`.

Usage: python .ci/execute_nb.py NOTEBOOK [NOTEBOOK ...] [--skip slow,gpu] [--kernel python3]
"""
import argparse, re, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_outputs import directives, output_texts, patterns   # noqa: E402  (the same directive parser and path rule)


class SkippingClient(NotebookClient):
    "A NotebookClient that does not run `#| eval: false` cells nor cells flagged with one of `skip`."
    def __init__(self, nb, skip=(), **kw):
        super().__init__(nb, **kw); self.skip, self.skipped = set(skip), []
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == "code":
            d = directives(cell.source)
            if d.get("eval") == "false" or (d.keys() & self.skip):
                self.skipped.append((cell_index, "eval: false" if d.get("eval") == "false" else ", ".join(sorted(d.keys() & self.skip))))
                return cell
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)


def strip_path_stderr(nb, pats):
    "Drop stderr stream outputs that show a machine path; returns [(cell index, first line)] of those dropped."
    dropped = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code": continue
        keep = []
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr" and any(
                    rx.search(t) for _, t in output_texts(o) for rx in pats):
                dropped.append((i, "".join(o.get("text", "")).strip().splitlines()[0][:100])); continue
            keep.append(o)
        c.outputs = keep
    return dropped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--skip", default="", help="comma-separated nbdev flags whose cells are not run (e.g. slow,gpu)")
    ap.add_argument("--kernel", default="python3")
    a = ap.parse_args()
    skip, pats = [s for s in a.skip.split(",") if s], patterns()
    for f in map(Path, a.notebooks):
        nb = nbformat.read(f, as_version=4)
        sources = [c.source for c in nb.cells]
        old = {i: c.get("outputs", []) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
        client = SkippingClient(nb, skip, timeout=None, kernel_name=a.kernel,
                                resources={"metadata": {"path": str(f.resolve().parent)}})
        t0 = time.time()
        client.execute()                                     # raises CellExecutionError: the file is not written
        for i, why in client.skipped:
            if why != "eval: false": nb.cells[i].outputs = old.get(i, [])
        dropped = strip_path_stderr(nb, pats)
        if [c.source for c in nbformat.read(f, as_version=4).cells] != sources:   # edited while it ran
            sys.exit(f"FAIL: {f} was edited while it ran; not overwritten (run it again)")
        nbformat.write(nb, f)
        print(f"{f}: executed in {time.time() - t0:.0f} s; not run: {client.skipped or 'none'}")
        for i, line in dropped: print(f"  cell {i}: dropped a stderr output showing a machine path: {line!r}")


if __name__ == "__main__": main()

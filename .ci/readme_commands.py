"""Print the shell commands README.md tells users to run, exactly as written, for .ci/run to execute verbatim.

README.md (generated from nbs/index.ipynb by .ci/readme) must hold exactly two ```sh code blocks' worth of commands:

- the set-up line, which starts with `bash .ci/setup` (it also runs the main job, `spatial-vae run ...`);
- the test line, which runs `bash .ci/test`.

Both must contain the data-directory placeholder PLACEHOLDER (below). The only change made to a line is the exact
string replacement `line.replace(PLACEHOLDER, data_dir)` when --data-dir is given (with data_dir shell-quoted by
shlex.quote, so a path with spaces stays one word); nothing else is rewritten. Exits 1 with the reason when the
README has other/more/fewer commands, or a line lacks the placeholder (e.g. the README's wording changed): then
update the README (via nbs/index.ipynb) or this helper on purpose, rather than CI silently running something else.

Usage: python3 .ci/readme_commands.py [--readme README.md] [--data-dir DIR] [setup|test|out]
       (no argument: print both lines, set-up first; `out`: the --out folder named in the set-up line)
Standard library only: it runs before any venv exists.
"""
import argparse, re, shlex, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "/path/to/data"
FENCE = re.compile(r"^```(sh|bash|shell|console)?\s*\n(.*?)^```\s*$", re.M | re.S)


def sh_lines(text: str):
    "Non-empty, non-comment lines of the README's ```sh (or bash/shell) code blocks, in order."
    out = []
    for m in FENCE.finditer(text):
        if m.group(1) is None: continue             # untagged fences are not commands
        out += [l.strip() for l in m.group(2).splitlines() if l.strip() and not l.strip().startswith("#")]
    return out


def commands(readme: Path):
    "{'setup': line, 'test': line} from README.md, or SystemExit(1) with the reason."
    def die(msg): sys.exit(f"FAIL: {readme}: {msg}")
    if not readme.is_file(): die("not found")
    lines = sh_lines(readme.read_text(encoding="utf-8"))
    setup = [l for l in lines if l.startswith("bash .ci/setup")]
    test = [l for l in lines if re.search(r"(^|\s)bash \.ci/test(\s|$)", l)]
    if len(lines) != 2 or len(setup) != 1 or len(test) != 1:
        die(f"expected exactly 2 commands in ```sh blocks (the set-up line `bash .ci/setup ...` and the test line "
            f"`... bash .ci/test`), found {len(lines)}: {lines}")
    for name, l in (("set-up", setup[0]), ("test", test[0])):
        if PLACEHOLDER not in l:
            die(f"the {name} line has no data-directory placeholder {PLACEHOLDER!r} for CI to replace with the real "
                f"data directory: {l!r} (update PLACEHOLDER in .ci/readme_commands.py if the README's wording changed)")
    return {"setup": setup[0], "test": test[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="?", choices=["setup", "test", "out"])
    ap.add_argument("--readme", default=str(ROOT / "README.md"))
    ap.add_argument("--data-dir", help=f"replace the placeholder {PLACEHOLDER!r} with this directory")
    a = ap.parse_args()
    cmds = commands(Path(a.readme))
    if a.which == "out":
        words = shlex.split(cmds["setup"])
        if "--out" not in words or words.index("--out") + 1 >= len(words):
            sys.exit(f"FAIL: the set-up line names no --out folder: {cmds['setup']!r}")
        return print(words[words.index("--out") + 1])
    if a.data_dir is not None:
        cmds = {k: v.replace(PLACEHOLDER, shlex.quote(a.data_dir)) for k, v in cmds.items()}
    for k in ([a.which] if a.which else ["setup", "test"]): print(cmds[k])


if __name__ == "__main__": main()

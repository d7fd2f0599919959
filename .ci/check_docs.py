"""Check the built docs site (site/, from `bash .ci/docs`) in headless Chromium.

Serves the site on 127.0.0.1 (a free port, stopped at the end) and opens it in headless Debian Chromium:

1. the API page of the model class (`--api SpatialVAE`, found by name: the page with a heading reading exactly
   that name) renders: the heading is visible, a code block after it holds the signature (`NAME(` plus at least
   one parameter line) and the docstring text follows;
2. parameter tables: every API entry (a heading after its "source" link, on any page) shows a signature block
   `NAME(a, b=1, **kw)` without inline comments (not nbdev's default `def NAME(` block with docments comments) and,
   when it has parameters, a table headed Parameter | Type | Default | Description whose first column lists every
   parameter of the signature (`*args`/`**kwargs` written so); no `VAR_KEYWORD`/`VAR_POSITIONAL` anywhere in a
   page; every public function, class, method and property of the package (`--package spatial_vae`: `__all__` of
   each module, methods defined in the exported classes) has an entry on some page;
3. figures load: every <img> in the content of every page is decoded by the browser (naturalWidth > 0), at
   least `--min-figures` of them exist (notebook outputs or the paper figures), and none is broken;
4. screenshots (`--shots DIR`, default $TMPDIR/spatial_vae_docs/) of the home page, the API page, the tutorial
   (`--tutorial`, a page named *_tutorial) and one experiment page (`--experiment`), none blank, each with what it
   must show: the API page its parameter tables, the tutorial and the experiment page inline figures and typeset
   math, all four no leaked markup;
5. every page loads, every table-of-contents link and internal link (page and anchor) exists, and the sidebar
   reads as the story: Home, the numbered notebooks in order, then the folders (experiments), then other pages;
6. math renders: MathJax (the offline bundle, never a CDN) is loaded on every page, and after it has typeset the
   page no raw TeX (`$...$`, `$$...$$`, `\(...\)`, `\[...\]`) is left in the rendered text (outside code blocks);
   pages with math show MathJax output elements (<mjx-container>); no <script> loads from another host;
7. no markup leaks as text: no Pandoc attribute text (`{target=...}`, e.g. nbdev's source links) and no raw LaTeX
   citation (`\cite{...}`) in the text of a built page outside code blocks.

How: a small check page, served beside the site (never written into it), loads each page in a same-origin
<iframe>; its load event waits for them, then a script inspects their DOM and writes a JSON verdict that
`chromium --dump-dom` prints. Exits 1 on any failure and prints what was checked.

Usage: python .ci/check_docs.py [--site site] [--api SpatialVAE] [--min-figures 1] [--shots DIR]
                                [--tutorial URL] [--experiment URL] [--package spatial_vae]
"""
import argparse, functools, html, json, os, re, shutil, subprocess, sys, tempfile, threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio"]

CHECK_JS = r"""
const CFG = JSON.parse(document.getElementById('cfg').textContent);
function headingFor(doc, name) {
  for (const h of doc.querySelectorAll('h1,h2,h3,h4,h5,h6'))
    if (h.textContent.replace(/[¶#]/g, '').trim() === name) return h;
  return null;
}
function visible(el) {
  const r = el.getBoundingClientRect(), s = el.ownerDocument.defaultView.getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden';
}
function apiCheck(doc, name) {
  const h = headingFor(doc, name);
  if (!h) return {found: false};
  const level = +h.tagName[1], after = [];
  // elements after the heading up to the next heading of the same or a higher level (document order)
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_ELEMENT);
  walker.currentNode = h;
  let n;
  while ((n = walker.nextNode())) {
    if (/^H[1-6]$/.test(n.tagName) && +n.tagName[1] <= level) break;
    if (!h.contains(n)) after.push(n);
  }
  const pres = after.filter(e => e.tagName === 'PRE' && visible(e)).map(e => e.textContent);
  const sig = pres.find(t => t.includes(name + '(')) || '';
  const text = after.filter(e => e.tagName === 'P' && visible(e)).map(e => e.textContent.trim()).filter(t => t);
  return {found: true, heading_visible: visible(h), heading_tag: h.tagName, id: h.id,
          signature: sig.trim(), signature_lines: sig.trim().split('\n').length, doc: text.slice(0, 2)};
}
function imgCheck(doc) {
  const scope = doc.querySelector('.md-content') || doc.body;
  return Array.from(scope.querySelectorAll('img')).map(i => ({
    src: (i.getAttribute('src') || '').slice(0, 80), complete: i.complete,
    naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, shownWidth: i.getBoundingClientRect().width}));
}
const TEX = /\$\$[\s\S]+?\$\$|\$[^$\s](?:[^$\n]{0,300}?[^$\s\\])?\$|\\\([\s\S]+?\\\)|\\\[[\s\S]+?\\\]/g;
function mathCheck(doc) {
  // raw TeX left in the rendered text: text nodes outside code/pre/script/style and MathJax's own output, joined per block
  const scope = doc.querySelector('.md-content') || doc.body, blocks = new Map();
  const walker = doc.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!el || el.closest('pre,code,kbd,script,style,textarea,mjx-container,mjx-assistive-mml')) continue;
    if (!n.textContent.trim() || !visible(el)) continue;
    const block = el.closest('p,li,td,th,h1,h2,h3,h4,h5,h6,dd,dt,blockquote,figcaption,div') || el;
    blocks.set(block, (blocks.get(block) || '') + n.textContent);
  }
  const raw = [];
  for (const t of blocks.values()) for (const m of t.matchAll(TEX)) raw.push(m[0].slice(0, 80));
  const w = doc.defaultView;
  return {mathjax: !!(w.MathJax && w.MathJax.version), version: w.MathJax && w.MathJax.version || null,
          rendered: scope.querySelectorAll('mjx-container').length, raw: raw.slice(0, 10), n_raw: raw.length,
          errors: Array.from(scope.querySelectorAll('mjx-merror, [data-mjx-error]')).map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80)).slice(0, 5),
          scripts: Array.from(doc.querySelectorAll('script[src]')).map(s => s.getAttribute('src')).filter(u => /^(https?:)?\/\//.test(u))};
}
function apiEntries(doc) {
  // show_doc entries: a heading right after the paragraph holding its "source" link; the entry runs to the next
  // heading or <hr>. For each: the signature block (first <pre>), and the first table's header and first column.
  const scope = doc.querySelector('.md-content') || doc.body, out = [];
  for (const h of scope.querySelectorAll('h2,h3,h4,h5,h6')) {
    const prev = h.previousElementSibling;
    if (!prev || !Array.from(prev.querySelectorAll('a')).some(a => a.textContent.trim() === 'source')) continue;
    const e = {name: h.textContent.replace(/[¶#]/g, '').trim(), id: h.id, tag: h.tagName, signature: null, table: null};
    for (let n = h.nextElementSibling; n && !/^(H[1-6]|HR)$/.test(n.tagName); n = n.nextElementSibling) {
      const pre = n.tagName === 'PRE' ? n : n.querySelector('pre');
      if (e.signature === null && pre) e.signature = pre.textContent;
      const t = n.tagName === 'TABLE' ? n : n.querySelector('table');
      if (e.table === null && t) e.table = {
        header: Array.from(t.querySelectorAll('thead th')).map(c => c.textContent.trim()),
        first: Array.from(t.querySelectorAll('tbody tr')).map(r => (r.cells[0] || {textContent: ''}).textContent.trim()),
        visible: visible(t)};
    }
    out.push(e);
  }
  return out;
}
function typeset(f) {   // MathJax typesets after the page's load event: wait for it (bounded)
  const w = f.contentWindow, p = w && w.MathJax && w.MathJax.startup && w.MathJax.startup.promise;
  return p ? Promise.race([p.catch(() => null), new Promise(r => setTimeout(r, 15000))]) : Promise.resolve();
}
window.addEventListener('load', async () => {
  const out = {pages: {}};
  await Promise.all(Array.from(document.querySelectorAll('iframe')).map(typeset));
  for (const f of document.querySelectorAll('iframe')) {
    const url = f.dataset.url, doc = f.contentDocument;
    const page = {loaded: !!(doc && doc.body && doc.body.childElementCount), title: doc ? doc.title : null};
    if (page.loaded) {
      page.images = imgCheck(doc);
      page.broken_anchors = Array.from(doc.querySelectorAll('.md-sidebar--secondary a[href^="#"]'))
        .map(a => decodeURIComponent(a.getAttribute('href').slice(1))).filter(id => id && !doc.getElementById(id));
      if (url === '/') page.nav = Array.from(doc.querySelectorAll('.md-sidebar--primary a.md-nav__link[href]'))
        .filter(a => !a.getAttribute('href').startsWith('#'))
        .map(a => ({text: a.textContent.trim(), href: new URL(a.getAttribute('href'), f.src).pathname}));
      if (url === CFG.api_url) page.api = apiCheck(doc, CFG.api);
      page.math = mathCheck(doc);
      page.entries = apiEntries(doc);
      page.n_tables = (doc.querySelector('.md-content') || doc.body).querySelectorAll('table').length;
    }
    out.pages[url] = page;
  }
  const pre = document.createElement('pre'); pre.id = 'result';
  pre.textContent = '@@VER' + 'DICT@@' + JSON.stringify(out) + '@@END' + 'VERDICT@@';
  document.body.appendChild(pre);
});
"""


class Headings(HTMLParser):
    "Collect heading texts of one HTML page."
    def __init__(self):
        super().__init__(); self.cur, self.found = None, []
    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag): self.cur = []
    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self.cur is not None:
            self.found.append("".join(self.cur).replace("¶", "").strip()); self.cur = None
    def handle_data(self, d):
        if self.cur is not None: self.cur.append(d)


class Links(HTMLParser):
    "Collect <a href> targets and element ids of one HTML page."
    def __init__(self):
        super().__init__(); self.hrefs, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if tag == "a" and a.get("href"): self.hrefs.append(a["href"])


class PageText(HTMLParser):
    """Text of one HTML page outside <pre>, <code>, <script>, <style>, <textarea> and mkdocs-jupyter's hidden
    copy of each cell's source (div.clipboard-copy-txt): what a reader sees as prose."""
    SKIP = {"pre", "code", "script", "style", "textarea", "kbd"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    def __init__(self):
        super().__init__(convert_charrefs=True); self.stack, self.parts = [], []   # open tags: (tag, skipped)
    def handle_starttag(self, tag, attrs):
        if tag in self.VOID: return
        skip = tag in self.SKIP or "clipboard-copy-txt" in (dict(attrs).get("class") or "").split()
        self.stack.append((tag, skip or (self.stack[-1][1] if self.stack else False)))
    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):   # close up to the matching open tag (tolerates unclosed <p>)
            if self.stack[i][0] == tag: del self.stack[i:]; break
    def handle_data(self, d):
        if not (self.stack and self.stack[-1][1]): self.parts.append(d)


LEAKS = [(re.compile(r"\{\s*target\s*="), "Pandoc link attribute text {target=...} (e.g. nbdev's [source](...){target=...})"),
         (re.compile(r"\{[^{}\n]*\b(?:style|rel)\s*=\s*\"[^\"]*\"[^{}\n]*\}"), "Pandoc attribute text {style=...}"),
         (re.compile(r"\\cite[pt]?\*?(?:\[[^\]]*\])?\{"), "raw LaTeX citation \\cite{...}")]


def leaked_markup(site: Path, urls):
    "(page, what, snippet) for Pandoc attribute text and raw \\cite{ left in the prose of built pages."
    bad = []
    for u in urls:
        p = PageText(); p.feed((site / u.strip("/") / "index.html").read_text(errors="replace"))
        text = "".join(p.parts)
        for rx, what in LEAKS:
            for m in list(rx.finditer(text))[:3]:
                bad.append((u, what, " ".join(text[max(0, m.start() - 40):m.end() + 40].split())))
    return bad


def broken_links(site: Path, urls):
    "Internal links (relative or into the site's own doc_host) whose page or anchor does not exist in the built site."
    from urllib.parse import urljoin, urlsplit, unquote
    import configparser
    c = configparser.ConfigParser(); c.read(ROOT / "settings.ini")
    host = c["DEFAULT"].get("doc_host", "").rstrip("/") if "DEFAULT" in c else ""
    parsed = {}
    def parse(u):
        if u not in parsed:
            f = site / u.strip("/") / "index.html" if u.endswith("/") else site / u.strip("/")
            lp = Links()
            if f.is_file() and f.suffix == ".html": lp.feed(f.read_text(errors="replace"))
            parsed[u] = (f.is_file(), lp)
        return parsed[u]
    bad = []
    for u in urls:
        for h in parse(u)[1].hrefs:
            if host and h.startswith(host): bad.append((u, h, "points to the Quarto site, not this one")); continue
            if re.match(r"^[a-z]+:", h) or h.startswith("//"): continue       # external links are not checked
            t = urlsplit(urljoin("http://x" + u, h))
            exists, lp = parse(unquote(t.path))
            if not exists: bad.append((u, h, "no such page")); continue
            if t.fragment and t.fragment not in lp.ids: bad.append((u, h, "no such anchor"))
    return bad


PARAM_HEADER = ["Parameter", "Type", "Default", "Description"]   # the columns of .ci/docs_stage.py's tables


def signature_params(sig: str, name: str):
    """Parameter names (`*args`, `**kw` with their stars) of a signature block `name(a, b=1, *, c=None, **kw) -> T`;
    None when the block is not such a signature (e.g. nbdev's default `def name(` with comments, or a property)."""
    s = sig.strip()
    if not s.startswith(name + "("): return None
    body, depth, quote, cur, parts = s[len(name) + 1:], 0, None, "", []
    for i, ch in enumerate(body):
        if quote:
            cur += ch
            if ch == quote and body[i - 1] != "\\": quote = None
            continue
        if ch in "'\"": quote = ch
        elif ch in "([{": depth += 1
        elif ch in ")]}":
            if depth == 0: parts.append(cur); break
            depth -= 1
        elif ch == "," and depth == 0: parts.append(cur); cur = ""; continue
        cur += ch
    return [re.split(r"[=:]", p.strip(), maxsplit=1)[0].strip() for p in parts if p.strip() not in ("", "*", "/")]


def entry_problems(e: dict):
    "What is wrong with one API entry as Chromium shows it (see CHECK_JS apiEntries): [] when it is right."
    name, sig, tbl = e["name"], e["signature"], e["table"]
    if sig is None: return ["no signature block after the heading"]
    if sig.lstrip().startswith(("def ", "class ", "async def ")) or re.search(r"\s#\s", sig):
        return ["signature shown as code with inline comments (nbdev's default renderer: is .ci/docs using "
                "docs_stage.table_renderer?)"]
    params = signature_params(sig, name)
    if params is None:
        return [] if sig.strip() == name else [f"signature block does not start with {name}(: {sig.strip()[:60]!r}"]
    if not params: return []
    if tbl is None: return [f"no parameters table for its {len(params)} parameter(s) {params[:4]}"]
    bad = []
    if tbl["header"][1:5] != PARAM_HEADER[1:] or tbl["header"][0] != PARAM_HEADER[0]:
        bad.append(f"table header {tbl['header']} is not {PARAM_HEADER}")
    missing = [p for p in params if p not in tbl["first"]]
    if missing: bad.append(f"parameters missing from its table: {missing}")
    if not tbl["visible"]: bad.append("its table is not visible")
    return bad


def kind_leaks(site: Path, urls):
    "(page, snippet) where inspect's parameter kinds (VAR_KEYWORD, VAR_POSITIONAL) show anywhere, code included."
    bad = []
    for u in urls:
        text = html.unescape(re.sub(r"<[^>]+>", "", (site / u.strip("/") / "index.html").read_text(errors="replace")))
        for m in list(re.finditer(r"\b(?:VAR_KEYWORD|VAR_POSITIONAL|_ParameterKind)\b", text))[:3]:
            bad.append((u, " ".join(text[max(0, m.start() - 40):m.end() + 20].split())))
    return bad


def undocumented(package: str, headings: set):
    """Public names of `package` without an entry (a heading of that name) on any page: every function and class
    in the `__all__` of its modules (those in its nbdev `_modidx`), and the public methods and properties defined
    in those classes (`Class.method`)."""
    import importlib
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from docs_stage import public_members
    try: mods = sorted(importlib.import_module(f"{package}._modidx").d["syms"])
    except Exception as e: return [f"(cannot list the modules of {package}: {e})"]
    missing = []
    for mn in mods:
        mod = importlib.import_module(mn)
        for n in getattr(mod, "__all__", []):
            o = getattr(mod, n, None)
            if getattr(o, "__module__", None) != mn or not (callable(o)): continue
            if n not in headings: missing.append(f"{mn}.{n}")
            if isinstance(o, type):
                missing += [f"{mn}.{n}.{k}" for k, _ in public_members(o) if f"{n}.{k}" not in headings]
    return missing


def all_headings(site: Path, urls):
    out = set()
    for u in urls:
        p = Headings(); p.feed((site / u.strip("/") / "index.html").read_text(errors="replace")); out |= set(p.found)
    return out


def page_urls(site: Path):
    "URL paths of the site's pages (directory URLs), skipping 404 and search."
    out = []
    for p in sorted(site.rglob("index.html")):
        rel = p.parent.relative_to(site).as_posix()
        if rel.startswith(("search", "assets")): continue
        out.append("/" if rel == "." else f"/{rel}/")
    return out


def find_api_page(site: Path, name: str):
    for url in page_urls(site):
        p = Headings(); p.feed((site / url.strip("/") / "index.html").read_text(errors="replace"))
        if name in p.found: return url
    return None


def check_page(urls, api, api_url):
    frames = "\n".join(f'<iframe data-url="{html.escape(u)}" src="{html.escape(u)}" '
                       f'width="1280" height="30000" loading="eager"></iframe>' for u in urls)
    cfg = json.dumps({"api": api, "api_url": api_url})
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>docs check</title></head><body>"
            f"<script id='cfg' type='application/json'>{html.escape(cfg, quote=False)}</script>{frames}"
            f"<script>{CHECK_JS}</script></body></html>").encode()


def shot_page(url, selector=""):
    "A page showing `url` in a full-window iframe scrolled to the first element matching CSS `selector` (for the screenshot)."
    js = ("const f=document.getElementById('f');f.addEventListener('load',()=>{const d=f.contentDocument;"
          f"const sel={json.dumps(selector)};const e=sel?d.querySelector(sel):null;"
          "if(e)f.contentWindow.scrollTo(0,e.getBoundingClientRect().top+f.contentWindow.scrollY-70);});")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>html,body{{margin:0;height:100%;overflow:hidden}}"
            f"iframe{{border:0;width:100%;height:100%;display:block}}</style></head><body>"
            f"<iframe id='f' src='{html.escape(url)}'></iframe><script>{js}</script></body></html>").encode()


def dom_verdict(chromium_bin: str, url: str, timeout: float, budget: int = 15000, window: str = "1280,900") -> dict:
    "Load `url` (a check page) in headless Chromium and return the JSON it printed between @@VERDICT@@ markers; exit with a FAIL line when it printed none."
    r = chromium(chromium_bin, [f"--virtual-time-budget={budget}", f"--window-size={window}", "--dump-dom", url], timeout=timeout)
    m = re.search(r"@@VERDICT@@(.*?)@@ENDVERDICT@@", html.unescape(r.stdout), re.S)
    if not m:
        print(r.stderr[-2000:], file=sys.stderr)
        sys.exit(f"FAIL: chromium returned no verdict (exit {r.returncode}) for {url}")
    return json.loads(m.group(1))


def serve(site: Path, pages: dict):
    "Serve `site` plus generated `pages` ({path: bytes}, e.g. the check page) on 127.0.0.1, a free port, in a thread."
    class H(SimpleHTTPRequestHandler):
        def do_GET(self):
            extra = pages.get(self.path.split("?")[0])
            if extra is not None:
                self.send_response(200); self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(extra))); self.end_headers(); self.wfile.write(extra)
            else: super().do_GET()
        def log_message(self, *a): pass
        def handle(self):
            try: super().handle()
            except (BrokenPipeError, ConnectionResetError): pass   # Chromium closed the connection early
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def chromium(exe, args, timeout=120):
    "Run headless Chromium in its own process group; on timeout the whole group is killed and the check fails."
    import signal
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as prof:
        p = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={prof}", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try: out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL); p.communicate()
            sys.exit(f"FAIL: chromium did not finish within {timeout} s ({' '.join(args[-1:])}); a loaded machine may need --timeout")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def blank_png(path: Path):
    "True when the screenshot is missing or a single colour."
    if not path.exists() or path.stat().st_size == 0: return True
    try:
        from PIL import Image
    except ImportError:
        return path.stat().st_size < 2000
    im = Image.open(path).convert("L")
    lo, hi = im.getextrema()
    return hi - lo < 30


def main():
    ap = argparse.ArgumentParser(description="Check the built docs site in headless Chromium.")
    ap.add_argument("--site", default=str(ROOT / "site"), help="built site directory (bash .ci/docs)")
    ap.add_argument("--api", default="SpatialVAE", help="name whose API entry must render (the model class)")
    ap.add_argument("--min-figures", type=int, default=1, help="images that must load, over all pages")
    ap.add_argument("--shots", default=os.path.join(tempfile.gettempdir(), "spatial_vae_docs"),
                    help="folder for the screenshots (home.png, api.png, tutorial.png, experiment.png)")
    ap.add_argument("--tutorial", default=None, help="tutorial page URL (default: the page named NN_tutorial)")
    ap.add_argument("--experiment", default="/experiments/02_dlpfc/", help="experiment page URL to screenshot")
    ap.add_argument("--package", default="spatial_vae", help="package whose public names must all have API entries")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--timeout", type=int, default=600, help="seconds Chromium may take to load and check every page")
    a = ap.parse_args()
    site, failures = Path(a.site).resolve(), []
    def fail(msg): failures.append(msg); print("FAIL:", msg)
    def ok(msg): print("ok:  ", msg)

    if not (site / "index.html").exists(): sys.exit(f"FAIL: no built site at {site}: run bash .ci/docs first")
    if not Path(a.chromium).exists(): sys.exit(f"FAIL: chromium not found at {a.chromium} (apt-get install chromium)")
    urls = page_urls(site)
    print(f"site {site}: {len(urls)} pages: {' '.join(urls)}")
    api_url = find_api_page(site, a.api)
    if api_url: ok(f"API entry '{a.api}' is a heading on page {api_url}")
    else: fail(f"no page has a heading '{a.api}': its show_doc output is missing (is the notebook that exports "
               f"{a.api} in nbs/, and did bash .ci/docs run after it?)")

    tutorial = a.tutorial or next((u for u in urls if re.search(r"/\d+[a-z]?_tutorial/$", u)), None)
    shots = [("home", "/", ""), ("api", api_url, ""), ("tutorial", tutorial, ".md-content img"),
             ("experiment", a.experiment, ".md-content img")]
    pages = {"/__check__.html": check_page(urls, a.api, api_url)}
    srv = serve(site, pages)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        res = dom_verdict(a.chromium, f"{base}/__check__.html", a.timeout, budget=20000)
        shot_dir = Path(a.shots); shot_dir.mkdir(parents=True, exist_ok=True)
        for label, url, sel in shots:
            (shot_dir / f"{label}.png").unlink(missing_ok=True)
            if url not in res["pages"]: continue
            if label == "api": sel = "#" + (res["pages"][url].get("api", {}).get("id") or "none")
            pages[f"/__shot_{label}__.html"] = shot_page(url, sel)
            chromium(a.chromium, ["--virtual-time-budget=15000", "--window-size=1280,1400",
                                  f"--screenshot={shot_dir / f'{label}.png'}", f"{base}/__shot_{label}__.html"],
                     timeout=a.timeout)
    finally:
        srv.shutdown(); srv.server_close()
    print(f"server on {base} stopped")

    for url, p in res["pages"].items():
        if not p["loaded"]: fail(f"page {url} did not load in Chromium")
        elif p.get("broken_anchors"): fail(f"table of contents of {url} links to missing headings: {p['broken_anchors']}")
    links = broken_links(site, urls)
    for u, h, why in links[:15]: fail(f"link on {u} to {h}: {why}")
    if not links: ok("every internal link and anchor of every page exists in the built site")
    n_ok = sum(1 for p in res["pages"].values() if p["loaded"] and not p.get("broken_anchors"))
    ok(f"{n_ok}/{len(res['pages'])} pages load and their tables of contents point to existing headings")
    if api_url:
        api = res["pages"].get(api_url, {}).get("api") or {}
        if not api.get("found"): fail(f"Chromium shows no heading '{a.api}' on {api_url}")
        else:
            (ok if api["heading_visible"] else fail)(f"heading {api['heading_tag']} '{a.api}' visible on {api_url}")
            sig = api["signature"]
            if f"{a.api}(" in sig and api["signature_lines"] >= 2:
                ok(f"signature renders ({api['signature_lines']} lines): {' '.join(sig.split())[:110]}")
            else: fail(f"no visible signature code block '{a.api}(...)' with parameters after the heading: {sig!r}")
            (ok if api["doc"] else fail)(f"docstring text after the signature: {api['doc'][:1]}")
    nav = [n for n in res["pages"].get("/", {}).get("nav", []) if n["href"] in res["pages"]]
    order = [n["href"] for n in nav]
    def rank(h):   # the story: home, numbered notebooks in order, then folders (experiments), then other pages
        parts = h.strip("/").split("/")
        def num(t):   # "07_recipes" -> (7, ""), "07b_report" -> (7, "b"): numbered notebooks, letter suffixes after their number
            m = re.match(r"(\d+)([a-z]?)_", t)
            return (int(m.group(1)), m.group(2)) if m else (10**6, "")
        if h == "/": return (0, "", (0, ""))
        if len(parts) == 1: return (1, "", num(parts[0])) if num(parts[0])[0] < 10**6 else (3, parts[0], (0, ""))
        return (2, parts[0], num(parts[-1]))
    if not order: fail("no sidebar (primary nav) found on the home page")
    elif order == sorted(order, key=rank) and order[0] == "/":
        ok(f"sidebar reads in story order: {' > '.join(n['text'] for n in nav)}")
    else: fail(f"sidebar is not in story order (home, 00_..., folders): {order}")
    entries = {u: p.get("entries") or [] for u, p in res["pages"].items()}
    n_entries, n_tables, n_bad = sum(map(len, entries.values())), 0, 0
    for u, es in entries.items():
        for e in es:
            probs = entry_problems(e)
            n_tables += e["table"] is not None
            for pr in probs:
                n_bad += 1
                if n_bad <= 25: fail(f"API entry {e['name']} on {u}: {pr}")
    if n_bad > 25: print(f"      ... {n_bad - 25} more API entry problems")
    if not n_entries: fail("no API entries (a heading after a 'source' link) on any page: is the show_doc output there?")
    elif not n_bad:
        ok(f"{n_entries} API entries on {sum(1 for es in entries.values() if es)} pages: each a signature block with no "
           f"inline comments, and a parameters table ({' | '.join(PARAM_HEADER)}) listing every parameter "
           f"({n_tables} tables; the rest take no parameters)")
    kinds = kind_leaks(site, urls)
    for u, snip in kinds[:10]: fail(f"inspect parameter kind shows on {u}: ...{snip}... (render *args/**kwargs)")
    if not kinds: ok("no VAR_KEYWORD / VAR_POSITIONAL anywhere in the pages (code included)")
    if a.package:
        missing = undocumented(a.package, all_headings(site, urls))
        if missing: fail(f"{len(missing)} public name(s) of {a.package} have no API entry on any page: {missing[:12]}")
        else: ok(f"every public function, class, method and property of {a.package} has an API entry")
    leaks = leaked_markup(site, urls)
    for u, what, snip in leaks[:20]: fail(f"{what} shows as text on {u}: ...{snip}...")
    if not leaks: ok("no Pandoc attribute text ({target=...}) and no raw \\cite{...} in the text of any page")
    maths = {u: p["math"] for u, p in res["pages"].items() if p.get("math")}
    no_mj = [u for u, m in maths.items() if not m["mathjax"]]
    if no_mj: fail(f"MathJax is not loaded on {len(no_mj)} page(s): {no_mj[:6]} (is the bundle in the site? bash .ci/docs)")
    for u, m in maths.items():
        if m["n_raw"]: fail(f"raw TeX shows as text on {u} ({m['n_raw']}x, MathJax {m['version']}): {m['raw'][:4]}")
        if m["errors"]: fail(f"MathJax could not typeset on {u}: {m['errors']}")
        if m["scripts"]: fail(f"{u} loads scripts from another host (the site must work offline): {m['scripts'][:3]}")
    with_math = {u: m["rendered"] for u, m in maths.items() if m["rendered"]}
    if not no_mj and not any(m["n_raw"] or m["errors"] for m in maths.values()):
        ok(f"math renders: MathJax {next(iter(maths.values()))['version'] if maths else '?'} loaded on every page, no raw TeX "
           f"left as text; typeset formulas per page: {with_math or 'none'}")
    imgs = [(u, i) for u, p in res["pages"].items() for i in p.get("images", [])]
    good = [(u, i) for u, i in imgs if i["naturalWidth"] > 0 and i["naturalHeight"] > 0]
    bad = [(u, i) for u, i in imgs if not (i["naturalWidth"] > 0 and i["naturalHeight"] > 0)]
    for u, i in bad: fail(f"broken image on {u}: src={i['src']!r} (naturalWidth={i['naturalWidth']})")
    for u, i in good[:8]: ok(f"image loads on {u}: {i['naturalWidth']}x{i['naturalHeight']} px, src={i['src'][:60]!r}")
    msg = f"{len(good)} image(s) load over {len(res['pages'])} pages (need >= {a.min_figures})"
    (ok if len(good) >= a.min_figures else fail)(msg)
    leak_pages = {u for u, _, _ in leaks} | {u for u, _ in kinds}
    for label, url, _ in shots:
        png = Path(a.shots) / f"{label}.png"
        if url is None: fail(f"screenshot {label}: no such page in the site"); continue
        p = res["pages"].get(url)
        if p is None: fail(f"screenshot {label}: page {url} not in the site"); continue
        shown, need = [], []
        if blank_png(png): need.append(f"screenshot {png} missing or blank")
        else: shown.append(f"screenshot {png}")
        if url in leak_pages: need.append("leaked markup (above)")
        else: shown.append("no leaked markup")
        n_img = sum(1 for i in p.get("images", []) if i["naturalWidth"] > 0)
        n_math = (p.get("math") or {}).get("rendered", 0)
        n_tab = sum(1 for e in p.get("entries") or [] if e["table"] is not None)
        if label == "api":
            (shown if n_tab and not any(entry_problems(e) for e in p["entries"]) else need).append(f"{n_tab} parameter tables")
        if label in ("tutorial", "experiment"):
            (shown if n_img >= 2 else need).append(f"{n_img} inline figures (need >= 2)")
            (shown if n_math >= 1 else need).append(f"{n_math} typeset formulas (need >= 1)")
        if need: fail(f"screenshot {label} ({url}): {'; '.join(need)}; has: {', '.join(shown)}")
        else: ok(f"screenshot {label} ({url}): {', '.join(shown)}")
    print(f"\n{'FAILED' if failures else 'PASSED'}: docs check ({len(failures)} failure(s))")
    sys.exit(1 if failures else 0)


if __name__ == "__main__": main()

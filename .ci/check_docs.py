"""Check the built docs site (site/, from `bash .ci/docs`) in headless Chromium.

Serves the site on 127.0.0.1 (a free port, stopped at the end) and opens it in headless Debian Chromium:

1. the API page of the model class (`--api SpatialVAE`, found by name: the page with a heading reading exactly
   that name) renders: the heading is visible, a code block after it holds the signature (`NAME(` plus at least
   one parameter line) and the docstring text follows;
2. figures load: every <img> in the content of every page is decoded by the browser (naturalWidth > 0), at
   least `--min-figures` of them exist (notebook outputs or the paper figures), and none is broken;
3. a screenshot of the API entry is written (`--screenshot`, default /tmp/spatial_vae_docs_api.png) and must not
   be a blank page;
4. every page loads, every table-of-contents link and internal link (page and anchor) exists, and the sidebar reads as the story: Home, the numbered notebooks in order, then the
   folders (experiments), then other pages;
5. math renders: MathJax (the offline bundle, never a CDN) is loaded on every page, and after it has typeset the
   page no raw TeX (`$...$`, `$$...$$`, `\(...\)`, `\[...\]`) is left in the rendered text (outside code blocks);
   pages with math show MathJax output elements (<mjx-container>); no <script> loads from another host;
6. no markup leaks as text: no Pandoc attribute text (`{target=...}`, e.g. nbdev's source links) and no raw LaTeX
   citation (`\cite{...}`) in the text of a built page outside code blocks.

How: a small check page, served beside the site (never written into it), loads each page in a same-origin
<iframe>; its load event waits for them, then a script inspects their DOM and writes a JSON verdict that
`chromium --dump-dom` prints. Exits 1 on any failure and prints what was checked.

Usage: python .ci/check_docs.py [--site site] [--api SpatialVAE] [--min-figures 1] [--screenshot PATH]
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


def shot_page(url, anchor):
    "A page showing `url` in a full-window iframe scrolled to the element `anchor` (for the screenshot)."
    js = ("const f=document.getElementById('f');f.addEventListener('load',()=>{const d=f.contentDocument;"
          f"const e=d.getElementById({json.dumps(anchor)});"
          "if(e)f.contentWindow.scrollTo(0,e.getBoundingClientRect().top+f.contentWindow.scrollY-70);});")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>html,body{{margin:0;height:100%;overflow:hidden}}"
            f"iframe{{border:0;width:100%;height:100%;display:block}}</style></head><body>"
            f"<iframe id='f' src='{html.escape(url)}'></iframe><script>{js}</script></body></html>").encode()


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
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def chromium(exe, args, timeout=120):
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as prof:
        r = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={prof}", *args],
                           capture_output=True, text=True, timeout=timeout)
    return r


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
    ap.add_argument("--screenshot", default=os.path.join(tempfile.gettempdir(), "spatial_vae_docs_api.png"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
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

    pages = {"/__check__.html": check_page(urls, a.api, api_url)}
    srv = serve(site, pages)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        r = chromium(a.chromium, ["--virtual-time-budget=20000", "--window-size=1280,900", "--dump-dom",
                                  f"{base}/__check__.html"], timeout=180)
        m = re.search(r"@@VERDICT@@(.*?)@@ENDVERDICT@@", html.unescape(r.stdout), re.S)
        if not m:
            print(r.stderr[-2000:], file=sys.stderr)
            sys.exit(f"FAIL: chromium returned no verdict (exit {r.returncode}) for {base}/__check__.html")
        res = json.loads(m.group(1))
        shot = Path(a.screenshot)
        if api_url:
            shot.unlink(missing_ok=True)
            anchor = res["pages"].get(api_url, {}).get("api", {}).get("id") or ""
            pages["/__shot__.html"] = shot_page(api_url, anchor)
            chromium(a.chromium, ["--virtual-time-budget=10000", "--window-size=1280,1100", f"--screenshot={shot}",
                                  f"{base}/__shot__.html"])
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
        (fail if blank_png(shot) else ok)(f"screenshot of the API entry: {shot}")
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
    print(f"\n{'FAILED' if failures else 'PASSED'}: docs check ({len(failures)} failure(s))")
    sys.exit(1 if failures else 0)


if __name__ == "__main__": main()

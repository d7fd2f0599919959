"""Check a `spatial-vae run` folder's report.html in headless Chromium (issue #11): what a user opening it sees.

Serves the run folder on 127.0.0.1 (a free port, stopped at the end), loads report.html in headless Debian Chromium
(the same flags and helpers as .ci/check_docs.py) and fails (exit 1, one line per problem) unless the rendered page
shows:

1. the spatial domain map: a visible <img> whose caption (its alt text or the <h2> above it) contains "domain",
   decoded by the browser (naturalWidth > 0) and not a single colour (its pixels, read back through a canvas);
2. the UMAP: the same for a caption containing "UMAP";
3. the metrics: a visible table under a "Metrics" heading whose rows show the run's scores with the values of the
   run's own metrics.json (the file the command wrote next to the report, and whose ARI it printed): every one of
   n_domains, ari, nmi, ari_refined, nmi_refined that metrics.json holds, and at least `--need` (default
   n_domains,ari: the main job on DLPFC 151673 is scored against its layer labels);
4. a full-page screenshot (`--shot`, default RUN/ci/report.png, kept as a CI artefact beside the run's outputs)
   that is not blank (not one colour), and whose regions where the two figures and the metrics table are drawn
   are not blank either.

How: a small check page, served beside the report (never written into the run folder), loads report.html in a
same-origin <iframe>, waits for its images to decode, inspects the DOM and writes a JSON verdict that
`chromium --dump-dom` prints; a second Chromium call screenshots report.html itself at the page's full height.

Usage: python .ci/check_report.py RUN_DIR [--shot PNG] [--need n_domains,ari] [--timeout 180]
"""
import argparse, json, math, re, shutil, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_docs import blank_png, chromium, dom_verdict, serve   # noqa: E402  (same Chromium flags, server, verdict reading and blank test)

SCORES = ("n_domains", "ari", "nmi", "ari_refined", "nmi_refined")
FIGURES = {"spatial domain map": re.compile(r"domain", re.I), "UMAP": re.compile(r"umap", re.I)}

CHECK_JS = r"""
function visible(el) {
  const r = el.getBoundingClientRect(), s = el.ownerDocument.defaultView.getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden' && +s.opacity > 0;
}
function box(el) {
  const r = el.getBoundingClientRect(), w = el.ownerDocument.defaultView;
  return {x: r.left + w.scrollX, y: r.top + w.scrollY, w: r.width, h: r.height};
}
function caption(img) {   // the <h2> (or other heading) right before the image, else nothing
  for (let n = img.previousElementSibling; n; n = n.previousElementSibling)
    if (/^H[1-6]$/.test(n.tagName)) return n.textContent.trim();
  return '';
}
function pixels(img) {    // luminance range and number of distinct colours of the decoded image (drawn small)
  if (!img.naturalWidth) return null;
  const w = Math.min(300, img.naturalWidth), h = Math.max(1, Math.round(img.naturalHeight * w / img.naturalWidth));
  const c = document.createElement('canvas'); c.width = w; c.height = h;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0, w, h);
  let d; try { d = g.getImageData(0, 0, w, h).data; } catch (e) { return {error: String(e)}; }
  let lo = 255, hi = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    lo = Math.min(lo, l); hi = Math.max(hi, l);
    if (colours.size < 1000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  return {lum_range: Math.round(hi - lo), colours: colours.size};
}
async function inspect() {
  const f = document.getElementById('report'), doc = f.contentDocument, out = {loaded: false};
  if (doc && doc.body && doc.body.childElementCount) {
    out.loaded = true; out.title = doc.title;
    const imgs = Array.from(doc.querySelectorAll('img'));
    await Promise.race([Promise.all(imgs.map(i => i.decode().catch(() => null))),
                        new Promise(r => setTimeout(r, 10000))]);
    out.images = imgs.map(i => ({alt: i.getAttribute('alt') || '', caption: caption(i), complete: i.complete,
      naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, visible: visible(i), box: box(i),
      src: (i.getAttribute('src') || '').slice(0, 40), pixels: pixels(i)}));
    const h = Array.from(doc.querySelectorAll('h1,h2,h3,h4')).find(e => e.textContent.trim() === 'Metrics');
    let t = null;
    if (h) for (let n = h.nextElementSibling; n && !/^H[1-6]$/.test(n.tagName); n = n.nextElementSibling)
      if ((t = n.tagName === 'TABLE' ? n : n.querySelector('table'))) break;
    out.metrics = h ? {heading_visible: visible(h), table: !!t, visible: t ? visible(t) : false, box: t ? box(t) : null,
      rows: t ? Array.from(t.querySelectorAll('tr')).map(r => [r.cells[0] ? r.cells[0].textContent.trim() : '',
                                                              r.cells[1] ? r.cells[1].textContent.trim() : '',
                                                              visible(r)]) : []} : null;
    out.height = Math.ceil(doc.documentElement.scrollHeight);
  }
  return out;
}
window.addEventListener('load', async () => {
  let out;
  try { out = await inspect(); } catch (e) { out = {loaded: false, error: String(e && e.stack || e)}; }
  const pre = document.createElement('pre'); pre.id = 'result';
  pre.textContent = '@@VER' + 'DICT@@' + JSON.stringify(out) + '@@END' + 'VERDICT@@';
  document.body.appendChild(pre);
});
"""

WIDTH = 1280                      # window width of both Chromium calls, so the boxes measured fit the screenshot
MAX_HEIGHT = 16000                # Chromium's screenshot limit is near 16384 px


def check_page() -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>report check</title>"
            f"<style>html,body{{margin:0}}iframe{{border:0;display:block}}</style></head><body>"
            f"<iframe id='report' src='/report.html' width='{WIDTH}' height='900'></iframe>"
            f"<script>{CHECK_JS}</script></body></html>").encode()


def same_value(shown: str, want) -> bool:
    "True when the table cell text `shown` is the value `want` of metrics.json (numbers compared as numbers)."
    if isinstance(want, bool) or not isinstance(want, (int, float)): return shown == str(want)
    try: got = float(shown)
    except ValueError: return False
    return math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-12)


def region_blank(png: Path, b: dict) -> bool:
    "True when the screenshot's region `b` (CSS px, device scale 1) is one colour (or lies outside the image)."
    from PIL import Image
    im = Image.open(png).convert("L")
    x0, y0 = max(0, int(b["x"])), max(0, int(b["y"]))
    x1, y1 = min(im.width, int(b["x"] + b["w"])), min(im.height, int(b["y"] + b["h"]))
    if x1 - x0 < 2 or y1 - y0 < 2: return True
    lo, hi = im.crop((x0, y0, x1, y1)).getextrema()
    return hi - lo < 30


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="folder written by `spatial-vae run` (report.html and metrics.json inside)")
    ap.add_argument("--shot", default=None, help="screenshot path (default RUN/ci/report.png)")
    ap.add_argument("--need", default="n_domains,ari", help="metrics that metrics.json and the report must both show")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--timeout", type=int, default=180, help="seconds each Chromium call may take")
    a = ap.parse_args()
    run = Path(a.run).resolve()
    report, mfile = run / "report.html", run / "metrics.json"
    shot = Path(a.shot).resolve() if a.shot else run / "ci" / "report.png"
    failures = []
    def fail(msg): failures.append(msg); print("FAIL:", msg)
    def ok(msg): print("ok:  ", msg)

    if not report.is_file(): sys.exit(f"FAIL: {report} not found: the run wrote no report (spatial-vae run ... --out {a.run})")
    if not mfile.is_file(): sys.exit(f"FAIL: {mfile} not found: nothing to compare the report's metrics with")
    if not Path(a.chromium).exists(): sys.exit(f"FAIL: chromium not found at {a.chromium} (apt-get install chromium)")
    metrics = json.loads(mfile.read_text())
    print(f"report {report} ({report.stat().st_size // 1024} KiB); metrics {mfile}")

    srv = serve(run, {"/__check_report__.html": check_page()})
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        res = dom_verdict(a.chromium, f"{base}/__check_report__.html", a.timeout, window=f"{WIDTH},900")
        if res.get("error"): sys.exit(f"FAIL: the check script failed in Chromium on {report}: {res['error']}")
        if not res.get("loaded"): sys.exit(f"FAIL: {report} did not load in Chromium (empty page)")
        height = min(max(res.get("height") or 900, 900), MAX_HEIGHT)
        shot.parent.mkdir(parents=True, exist_ok=True); shot.unlink(missing_ok=True)
        chromium(a.chromium, ["--virtual-time-budget=15000", "--force-device-scale-factor=1",
                              f"--window-size={WIDTH},{height}", f"--screenshot={shot}", f"{base}/report.html"],
                 timeout=a.timeout)
    finally:
        srv.shutdown(); srv.server_close()
    print(f"server on {base} stopped; page '{res.get('title')}', {res.get('height')} px high, "
          f"{len(res['images'])} image(s)")

    regions = {}
    for what, rx in FIGURES.items():
        hits = [i for i in res["images"] if rx.search(i["alt"]) or rx.search(i["caption"])]
        if not hits:
            fail(f"no image captioned like the {what} ({rx.pattern!r} in its alt text or heading) in the report; "
                 f"images: {[i['caption'] or i['alt'] for i in res['images']]}")
            continue
        i, px = hits[0], hits[0]["pixels"] or {}
        name = f"{what} (\"{i['caption'] or i['alt']}\")"
        if not (i["naturalWidth"] > 0 and i["naturalHeight"] > 0):
            fail(f"{name}: the browser could not decode the image (naturalWidth={i['naturalWidth']}, src={i['src']!r}...)")
        elif not i["visible"]: fail(f"{name}: decoded but not visible on the page (box {i['box']})")
        elif px.get("error") or px.get("lum_range", 0) < 30 or px.get("colours", 0) < 3:
            fail(f"{name}: the image is blank (one colour: {px})")
        else:
            regions[what] = i["box"]
            ok(f"{name}: {i['naturalWidth']}x{i['naturalHeight']} px decoded, shown at "
               f"{i['box']['w']:.0f}x{i['box']['h']:.0f}, {px['colours']}{'+' if px['colours'] >= 1000 else ''} colours")

    mt = res.get("metrics")
    need = [k for k in a.need.split(",") if k]
    if not mt: fail("no 'Metrics' heading in the report")
    elif not (mt["table"] and mt["visible"]): fail("the report's 'Metrics' heading has no visible table after it")
    else:
        rows, n_before = {k: (v, vis) for k, v, vis in mt["rows"]}, len(failures)
        for k in need:
            if k not in metrics: fail(f"metrics.json has no {k!r} (needed: {need}); its keys: {list(metrics)[:20]}")
        shown = []
        for k in SCORES:
            if k not in metrics: continue
            if k not in rows: fail(f"metric {k}={metrics[k]} of metrics.json is not in the report's Metrics table")
            elif not rows[k][1]: fail(f"metric {k} is in the report's Metrics table but not visible")
            elif not same_value(rows[k][0], metrics[k]):
                fail(f"metric {k}: the report shows {rows[k][0]!r}, metrics.json has {metrics[k]!r}")
            else: shown.append(f"{k}={rows[k][0]}")
        if shown and len(failures) == n_before:
            regions["metrics table"] = mt["box"]
            ok(f"Metrics table shows the values of metrics.json: {', '.join(shown)}")

    if blank_png(shot): fail(f"screenshot {shot} missing or blank (one colour)")
    else:
        blank = [w for w, b in regions.items() if region_blank(shot, b)]
        if blank: fail(f"screenshot {shot}: the region of the {', '.join(blank)} is blank (not drawn?)")
        else: ok(f"screenshot {shot} ({WIDTH}x{height} px) is not blank, nor are the regions of the "
                 f"{', '.join(regions) or 'nothing'}")
    print(f"\n{'FAILED' if failures else 'PASSED'}: report check of {report} ({len(failures)} failure(s))")
    sys.exit(1 if failures else 0)


if __name__ == "__main__": main()

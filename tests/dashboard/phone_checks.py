"""What the phone acceptance test measures on a page in a real Chromium, as a user would notice it.

- :data:`SMALL_TEXT_JS`: every rendered text node whose font renders under ``MIN_PX`` CSS px. For SVG text
  the computed font size is in the chart's user units, so it is multiplied by the text's scale on screen
  (``getScreenCTM``): a chart's 15-unit label drawn at half size is 7.5 px.
- :data:`OVERFLOW_JS`: the page's width against the viewport (``document.documentElement.scrollWidth``
  beside ``innerWidth``), scroll containers that are not marked (``.scroller``), and marked ones that
  overflow without their visible "scroll" hint.
- :func:`axe_serious`: axe-core's serious and critical violations (the axe-core bundled by the
  ``axe-playwright-python`` package).
"""

from __future__ import annotations

MIN_PX = 12

SMALL_TEXT_JS = r"""(minPx) => {
  const skip = new Set(['TITLE', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION', 'title', 'desc']);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim() || skip.has(el.tagName) || el.closest('title, desc')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
    if (!rects.length) continue;  // not rendered (display: none, a closed <details>, ...)
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || cs.opacity === '0') continue;
    let px = parseFloat(cs.fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      if (m) px *= Math.hypot(m.a, m.b);
    }
    // screen-reader-only text (clipped to 1 px) is never seen
    if (el.closest('.sr')) continue;
    if (px < minPx - 0.01) out.push({text: n.textContent.trim().slice(0, 40), px: Math.round(px * 10) / 10,
                                       tag: el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined && el.className ? '.' + el.className.split(' ').join('.') : '')});
  }
  return out;
}"""

OVERFLOW_JS = r"""() => {
  const doc = document.documentElement;
  const unmarked = [], hintless = [];
  for (const el of document.querySelectorAll('body *')) {
    const cs = getComputedStyle(el);
    if (!['auto', 'scroll'].includes(cs.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    if (!el.classList.contains('scroller')) {
      unmarked.push(el.tagName.toLowerCase() + '.' + [...el.classList].join('.'));
      continue;
    }
    const hint = el.parentElement.querySelector(':scope > .scroll-hint');
    const shown = hint && hint.getClientRects().length && getComputedStyle(hint).visibility !== 'hidden';
    if (!shown || !hint.textContent.trim()) hintless.push([...el.classList].join('.'));
  }
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, unmarked, hintless};
}"""


def small_text(page) -> list[dict]:
    """The rendered text of ``page`` under :data:`MIN_PX` (empty when every text is large enough)."""
    return page.evaluate(SMALL_TEXT_JS, MIN_PX)


def overflow(page) -> dict:
    return page.evaluate(OVERFLOW_JS)


def axe_serious(page) -> list[str]:
    """axe-core's serious and critical violations on ``page``: ``"rule (impact): target, ..."`` each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:6])
            found.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}): {targets}")
    return found

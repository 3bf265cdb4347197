"""The QR code of a one-time enrolment code, as inline SVG made offline by segno."""

from __future__ import annotations

import segno


def enrolment_qr_svg(code: str, title: str = "") -> str:
    """An inline ``<svg>`` (with a viewBox, so CSS sizes it) encoding exactly ``code``; error level M."""
    qr = segno.make(code, error="m", micro=False)
    return qr.svg_inline(scale=4, border=2, omitsize=True, title=title or None, dark="#111", light="#fff")

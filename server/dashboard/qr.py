"""QR codes as inline SVG made offline by segno: a device's one-time enrolment code, a team screen's address."""

from __future__ import annotations

import segno


def qr_svg(text: str, title: str = "") -> str:
    """An inline ``<svg>`` (with a viewBox, so CSS sizes it) encoding exactly ``text``; error level M."""
    qr = segno.make(text, error="m", micro=False)
    return qr.svg_inline(scale=4, border=2, omitsize=True, title=title or None, dark="#111", light="#fff")


def enrolment_qr_svg(code: str, title: str = "") -> str:
    """The QR code of a one-time enrolment code (:func:`qr_svg`)."""
    return qr_svg(code, title)

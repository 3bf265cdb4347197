"""Hymy: the pieces every process shares (CLI, errors, scoring, opening hours, time).

The device (``kiosk``, ``hardware``, ``sync``) and the central ``server`` packages import from here;
nothing here imports Kivy, gpiozero, requests or a web framework, so it tests in microseconds.
"""

__version__ = "0.1.0"

"""Hymy: the pieces every process shares (CLI, errors, scoring, opening hours, time).

The bottom layer (docs/architecture.md): the device (``kiosk``, ``hardware``, ``sync``), the central
``server`` and the composition (``deploy``) import from here, never the other way; nothing here imports
Kivy, gpiozero, requests or a web framework, so it tests in microseconds.
"""

__version__ = "0.1.0"

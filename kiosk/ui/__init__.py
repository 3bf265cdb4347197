"""The customer's touchscreen (Kivy). ``kiosk.ui.app.create_app(config)`` builds the app.

The only package that imports Kivy. What shows when is decided outside it, without Kivy
(``kiosk.screenflow``, ``kiosk.maintenance``); ``app`` binds those to the widgets. Importing this
package loads nothing heavy: ``faces`` and ``backlight`` import no Kivy; ``app``, ``screens``,
``smiley``, ``idle``, ``comment`` and ``maintenance`` do.
"""

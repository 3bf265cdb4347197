"""GPIO smiley buttons, their LEDs, the staff lamp and the technician's self-test (gpiozero 2).

Every device class takes ``pin_factory=None`` like gpiozero's own; tests pass
``gpiozero.pins.mock.MockFactory``. ``hardware.pins`` is pure and imports no gpiozero.
"""

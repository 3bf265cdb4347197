"""hardware.effects: the LED frames, pure."""

from __future__ import annotations

from itertools import islice

import pytest

from hardware import effects


def test_effects_accept_lights_only_the_pressed_led_at_full_brightness_then_ends_dark():
    frames = effects.accept(4, 2, pwm=False)
    assert frames[0] == effects.Frame((0.0, 0.0, 1.0, 0.0), effects.ACCEPT_ON_S)
    assert frames[-1].values == (0.0,) * 4
    assert effects.total_s(frames) < 1.0


def test_effects_accept_fades_out_on_pwm():
    levels = [f.values[1] for f in effects.accept(3, 1, pwm=True)]
    assert levels[0] == 1.0 and levels == sorted(levels, reverse=True) and levels[-1] == 0.0


def test_effects_repeat_differs_from_accept_dim_on_pwm_and_double_on_plain():
    pwm = effects.repeat(4, 0, pwm=True)
    assert max(f.values[0] for f in pwm) == effects.REPEAT_LEVEL < 1.0
    plain = effects.repeat(4, 0, pwm=False)
    assert [f.values[0] > 0 for f in plain] == [True, False, True, False]
    assert effects.total_s(plain) < effects.ACCEPT_ON_S + effects.ACCEPT_FADE_S


def test_effects_chase_lights_one_led_after_another():
    frames = list(islice(effects.chase(3), 6))
    assert [f.values.index(1.0) for f in frames] == [0, 1, 2, 0, 1, 2]
    assert all(sum(f.values) == 1.0 for f in frames)


def test_effects_pulse_is_soft_and_periodic():
    frames = list(islice(effects.pulse(2), 2 * effects.PULSE_STEPS))
    levels = [f.values[0] for f in frames]
    assert min(levels) == 0.0 and max(levels) <= effects.PULSE_PEAK
    assert levels[: effects.PULSE_STEPS] == levels[effects.PULSE_STEPS:]
    assert sum(f.duration for f in frames[: effects.PULSE_STEPS]) == pytest.approx(effects.PULSE_PERIOD_S)



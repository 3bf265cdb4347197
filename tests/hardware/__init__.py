"""Tests of the hardware package: real gpiozero devices on MockFactory pins, a real Store in tmp_path."""

"""The customer's screen flow as a pure state machine: which screen shows, for how long, in which
language and saying what. No Kivy: the touchscreen app (``kiosk.ui.app``) binds it to widgets and
Kivy's clock, and the tests drive it directly.

question -> follow-up (a reason or praise, when the face asks for one) -> comment (when enabled) ->
thank-you -> question; the thank-you fits the face (``thanks_for``): an apology after a negative face,
a plain thank-you after the neutral one, and only after a positive face today's share of smiles; outside opening hours the closed view instead of the question. Each step that
waits has a timeout, announced as a ``Timer`` request (``ScreenFlow.timer``: seconds and a token) that
the binding schedules; when it fires, ``timeout(token)`` goes back to the question, unless the flow
moved on meanwhile (a stale token is ignored). After every customer the language returns to the
default. GPIO presses may arrive on any screen (``gpio_press``): they are stored already, so the
flow shows what follows them, except on the technician's screens, where the button test voids them.

The screens' names are the Kivy screens' names. Every method runs on one thread (the UI's);
``on_change()`` is called after each change of what should show.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hymy.errors import HymyError
from hymy.hours import is_open
from hymy.protocol import MAX_VALUE_CHARS, Reason, Response, StoreConfig
from hymy.score import LOW_CONFIDENCE_N, is_negative, is_positive, score_counts
from kiosk.clock import ClockReading
from kiosk.i18n import LANGUAGES, N_, _, default_language, translator

log = logging.getLogger(__name__)

QUESTION, FOLLOWUP, COMMENT, THANKS, CLOSED = "question", "followup", "comment", "thanks", "closed"
#: The technician's screens (``kiosk.maintenance``): customers' GPIO presses do not navigate there.
PIN, MAINTENANCE, TEST = "pin", "maintenance", "test"
SERVICE_SCREENS = frozenset({PIN, MAINTENANCE, TEST})
#: Most options one follow-up shows (plus Skip).
MAX_OPTIONS = 6
#: The comment keyboard waits this long after the last keystroke (at least the follow-up timeout), seconds.
COMMENT_IDLE_S = 30.0
#: The thank-you's tone: after a negative face, the neutral face (3 or 5 faces), a positive face.
SORRY, PLAIN, GLAD = "sorry", "plain", "glad"
#: Each tone's heading and line (English message ids, translated when shown).
THANKS_TEXTS: dict[str, tuple[str, str]] = {
    SORRY: (N_("Thank you."), N_("We're sorry it wasn't better. We'll pass this on.")),
    PLAIN: (N_("Thank you."), N_("Your feedback helps us do better.")),
    GLAD: (N_("Thank you!"), N_("Your feedback helps us do better.")),
}


class Capture(Protocol):
    """What the flow needs of the capture core (``kiosk.assembly.KioskCore`` is one)."""

    def record(self, mood: int, source: str = "touch") -> Response: ...

    def record_followup(self, response_id: str, kind: str, value: str) -> object: ...

    def void(self, response_id: str) -> object: ...

    def today_counts(self, timezone: str) -> tuple[dict[int, int], int, int]: ...


@dataclass(frozen=True, slots=True)
class Followup:
    """The follow-up to ask: ``kind`` is ``reason`` or ``praise``; ``options`` the configured choices."""

    kind: str
    options: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Timer:
    """A request to call ``ScreenFlow.timeout(token)`` after ``seconds`` (before any time scaling)."""

    seconds: float
    token: int


def followup_after(config: StoreConfig, response: Response) -> Followup | None:
    """The one follow-up to show after ``response``, or None to thank at once.

    Only counted presses get a follow-up: a repeat press (the same customer pressing again) or a
    press outside opening hours is thanked without further questions.
    """
    if response.flags:
        return None
    kind = config.followup_for(response.mood)
    options = {"reason": config.reasons, "praise": config.praise}.get(kind) or []
    if not options:
        return None
    return Followup(kind, tuple(options[:MAX_OPTIONS]))


def thanks_for(mood: int, scale: int) -> str:
    """The thank-you's tone after face ``mood`` of ``scale``: ``SORRY`` below the middle (an apology,
    never the share of smiling customers), ``PLAIN`` for the neutral middle face, ``GLAD`` above it."""
    if is_negative(mood, scale):
        return SORRY
    return GLAD if is_positive(mood, scale) else PLAIN


def today_percent(counts: dict[int, int], scale: int) -> int | None:
    """Today's share of positive presses as a whole percent, or None while N is too small to say
    (fewer than ``LOW_CONFIDENCE_N`` counted presses): we never shout a figure built on three presses."""
    score = score_counts(counts, scale)
    if score.n < LOW_CONFIDENCE_N or score.positive_pct is None:
        return None
    return int(score.positive_pct + 0.5)


def today_line(percent: int | None, lang: str) -> str:
    """"Today 87 % of our customers smiled" in the current language, or "" for None."""
    if percent is None:
        return ""
    from babel.numbers import format_percent  # CLDR data: loaded when first shown, not at start

    return _("Today {percent} of our customers smiled").format(percent=format_percent(percent / 100, locale=lang))


class ScreenFlow:
    """The customer flow of one kiosk. ``capture``: the capture core (``Capture``); ``config``: a
    callable returning the current ``StoreConfig``; ``clock``: a callable returning a ``ClockReading``
    (the opening hours are checked on its wall clock).

    What should show is in the attributes: ``screen``, ``timer``, ``lang``, ``languages``, ``scale``,
    ``question_text``, ``last_mood``, ``followup`` (and ``options`` in the current language),
    the thank-you's ``thanks`` tone, ``thanks_title`` and ``thanks_text``, ``today_percent`` and
    ``today_line`` (after a positive face only), ``backlight_off`` (the closed view wants the backlight off).
    Nothing shows until ``show_question()``.
    """

    def __init__(self, capture: Capture, config: Callable[[], StoreConfig], clock: Callable[[], ClockReading]):
        self.capture = capture
        self.config = config
        self.clock = clock
        self.screen = ""
        self.timer: Timer | None = None
        self.lang = translator.lang
        self.languages: tuple[str, ...] = LANGUAGES
        self.scale = 4
        self.question_text = ""
        self.response: Response | None = None
        self.followup: Followup | None = None
        self.last_mood = 1
        self.thanks = GLAD
        self.thanks_title = ""
        self.thanks_text = ""
        self.today_percent: int | None = None
        self.today_line = ""
        self.backlight_off = False
        #: Called after every change of what should show (the binding redraws).
        self.on_change: Callable[[], None] | None = None
        #: Called with (mood, button=True) when a GPIO press arrives during the button test.
        self.on_test_press: Callable[..., None] | None = None
        self._tokens = itertools.count(1)

    # ------------------------------------------------------------------ navigation

    def go(self, screen: str, timeout_s: float | None = None) -> None:
        """Show ``screen``; after ``timeout_s`` seconds (None: never) the question comes back."""
        self.screen = screen
        self.timer = None if timeout_s is None else Timer(timeout_s, next(self._tokens))
        self.changed()

    def rearm(self) -> None:
        """Start the current timeout again (a keystroke, a touch on a technician's screen)."""
        if self.timer is not None:
            self.timer = Timer(self.timer.seconds, next(self._tokens))
            self.changed()

    def timeout(self, token: int) -> bool:
        """The binding's timer ``token`` fired: back to the question if it is still the current one."""
        if self.timer is None or self.timer.token != token:
            return False
        log.debug("%s timed out; back to the question", self.screen)
        self.show_question()
        return True

    def changed(self) -> None:
        """Tell the binding that what should show has changed."""
        if self.on_change is not None:
            self.on_change()

    # ------------------------------------------------------------------ the question

    def is_closed(self) -> bool:
        cfg = self.config()
        return not is_open(cfg.opening_hours, cfg.timezone, self.clock().wall)

    def show_question(self, reset_lang: bool = True) -> None:
        """The start screen, or the closed view outside opening hours; back to the default language
        unless ``reset_lang`` is False. The store config is read afresh (scale, languages, texts)."""
        self.response = None
        self.followup = None
        cfg = self.config()
        self.scale = cfg.question.scale
        self.languages = tuple(cfg.languages)
        if reset_lang or self.lang not in self.languages:
            self._switch_lang(default_language(self.languages))
        self.question_text = cfg.question.texts.get(self.lang)
        closed = self.is_closed()
        self.backlight_off = closed and cfg.closed_display == "backlight_off"
        self.go(CLOSED if closed else QUESTION)

    def check_hours(self) -> None:
        """Switch between the question and the closed view when the opening hours say so (periodic)."""
        if self.screen in (QUESTION, CLOSED) and (self.screen == CLOSED) != self.is_closed():
            self.show_question(reset_lang=False)

    def set_lang(self, lang: str) -> None:
        """The customer chose a language: every text follows (catalog texts and the store's own)."""
        self._switch_lang(lang)
        self.question_text = self.config().question.texts.get(lang)
        self.changed()

    def _switch_lang(self, lang: str) -> None:
        translator.switch(lang)
        self.lang = lang

    # ------------------------------------------------------------------ a customer's answer

    def press(self, mood: int, source: str = "touch") -> Response | None:
        """A face was touched on the question: record it (committed before anything else shows), then
        follow up or thank. None when not on the question or when it could not be recorded (logged)."""
        if self.screen != QUESTION:
            return None
        try:
            response = self.capture.record(mood, source)
        except HymyError:
            log.exception("could not record a press of face %s", mood)
            return None
        self.after_response(response)
        return response

    def gpio_press(self, response: Response) -> None:
        """A button press, already recorded by the panel. On the button test it is voided (it was the
        technician's); on the PIN pad and the maintenance page it is kept but changes nothing here."""
        if self.screen == TEST:
            try:
                self.capture.void(response.id)
            except HymyError:
                log.exception("could not void the button test's press %s", response.id)
            if self.on_test_press is not None:
                self.on_test_press(response.mood, button=True)
        elif self.screen not in SERVICE_SCREENS:
            self.after_response(response)

    def after_response(self, response: Response) -> None:
        """Show what follows a stored press: its follow-up, or the thanks."""
        self.response = response
        self.last_mood = response.mood
        cfg = self.config()
        self.followup = followup_after(cfg, response)
        if self.followup is None:
            self.show_thanks()
        else:
            self.go(FOLLOWUP, cfg.followup_timeout_s)

    @property
    def options(self) -> list[tuple[str, str]]:
        """The follow-up's choices as (id, text in the current language)."""
        fu = self.followup
        return [(o.id, o.texts.get(self.lang)) for o in fu.options] if fu else []

    def choose(self, option_id: str) -> None:
        """A follow-up option was touched: store it as its own event, then the comment or the thanks."""
        response, fu = self.response, self.followup
        if response is None or fu is None:
            return
        self.followup = None
        try:
            self.capture.record_followup(response.id, fu.kind, option_id)
        except HymyError:
            log.exception("could not record follow-up %s", option_id)
        cfg = self.config()
        if cfg.comments_enabled:
            self.go(COMMENT, max(COMMENT_IDLE_S, cfg.followup_timeout_s))
        else:
            self.show_thanks()

    def skip(self) -> None:
        """Skip (follow-up) or No thanks (comment): nothing more is stored."""
        self.followup = None
        self.show_thanks()

    def comment_typed(self) -> None:
        """A keystroke on the comment screen: its idle timeout starts again."""
        if self.screen == COMMENT:
            self.rearm()

    def send_comment(self, text: str) -> None:
        """Store the comment (trimmed, at most ``MAX_VALUE_CHARS``) as its own event; then the thanks."""
        text = text.strip()[:MAX_VALUE_CHARS]
        if text and self.response is not None:
            try:
                self.capture.record_followup(self.response.id, "comment", text)
            except HymyError:
                log.exception("could not record a comment")
        self.show_thanks()

    def show_thanks(self) -> None:
        """The thank-you in the tone of the last face (``thanks_for``); after a positive face with
        today's share of smiling customers when the store shows it."""
        cfg = self.config()
        scale = self.response.scale if self.response is not None else self.scale
        self.thanks = thanks_for(self.last_mood, scale)
        title, text = THANKS_TEXTS[self.thanks]
        self.thanks_title, self.thanks_text = _(title), _(text)
        self.today_percent = None
        if cfg.show_today_result and self.thanks == GLAD:
            try:
                counts, _filtered, scale = self.capture.today_counts(cfg.timezone)
                self.today_percent = today_percent(counts, scale)
            except HymyError:  # the customer is thanked all the same, without the figure
                log.exception("could not read today's counts for the thank-you")
        self.today_line = today_line(self.today_percent, self.lang)
        self.go(THANKS, cfg.thank_you_s)

"""The demo's story: stores that differ, a weekly dip with its reason, past alerts, praise, complaints.

One source for ``hymy demo`` (``deploy.demo``) and the server's sample data for tests and screenshots
(``server.dashboard.sample``); pure data and patterns (``hymy.pressplan``), no I/O. What a manager finds
(the README's demo section says the same):

- **Helsinki Kamppi** (the demo's own kiosk) is steady and good (index about 84), except that since the
  rota changed three weeks ago only one till is open on Tuesdays 16-18: the mood drops to about 30 and
  "Queue" is most of the reasons given then. The heat map flags those two hours against the rest of the
  week; on the first such Tuesday the Today card's "hour that differs most" is one of them (later
  Tuesdays' own same-hour baselines already hold the dip, so Today honestly calls them usual; the heat
  map carries the weekly pattern). The unhappy-customers alert fired on each of those Tuesdays; the
  store manager acknowledged the first two with comments, the regional manager added one.
- **Stockholm Södermalm** (a simulated device) struggles: about 70 for weeks, then about 52 for the last
  two weeks since a new supplier left shelves empty ("Selection" dominates, complaints in Swedish),
  plus last Saturday's lunch-time incident (the card terminal failed: an alert, acknowledged with a
  comment). It ranks last on Compare; its Trends line falls.
- **Tampere Hervanta** (another region, a small simulated device) is steady in the middle (about 76).
- **Praise**: praise follow-ups at every store and positive comments in Finnish, Swedish and English
  (one in five happy customers who answer the follow-up types one); the few negative comments reach managers (reasons, CSV) but never the staff's praise views.

How it is built: each store is a :class:`~hymy.pressplan.Pattern`; its presses go through the real
paths (the kiosk's capture core, a simulated device's sync agent and the device API); the alert
episodes come from the server's alert engine replayed over each ``watched`` spell's occurrence, then
acknowledged and commented through the alert service (:class:`Acknowledgement`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hymy.pressplan import Pattern, Spell

REASONS = [
    {"id": "queue", "texts": {"fi": "Jono", "sv": "Kön", "en": "Queue"}},
    {"id": "service", "texts": {"fi": "Palvelu", "sv": "Service", "en": "Service"}},
    {"id": "selection", "texts": {"fi": "Valikoima", "sv": "Sortiment", "en": "Selection"}},
    {"id": "price", "texts": {"fi": "Hinta", "sv": "Pris", "en": "Price"}},
    {"id": "cleanliness", "texts": {"fi": "Siisteys", "sv": "Renlighet", "en": "Cleanliness"}},
]
PRAISE = [
    {"id": "cashier", "texts": {"fi": "Kassan palvelu", "sv": "Kassapersonalen", "en": "The cashier"}},
    {"id": "advice", "texts": {"fi": "Hyvä neuvonta", "sv": "Bra rådgivning", "en": "Good advice"}},
    {"id": "fresh", "texts": {"fi": "Tuoreet tuotteet", "sv": "Färska varor", "en": "Fresh products"}},
]
#: The demo's alert rule: half or more of at least 6 presses in 30 minutes on an unhappy face.
ALERT_RULES = [{"id": "unhappy-30min", "kind": "negative_share", "window_min": 30, "min_count": 6,
                "threshold": 50, "local": True}]

HOURS_HEL = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": ["10:00-18:00"]}
HOURS_STO = {d: ["09:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-17:00"]}
HOURS_TRE = {d: ["07:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": ["10:00-20:00"]}

#: The Tuesday dip: which local weekday (0 = Monday) and hours, and how many days back it began.
DIP_WEEKDAY, DIP_HOURS, DIP_DAYS = 1, (16, 18), 21

#: Positive comments typed after a happy face, per language.
COMPLIMENTS = {
    "Helsinki Kamppi": {
        "fi": ("Kiitos Marille kassalla – aina hymyssä suin!", "Nopea kassa ja ystävällinen myyjä.",
               "Ihanat tuoreet leivät, kiitos!", "Kalatiskin myyjä osasi neuvoa hienosti.",
               "Kiitos kun autoitte kantamaan ostokset autoon!", "Siisti ja valoisa myymälä, kiva käydä."),
        "sv": ("Tack för hjälpen att hitta rätt storlek!", "Trevlig personal, tack!",
               "Så fint bröd i dag!"),
        "en": ("Lovely fresh bread and a very friendly cashier.",
               "Thank you for helping me find the gluten-free shelf!", "Quick checkout, friendly smile. Thanks!")},
    "Stockholm Södermalm": {
        "sv": ("Tack Elin i kassan, alltid glad!", "Bra rådgivning i frukt och grönt.",
               "Snabb och trevlig service, tack!", "Bästa kaffet i stan."),
        "en": ("Great coffee selection, thanks!", "The staff helped me carry everything to the taxi!"),
        "fi": ("Kiitos ystävällisestä palvelusta!",)},
    "Tampere Hervanta": {
        "fi": ("Hyvä valikoima ja siisti kauppa.", "Kiitos avuliaasta palvelusta!",
               "Aina tuoretta leipää aamulla."),
        "en": ("Friendly staff every time.",)},
}


#: The share of answered follow-ups after a happy face that carry a comment: enough that the newest
#: praise messages a praise page or team screen lists hold some customers' own words.
PRAISE_COMMENTS = 0.2


def _all(by_language: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(text for texts in by_language.values() for text in texts)


KAMPPI_PATTERN = Pattern(
    index=84, rate=30, comment_share=0.015, praise_comment_share=PRAISE_COMMENTS,
    reasons={"price": 3, "selection": 3, "service": 2, "queue": 2, "cleanliness": 1},
    praise={"cashier": 5, "fresh": 3, "advice": 2},
    compliments=_all(COMPLIMENTS["Helsinki Kamppi"]),
    complaints=("Maitohylly oli tyhjä.", "Hinnat nousseet liikaa.", "Too expensive compared to last year."),
    spells=(Spell(28, weekday=DIP_WEEKDAY, hours=DIP_HOURS, days_ago=(DIP_DAYS, 0), flow=1.2, watched=True,
                  reasons={"queue": 8, "service": 1, "price": 1}, comment_share=0.1,
                  complaints=("Jono oli taas pitkä, vain yksi kassa auki.",
                              "Odotin 15 minuuttia, vain yksi kassa auki tiistai-iltana.",
                              "Lång kö och bara en kassa öppen.",
                              "Queue all the way to the bread aisle, only one till open.")),),
)

SODERMALM_PATTERN = Pattern(
    index=70, rate=10, comment_share=0.05, praise_comment_share=PRAISE_COMMENTS,
    reasons={"selection": 3, "cleanliness": 2, "price": 2, "service": 2, "queue": 1},
    praise={"advice": 4, "cashier": 3, "fresh": 1},
    compliments=_all(COMPLIMENTS["Stockholm Södermalm"]),
    complaints=("Smutsigt golv vid kassorna.", "För dyrt."),
    spells=(
        # a new supplier two weeks ago: empty shelves
        Spell(52, days_ago=(14, 0), reasons={"selection": 6, "cleanliness": 1, "price": 1}, comment_share=0.04,
              complaints=("Hyllorna var tomma igen.", "Inga bananer på hela veckan.",
                          "Half the shelves were empty again.", "Smutsigt golv vid kassorna.")),
        # last Saturday's lunch: the card terminal failed
        Spell(25, weekday=5, hours=(12, 14), days_ago=(8, 1), flow=1.5, watched=True,
              reasons={"service": 4, "queue": 4}, comment_share=0.15,
              complaints=("Kortterminalen fungerade inte, fick betala kontant.",
                          "Card payments down and a huge queue.")),
    ),
)

TAMPERE_PATTERN = Pattern(
    index=76, rate=6, comment_share=0.04, praise_comment_share=PRAISE_COMMENTS,
    praise={"fresh": 3, "cashier": 2, "advice": 1},
    compliments=_all(COMPLIMENTS["Tampere Hervanta"]),
    complaints=("Pullonpalautus oli taas rikki.", "Parkkipaikka täynnä.", "Kassajono liian pitkä."),
)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """How a person took one alert episode: ``by`` (a display name) acknowledged it ``after_min`` minutes
    after it fired with ``comment``; ``later`` holds further comments ``(hours after firing, by, text)``."""

    by: str
    after_min: float
    comment: str
    later: tuple[tuple[float, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StoryStore:
    """One store of the story. ``device``: ``"kiosk"`` (the demo's own kiosk) or ``"simulated"`` (a
    simulated device delivering through the device API). ``acknowledgements``: one per occurrence of its
    watched spells, oldest first (None: nobody took that one; the rest are left as the engine closed them).
    ``manager``: the store manager's ``(username, display name)``."""

    name: str
    timezone: str
    opening_hours: dict[str, list[str]]
    region: str
    pattern: Pattern
    device: str
    device_name: str
    seed: int
    manager: tuple[str, str]
    acknowledgements: tuple[Acknowledgement | None, ...] = ()


REGIONAL_MANAGER = ("manager", "Riikka Aaltonen")
SOUTH, PIRKANMAA = "Etelä-Suomi ja Tukholma", "Pirkanmaa"

KAMPPI = StoryStore(
    "Helsinki Kamppi", "Europe/Helsinki", HOURS_HEL, SOUTH, KAMPPI_PATTERN, "kiosk", "Kamppi exit", 7,
    ("anna", "Anna Virtanen"),
    (Acknowledgement("Anna Virtanen", 6, "Vain yksi kassa auki uuden vuorolistan takia. Avasin toisen kassan.",
                     later=((19.0, REGIONAL_MANAGER[1], "Katsotaan tiistain vuorolista yhdessä torstaina."),)),
     Acknowledgement("Anna Virtanen", 11, "Taas tiistaina 16–18 sama jono. Pyysin lisää väkeä tiistai-iltoihin.")),
)
SODERMALM = StoryStore(
    "Stockholm Södermalm", "Europe/Stockholm", HOURS_STO, SOUTH, SODERMALM_PATTERN, "simulated",
    "Södermalm checkout (simulated)", 11, ("erik", "Erik Lindqvist"),
    (Acknowledgement("Erik Lindqvist", 4, "Kortterminalen låg nere, vi öppnade en extra kassa för kontanter.",
                     later=((3.0, "Erik Lindqvist", "Leverantören har bytt terminalen."),)),),
)
TAMPERE = StoryStore(
    "Tampere Hervanta", "Europe/Helsinki", HOURS_TRE, PIRKANMAA, TAMPERE_PATTERN, "simulated",
    "Hervanta exit (simulated)", 13, ("tiina", "Tiina Mäkelä"),
)
STORES = (KAMPPI, SODERMALM, TAMPERE)


def store_settings(store: StoryStore) -> dict:
    """A story store's config for ``server.admin.create_store``: 4 faces, reasons after the unhappy faces,
    praise after the happiest, comments on, today's result on the thank-you, the demo's alert rule."""
    return {
        "timezone": store.timezone,
        "opening_hours": store.opening_hours,
        "reasons": REASONS,
        "praise": PRAISE,
        "followup": {"1": "reason", "2": "reason", "4": "praise"},
        "comments_enabled": True,
        "show_today_result": True,
        "alert_rules": ALERT_RULES,
    }

"""People and their settings: time, zone, days, themes, pause and stop, and onboarding.

Every change to a setting ends in `reschedule`, which keeps the one indexed due instant
per person right; that single field is what lets the ticker stay cheap at any scale.
Onboarding is a run of questions in `conversation`; a person who moves on by using a
command gets the defaults for what they had not answered, and is told which.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from bot.core import conversation, zones
from bot.core.catalog import CORE_THEMES, Depth, Theme
from bot.core.context import Context, Coordinates, Incoming
from bot.core.conversation import ONBOARDING, Option, Question
from bot.core.messages import Button, Keyboard, LocationRequest, Outcome, Text
from bot.core.parsing import (
    ALL_DAYS,
    InputError,
    days_to_mask,
    format_days,
    format_time,
    mask_to_days,
    parse_days,
    parse_themes,
    parse_time,
)
from bot.core.schedule import Occurrence, local_date, local_instant, next_occurrence
from bot.core.selection import steering_in_words, stricter, together_themes
from bot.core.texts import SHARE_LOCATION, SHARE_LOCATION_NOTE
from bot.core.zones import ZONE_REGIONS
from db.models import Delivery, Person
from db.session import insert_unless_present

# Paused with no end date: until /resume.
PAUSED_INDEFINITELY = date(9999, 12, 31)
DEFAULT_TIME = "08:00"
DEFAULT_ZONE = "UTC"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def find_person(session: Session, platform: str, user_id: str) -> Person | None:
    """The person, with their row locked on PostgreSQL until the transaction ends.

    So one person's events are handled one at a time even when they arrive together (two
    quick messages on Discord, two workers): nothing they write can be numbered twice or
    lost to a conflict. SQLite takes its one write lock up front anyway.
    """
    return session.scalar(
        select(Person)
        .where(Person.platform == platform, Person.platform_user_id == user_id)
        .with_for_update()
    )


def create_person(session: Session, ctx: Context, incoming: Incoming) -> Person:
    """The person for this platform account, created now unless it appeared meanwhile."""
    insert_unless_present(
        session,
        Person,
        ("platform", "platform_user_id"),
        platform=incoming.platform,
        platform_user_id=incoming.user_id,
        display_name=incoming.display_name or "Your partner",
        created_at=ctx.clock.now(),
        local_time=DEFAULT_TIME,
        timezone=DEFAULT_ZONE,
        weekdays=days_to_mask(ALL_DAYS),
        themes=",".join(t.value for t in CORE_THEMES),
        theme_weights={},
        conversation={},
        last_reply_number=0,
        stopped=False,
        unreachable=False,
    )
    person = find_person(session, incoming.platform, incoming.user_id)
    assert person is not None, "inserted or already present"
    return person


def zone_of(person: Person) -> ZoneInfo:
    return ZoneInfo(person.timezone)


def themes_of(person: Person) -> tuple[Theme, ...]:
    return tuple(Theme(value) for value in person.themes.split(",") if value)


def today_for(person: Person, ctx: Context) -> date:
    return local_date(ctx.clock.now(), zone_of(person))


def is_paused_on(person: Person, day: date) -> bool:
    return person.paused_until is not None and day <= person.paused_until


def reschedule(person: Person, now: datetime) -> None:
    """Set the next due instant from the settings, never twice for one practice day."""
    person.next_due_at = None
    person.next_due_date = None
    if person.onboarded_at is None or person.stopped or person.unreachable:
        return
    if person.paused_until == PAUSED_INDEFINITELY:
        return
    occurrence = _next_at(
        person, now, mask_to_days(person.weekdays), after=person.last_practice_date
    )
    if occurrence is not None:
        person.next_due_at = occurrence.due_at
        person.next_due_date = occurrence.practice_date
    lookback = _next_lookback(person, now)
    if lookback is not None and (person.next_due_at is None or lookback < person.next_due_at):
        person.next_due_at = lookback  # the planner wakes for it; the practice day stays


def _next_at(
    person: Person, now: datetime, weekdays: frozenset[int], *, after: date | None
) -> Occurrence | None:
    """The first of `weekdays` at the person's time that is not past, after `after` and
    after any pause."""
    zone = zone_of(person)
    start = local_date(now, zone)
    if after is not None:
        start = max(start, after + timedelta(days=1))
    if person.paused_until is not None:
        start = max(start, person.paused_until + timedelta(days=1))
    return next_occurrence(
        zone=zone,
        at=time.fromisoformat(person.local_time),
        weekdays=weekdays,
        from_date=start,
        not_before=now,
    )


def _next_lookback(person: Person, now: datetime) -> datetime | None:
    """When the weekly look-back is due: its weekday at the person's time, a week after
    the last, never during a pause (the caller has already left out the stopped and
    paused)."""
    if person.lookback_weekday is None:
        return None
    last = person.lookback_sent_on
    occurrence = _next_at(
        person,
        now,
        frozenset({person.lookback_weekday}),
        after=last + timedelta(days=6) if last is not None else None,
    )
    return occurrence.due_at if occurrence is not None else None


def describe_next(person: Person) -> str:
    if person.onboarded_at is None:
        return "Daily practices are not set up yet: /start sets them up in a minute."
    if person.stopped:
        return "Daily practices are stopped. /start begins them again."
    if person.paused_until == PAUSED_INDEFINITELY:
        return "Daily practices are paused until you /resume."
    if person.next_due_date is None:
        return "No practice is scheduled: choose at least one day with /settings days."
    local = due_instant_today(person, person.next_due_date).astimezone(zone_of(person))
    return f"Your next practice comes {local:%A %d %B at %H:%M} ({person.timezone})."


def depth_limit_of(person: Person, partner: Person | None = None) -> Depth | None:
    """How deep practices may go for the person's couple: the stricter choice applies."""
    return stricter(*(_depth(p) for p in (person, partner) if p is not None))


def _depth(person: Person) -> Depth | None:
    return Depth(person.depth_limit) if person.depth_limit else None


DEPTH_WORDS = {
    None: "as you go (gentle first, deeper after a week, brave after about a month)",
    Depth.DEEPER: "no brave practices",
    Depth.GENTLE: "gentle only",
}
# What `/settings depth …` takes, and the limit each means.
DEPTH_CHOICES: dict[str, Depth | None] = {
    "all": None,
    "no-brave": Depth.DEEPER,
    "gentle": Depth.GENTLE,
}
_DEPTH_ALIASES = {"brave": "all", "as earned": "all", "nobrave": "no-brave", "no brave": "no-brave"}


def steering_now(person: Person) -> str:
    """The person's steering in words, as `/settings` and the More/Less buttons say it."""
    words = steering_in_words(person.theme_weights)
    if not words:
        return "No steering now: every theme you get is drawn evenly."
    return f"Your steering now: {words}. /settings steering reset sets it back."


def lookback_words(person: Person) -> str:
    if person.lookback_weekday is None:
        return "off"
    return f"{WEEKDAYS[person.lookback_weekday].capitalize()}s, at {person.local_time}"


def together_lines(person: Person, partner: Person) -> list[str]:
    """What the couple gets together and why, said on pairing and in /settings."""
    mine, theirs = themes_of(person), themes_of(partner)
    together = together_themes(mine, theirs)
    names = _and_list([t.label.lower() for t in together])
    if set(mine) & set(theirs):
        why = f"the theme{'s' if len(together) > 1 else ''} you both chose"
    else:
        why = "you chose no theme in common, so both your choices count"
    lines = [f"Together with {partner.display_name} you get {names}: {why}."]
    limit, theirs_limit = depth_limit_of(person, partner), _depth(partner)
    if limit is not None:
        whose = "your choice" if _depth(person) == limit else f"{partner.display_name}'s choice"
        if theirs_limit == _depth(person):
            whose = "you both chose it"
        lines.append(
            f"Depth together: {DEPTH_WORDS[limit]} ({whose}; for a couple the stricter "
            "choice applies)."
        )
    return lines


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def settings_summary(person: Person, partner: Person | None = None) -> str:
    themes = ", ".join(t.label for t in themes_of(person))
    lines = [
        "Your settings:",
        f"Time: {person.local_time}",
        f"Time zone: {person.timezone}",
        f"Days: {format_days(mask_to_days(person.weekdays))}",
        f"Themes: {themes}",
        f"Depth: {DEPTH_WORDS[_depth(person)]}",
        f"Steering: {steering_in_words(person.theme_weights) or 'none'}",
        f"Weekly look-back: {lookback_words(person)}",
    ]
    if partner is not None:
        lines += together_lines(person, partner)
    if person.paused_until is not None and person.paused_until != PAUSED_INDEFINITELY:
        lines.append(f"Paused through {person.paused_until:%A %d %B}.")
    lines += ["", describe_next(person)]
    return "\n".join(lines)


def settings_buttons(person: Person) -> Keyboard:
    rows: list[tuple[Button, ...]] = [
        (Button("Change time", "/settings time"), Button("Change time zone", "/settings zone")),
        (Button("Change days", "/settings days"), Button("Change themes", "/settings themes")),
        (Button("Depth", "/settings depth"), Button("Weekly look-back", "/settings lookback")),
    ]
    if steering_in_words(person.theme_weights):
        rows.append((Button("Reset steering", "/settings steering reset"),))
    return tuple(rows)


def depth_prompt(person: Person) -> Outcome:
    return Outcome().say(
        f"How deep may practices go? Now: {DEPTH_WORDS[_depth(person)]}. Brave practices ask "
        "the most of you; gentle ones the least. With a partner, the stricter choice of the "
        "two applies. Tap one, or type /settings depth all, no-brave or gentle.",
        (
            (
                Button("All, as I go", "/settings depth all"),
                Button("No brave ones", "/settings depth no-brave"),
            ),
            (Button("Gentle only", "/settings depth gentle"),),
        ),
    )


def lookback_prompt(person: Person) -> Outcome:
    days = [Button(name.capitalize()[:3], f"/settings lookback {name}") for name in WEEKDAYS]
    return Outcome().say(
        f"Once a week, at your time, I can send you the week's practices and one question "
        f"to look back on, privately: nothing counted, nothing compared. Now: "
        f"{lookback_words(person)}. Tap a day, or type /settings lookback sunday (or off).",
        (tuple(days[:4]), (*days[4:], Button("Off", "/settings lookback off"))),
    )


def set_depth(person: Person, value: str) -> str:
    said = " ".join(value.lower().split())
    choice = _DEPTH_ALIASES.get(said, said)
    if choice not in DEPTH_CHOICES:
        raise InputError(
            "Depth is all (as you go, brave ones included), no-brave or gentle, for example "
            "/settings depth no-brave."
        )
    limit = DEPTH_CHOICES[choice]
    person.depth_limit = limit.value if limit is not None else None
    return f"Depth set: {DEPTH_WORDS[limit]}."


def set_lookback(person: Person, value: str) -> str:
    said = value.strip().lower()
    if said in {"off", "no", "none", "stop"}:
        person.lookback_weekday = None
        return "Weekly look-back off."
    days = parse_days(said) if said else frozenset()
    if len(days) != 1:
        raise InputError(
            "The look-back comes on one day a week: type /settings lookback sunday (any "
            "weekday), or /settings lookback off."
        )
    (person.lookback_weekday,) = days
    return (
        f"Weekly look-back on: {lookback_words(person)}, privately, with the week's practices "
        "and one question. /settings lookback off turns it off."
    )


def reset_steering(person: Person) -> str:
    """Back to even weights; the cards' More/Less marks go too, so a tap counts again."""
    session = object_session(person)
    assert session is not None, "a person read from the database"
    person.theme_weights = {}
    session.execute(update(Delivery).where(Delivery.person_id == person.id).values(feedback=None))
    return "Steering reset: every theme you get is drawn evenly again."


def time_prompt() -> tuple[str, Keyboard]:
    times = ("07:00", "08:00", "12:30", "18:00", "21:00")
    return (
        "What time of day suits you for a practice? Tap one, or type any time (7:30, 19:00, 7pm).",
        (tuple(Button(t, f"/settings time {t}") for t in times),),
    )


LOCATION_REQUEST = LocationRequest(SHARE_LOCATION, SHARE_LOCATION_NOTE)


def zone_prompt(region: str | None = None) -> tuple[str, Keyboard]:
    if region is None:
        regions: Keyboard = tuple(
            (Button(name, f"/settings zone {name}"),) for name in ZONE_REGIONS
        )
        return (
            "Which time zone are you in? Pick a region, or type your city (Berlin), a zone "
            "name (America/New_York) or an offset (UTC+2).",
            (*regions, (Button("UTC", "/settings zone UTC"),)),
        )
    zones = ZONE_REGIONS[region]
    cities: Keyboard = tuple(
        tuple(Button(z.split("/")[-1].replace("_", " "), f"/settings zone {z}") for z in pair)
        for pair in (zones[i : i + 3] for i in range(0, len(zones), 3))
    )
    return (f"{region}: pick a city in your time zone, or type another one.", cities)


def zone_choice_prompt(options: tuple[Option, ...]) -> tuple[str, Keyboard]:
    """The choices a zone question offered, asked again."""
    return (
        "Which of these is your time zone? Tap one, or type your city, a zone name or an offset.",
        _option_buttons(options),
    )


def _option_buttons(options: tuple[Option, ...]) -> Keyboard:
    return tuple((Button(o.label, f"/settings zone {o.value}".rstrip()),) for o in options)


def days_prompt() -> tuple[str, Keyboard]:
    return (
        "Which days would you like a practice? Tap one, or type days such as mon,wed,fri.",
        (
            (
                Button("Every day", "/settings days daily"),
                Button("Weekdays", "/settings days mon-fri"),
                Button("Weekends", "/settings days sat,sun"),
            ),
        ),
    )


def themes_prompt(person: Person) -> tuple[str, Keyboard]:
    chosen = set(themes_of(person))
    rows: list[tuple[Button, ...]] = [
        (Button("The core three (recommended)", "/settings themes core"),),
        (Button("All six", "/settings themes all"),),
    ]
    for theme in Theme:
        mark = "✓ " if theme in chosen else ""
        sign = "-" if theme in chosen else "+"
        rows.append((Button(f"{mark}{theme.label}", f"/settings themes {sign}{theme.value}"),))
    body = (
        "Which themes would you like? Tap to add or remove one, or type them: "
        "playfulness,individuality. The core three are individuality, playfulness and "
        "self-reflection."
    )
    if conversation.onboarding_question(person) is Question.THEMES:
        rows.append((Button("Done", "/settings themes done"),))
    return body, tuple(rows)


CONSENT_BUTTONS: Keyboard = (
    (Button("I agree, let's begin", "/start agree"), Button("Safety first", "/safety")),
)


def setting_prompt(person: Person, question: Question) -> tuple[str, Keyboard]:
    """The question for one setting, with its buttons."""
    if question is Question.TIME:
        return time_prompt()
    if question is Question.ZONE:
        state = conversation.of(person)
        if state.question is Question.ZONE and state.options:
            return zone_choice_prompt(state.options)
        return zone_prompt()
    if question is Question.DAYS:
        return days_prompt()
    return themes_prompt(person)


def ask_next(person: Person, ctx: Context, question: Question, outcome: Outcome) -> Outcome:
    """Ask an onboarding question (or the consent again) and remember it is open."""
    conversation.ask(person, question, ctx.clock.now())
    if question is Question.CONSENT:
        return outcome.say("Tap “I agree” to begin, or read /safety first.", CONSENT_BUTTONS)
    body, keys = setting_prompt(person, question)
    asks_zone = question is Question.ZONE
    outcome.replies.append(Text(body, keys, LOCATION_REQUEST if asks_zone else None))
    return outcome


def advance_onboarding(
    person: Person, ctx: Context, finished: Question, outcome: Outcome
) -> Outcome:
    """Move past `finished` if it was the current step, and ask the next question."""
    state = conversation.of(person)
    if state.resume is not None and state.question is finished:
        return ask_next(person, ctx, state.resume, outcome)  # back to where onboarding was
    if conversation.onboarding_question(person) is not finished:
        return outcome
    if finished is Question.CONSENT:
        person.consented_at = ctx.clock.now()
    index = ONBOARDING.index(finished)
    if index + 1 < len(ONBOARDING):
        return ask_next(person, ctx, ONBOARDING[index + 1], outcome)
    conversation.settle(person)
    person.onboarded_at = ctx.clock.now()
    reschedule(person, ctx.clock.now())
    return outcome.say(
        "You're all set. " + describe_next(person) + "\n\n"
        "Want one right now? Type /today. To practise with your partner, type /pair and "
        "send them the code. /help lists everything.",
        ((Button("Today's practice", "/today"), Button("Invite my partner", "/pair")),),
    )


def finish_onboarding(person: Person, ctx: Context, outcome: Outcome) -> None:
    """Someone who agreed and then moved on by a command: defaults for the rest, said once."""
    if person.consented_at is None or person.onboarded_at is not None:
        return
    open_step = conversation.onboarding_question(person) or Question.TIME
    unanswered = ONBOARDING[max(ONBOARDING.index(open_step), 1) :]
    defaults = {
        Question.TIME: f"time {person.local_time}",
        Question.ZONE: f"time zone {person.timezone}",
        Question.DAYS: f"days: {format_days(mask_to_days(person.weekdays))}",
        Question.THEMES: "themes: " + ", ".join(t.label.lower() for t in themes_of(person)),
    }
    if conversation.onboarding_question(person) is not None:
        conversation.settle(person)
    person.onboarded_at = ctx.clock.now()
    reschedule(person, ctx.clock.now())
    outcome.say(
        "You're set up, with the usual choices for what you hadn't picked yet: "
        + "; ".join(defaults[q] for q in unanswered)
        + ". /settings changes any of them."
    )


def apply_setting(person: Person, ctx: Context, field: str, value: str) -> Outcome:
    """Change one setting from typed words or a button; say what changed and what is next."""
    outcome = Outcome()
    if field == "zone":
        return _set_zone(person, ctx, value, outcome)
    if field in {q.value for q in conversation.SETTING_QUESTIONS} and not value:
        return _ask_setting(
            person, ctx, Question(field), outcome, *setting_prompt(person, Question(field))
        )
    if field == "time":
        person.local_time = format_time(parse_time(value))
        confirmation = f"Time set to {person.local_time}."
    elif field == "days":
        person.weekdays = days_to_mask(parse_days(value))
        confirmation = f"Days set to {format_days(mask_to_days(person.weekdays))}."
    elif field == "themes":
        themes_now = "Themes: " + ", ".join(t.label for t in themes_of(person)) + "."
        if value.strip().lower() == "done":
            if conversation.onboarding_question(person) is Question.THEMES:
                return advance_onboarding(person, ctx, Question.THEMES, outcome)
            return outcome.say(themes_now + " " + describe_next(person))
        new = _themes_from(person, value)
        person.themes = ",".join(t.value for t in new)
        confirmation = "Themes: " + ", ".join(t.label for t in new) + "."
        if conversation.of(person).question is Question.THEMES and value.strip()[:1] in "+-":
            body, keyboard = themes_prompt(person)
            return outcome.say(confirmation + "\n\n" + body, keyboard)
    elif field in _OTHER_SETTINGS:
        return _other_setting(person, ctx, field, value)
    else:
        raise InputError(
            f"“{field}” isn't a setting. Use /settings time, zone, days, themes, depth, "
            "steering or lookback."
        )
    return _changed(person, ctx, Question(field), confirmation, outcome)


_OTHER_SETTINGS = ("depth", "steering", "lookback")


def _other_setting(person: Person, ctx: Context, field: str, value: str) -> Outcome:
    """Depth, steering and the look-back: no question to answer, just buttons."""
    if field == "depth":
        return Outcome().say(set_depth(person, value)) if value else depth_prompt(person)
    if field == "lookback":
        if not value:
            return lookback_prompt(person)
        confirmation = set_lookback(person, value)
        reschedule(person, ctx.clock.now())
        return Outcome().say(confirmation)
    if value.strip().lower() != "reset":
        reset = ((Button("Reset steering", "/settings steering reset"),),)
        return Outcome().say(
            steering_now(person) + " More/Less like this under a practice steer it, once "
            "per practice.",
            reset if steering_in_words(person.theme_weights) else (),
        )
    return Outcome().say(reset_steering(person))


def _changed(
    person: Person, ctx: Context, question: Question, confirmation: str, outcome: Outcome
) -> Outcome:
    """A setting changed: its confirmation, the next due instant, and onboarding moves on.
    A zone answers any request for a location still on screen."""
    reschedule(person, ctx.clock.now())
    zone = question is Question.ZONE
    if conversation.onboarding_question(person) is not None:
        outcome.replies.append(Text(confirmation, location_request_done=zone))
        return advance_onboarding(person, ctx, question, outcome)
    if conversation.of(person).question is question:
        conversation.settle(person)
    body = confirmation + " " + describe_next(person)
    outcome.replies.append(Text(body, location_request_done=zone))
    return outcome


def _ask_setting(
    person: Person,
    ctx: Context,
    question: Question,
    outcome: Outcome,
    body: str,
    keys: Keyboard,
    *,
    options: tuple[Option, ...] = (),
    location: LocationRequest | None = None,
) -> Outcome:
    """Ask about one setting; an onboarding step it interrupts is asked again after it."""
    step = conversation.onboarding_question(person)
    resume = step if step is not None and step is not question else None
    conversation.ask(person, question, ctx.clock.now(), resume=resume, options=options)
    outcome.replies.append(Text(body, keys, location))
    return outcome


# --- the time zone ------------------------------------------------------------------------

_YES = frozenset({"yes", "y", "yep", "yeah", "ok", "okay", "sure", "right", "correct"})
_NO = frozenset({"no", "n", "nope", "neither", "none", "other", "another", "something else"})


def _set_zone(person: Person, ctx: Context, value: str, outcome: Outcome) -> Outcome:
    """A zone typed, tapped or picked from the choices the zone question offered; a text
    with several meanings asks which (one open question, its choices part of it)."""
    if not value:
        return _ask_setting(
            person, ctx, Question.ZONE, outcome, *zone_prompt(), location=LOCATION_REQUEST
        )
    region = next((r for r in ZONE_REGIONS if r.lower() == value.strip().lower()), None)
    if region is not None:
        return _ask_setting(person, ctx, Question.ZONE, outcome, *zone_prompt(region))
    state = conversation.of(person)
    options = state.options if state.question is Question.ZONE else None
    said = zones.fold(value).strip(" ,.!?")
    picked = _picked(options, said)
    if picked is None and options and said in _YES | _NO:
        raise InputError("Which one? Tap it, or type your city, a zone name or an offset.")
    if picked is not None and not picked.zone:
        outcome.say("All right.")
        return _set_zone(person, ctx, "", outcome)
    reading = (
        zones.Found(picked.zone, place=picked.label.removeprefix("Yes, "))
        if picked is not None
        else zones.read_zone(value, ctx.clock.now())
    )
    if isinstance(reading, zones.Ask):
        offered = tuple(Option(label=c.label, value=c.zone) for c in reading.choices)
        return _ask_setting(
            person,
            ctx,
            Question.ZONE,
            outcome,
            reading.question,
            _option_buttons(offered),
            options=offered,
        )
    person.timezone = reading.zone
    local_now = ctx.clock.now().astimezone(zone_of(person))
    place = f", for {reading.place}" if reading.place else ""
    confirmation = f"Time zone set to {person.timezone}{place} (it is {local_now:%H:%M} there now)."
    if reading.other:
        confirmation += f" If you meant {reading.other}, type /settings zone {reading.other}."
    return _changed(person, ctx, Question.ZONE, confirmation, outcome)


def _picked(options: tuple[Option, ...] | None, said: str) -> zones.Choice | None:
    """The offered choice that `said` (folded) names, if it names one: its number, yes to a
    confirmation, no (the choice without a zone), or words of its label ("Maine")."""
    if not options:
        return None
    choices = [zones.Choice(o.label, o.value) for o in options]
    if said.isdigit() and 1 <= int(said) <= len(choices):
        return choices[int(said) - 1]
    if said in _YES and choices[0].label.startswith("Yes, "):
        return choices[0]
    if said in _NO and not choices[-1].zone:
        return choices[-1]
    named = [c for c in choices if said in _names_in(c.label)]
    return named[0] if len({c.zone for c in named}) == 1 else None


def _names_in(label: str) -> set[str]:
    """What a person may type for a choice: "Portland, Maine" → portland maine, maine…"""
    folded = zones.fold(label)
    parts = [part.strip() for part in folded.replace("(", ",").replace(")", ",").split(",")]
    names = {folded, folded.replace(",", "")}
    names.update(part for part in parts if part)
    names.update(part.removesuffix(" time") for part in parts if part.endswith(" time"))
    return names


def zone_from_location(person: Person | None, ctx: Context, where: Coordinates) -> Outcome:
    """A shared location sets the zone it is in; the location is used here and dropped."""
    if person is None:
        return Outcome().say(
            "Hello! I'm Wholehearted. Type /start to begin. (I haven't kept the location you "
            "shared.)",
            ((Button("Start", "/start"),),),
        )
    zone = zones.zone_at(where.latitude, where.longitude)
    if zone is None:
        raise InputError(
            "I couldn't find a time zone at the location you shared (it may be out at sea), "
            "and I haven't kept it: type your city instead, for example /settings zone Berlin."
        )
    person.timezone = zone
    confirmation = (
        f"Your time zone is now {zone}, from the location you shared. The location itself "
        "was not kept."
    )
    return _changed(person, ctx, Question.ZONE, confirmation, Outcome())


def _themes_from(person: Person, value: str) -> tuple[Theme, ...]:
    text = value.strip()
    if text[:1] not in "+-":
        return parse_themes(text)
    current = list(themes_of(person))
    (theme,) = parse_themes(text[1:])[:1]
    if text[0] == "+" and theme not in current:
        current.append(theme)
    elif text[0] == "-" and theme in current:
        if len(current) == 1:
            raise InputError("Keep at least one theme; add another before removing this one.")
        current.remove(theme)
    return tuple(t for t in Theme if t in current)


def pause(person: Person, ctx: Context, args: str) -> Outcome:
    today = today_for(person, ctx)
    if not args.strip():
        person.paused_until = PAUSED_INDEFINITELY
        reschedule(person, ctx.clock.now())
        return Outcome().say("Paused. No practices until you type /resume.")
    try:
        days = int(args.strip())
    except ValueError:
        raise InputError(
            "Pause takes a number of days, like /pause 3, or nothing to pause until /resume."
        ) from None
    if not 1 <= days <= 365:
        raise InputError("Pause for 1 to 365 days, or type /pause alone to pause until /resume.")
    # A day whose practice has come is over as far as a pause goes: count from tomorrow.
    done_today = person.last_practice_date is not None and person.last_practice_date >= today
    first = today + timedelta(days=1) if done_today else today
    person.paused_until = first + timedelta(days=days - 1)
    reschedule(person, ctx.clock.now())
    return Outcome().say(
        f"Paused for {days} day{'s' if days != 1 else ''}. " + describe_next(person)
    )


def resume(person: Person, ctx: Context) -> Outcome:
    was_stopped = person.stopped
    person.paused_until = None
    person.stopped = False
    reschedule(person, ctx.clock.now())
    prefix = "Welcome back. " if was_stopped else "Resumed. "
    return Outcome().say(prefix + describe_next(person))


def stop(person: Person, ctx: Context) -> Outcome:
    person.stopped = True
    reschedule(person, ctx.clock.now())
    return Outcome().say(
        "Stopped: no more daily practices. Nothing is deleted; /start begins them again and "
        "/forget deletes everything."
    )


def due_instant_today(person: Person, day: date) -> datetime:
    return local_instant(day, time.fromisoformat(person.local_time), zone_of(person))

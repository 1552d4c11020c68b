"""Every command the bot understands, each defined once, here.

**To add a command, add it to `COMMANDS` below (and write its handler), and that is all.**
Everything else is read from this list: help (`/help`, `/help NAME`, written for the
platform it is shown on, `bot.core.command_help`), the dispatch in `bot.core.service`,
Telegram's command menus (private chats, group chats, group administrators) and Discord's
slash commands with their options, choices and permissions.

A command's arguments are typed (free text, a whole number, or a choice from its choices),
required or not; on Discord they are the slash command's options, and elsewhere they are
the words typed after the command. `where` says where it works and `who` who may use it.
`tests/test_command_registry.py` checks that help, both platforms' menus and the dispatch
agree with this list.
"""

from __future__ import annotations

from bot.core import (
    couples,
    deliveries,
    history,
    people,
    privacy,
    program_files,
    replies,
    starting,
    workshops,
)
from bot.core.command_help import explain, overview, style_for, unknown
from bot.core.command_types import (
    Argument,
    Call,
    Choice,
    Command,
    General,
    Kind,
    Personal,
    Subcommand,
    Trailing,
    Where,
    Who,
)
from bot.core.context import Context
from bot.core.messages import Outcome
from bot.core.texts import SAFETY
from bot.core.zones import zone_choices
from db.models import Person


def _help(call: Call) -> Outcome:
    style, in_group = style_for(call.incoming.platform), call.incoming.chat_id is not None
    topic = call.args.strip().lstrip("/").lower().split(maxsplit=1)
    if not topic:
        return Outcome().say(overview(COMMANDS, style, in_group=in_group))
    command = find(topic[0])
    if command is None:
        return Outcome().say(unknown_command(topic[0]))
    return Outcome().say(explain(command, style, in_group=in_group))


def _workshop(call: Call) -> Outcome:
    """`/workshop` alone (or `/workshop help`) explains it and lists the programs."""
    if call.args.strip().lower() not in {"", "help"}:
        return workshops.handle(call.session, call.ctx, call.incoming, call.args)
    about = explain(_BY_NAME["workshop"], style_for(call.incoming.platform), in_group=True)
    incoming = call.incoming
    own = program_files.of_starter(call.session, incoming.platform, incoming.user_id)
    listed = workshops.program_list(call.ctx, [o.program for o in own])
    return Outcome().say(f"{about}\n\nPrograms:\n{listed}")


def _settings(call: Call, person: Person) -> Outcome:
    field, _, value = call.args.strip().partition(" ")
    if not field:
        partner = couples.partner_of(call.session, person)
        summary = people.settings_summary(person, partner)
        return Outcome().say(summary, people.settings_buttons(person))
    return people.apply_setting(person, call.ctx, field.lower(), value.strip())


def _zones(ctx: Context, typed: str) -> list[Choice]:
    return [Choice(zone, zone) for zone in zone_choices(typed)]


def _programs(ctx: Context, typed: str) -> list[Choice]:
    """The library's programs matching what is typed; a facilitator's own program is
    typed by its id (suggestions cannot know who is asking)."""
    wanted = typed.strip().lower()
    return [
        Choice(p.id, f"{p.title} ({len(p.days)} days)"[:100])
        for p in ctx.catalog.programs.values()
        if wanted in f"{p.id} {p.title}".lower()
    ]


def _command_names(ctx: Context) -> list[Choice]:
    return [Choice(c.name, f"/{c.name}") for c in COMMANDS]


COMMANDS: tuple[Command, ...] = (
    Command(
        "start",
        "Begin: consent, privacy, safety and your schedule",
        "Walks you through a short note on privacy and safety, then your time, time zone, "
        "days and themes. Run it again any time to restart daily practices.",
        General(starting.start),
    ),
    Command(
        "today",
        "Get today's practice now",
        "Sends today's practice right away. If it already came today, you see the same one "
        "again; you never get two different practices on one day.",
        Personal(lambda call, person: deliveries.today(call.session, call.ctx, person)),
        trailing=Trailing.WORDS,
    ),
    Command(
        "settings",
        "Your time, days, themes, depth, steering and weekly look-back",
        "Alone, it shows your settings with buttons to change them. Depth: all (gentle first, "
        "brave ones after a few weeks), no brave practices, or gentle only; with a partner the "
        "stricter choice applies. Steering is what More/Less like this changed, in words. The "
        "weekly look-back (off unless you pick a day) sends you, privately, the week's "
        "practices and one question.",
        Personal(_settings),
        arguments=(
            Argument("time", "Time of day, such as 7:30, 19:00 or 7pm", keyword=True),
            Argument(
                "zone",
                "Your time zone: a city such as Berlin, or a name such as Europe/Berlin",
                keyword=True,
                suggest=_zones,
            ),
            Argument("days", "Days, such as daily, mon-fri or sat,sun", keyword=True),
            Argument(
                "themes", "Themes, such as playfulness,individuality (or all, core)", keyword=True
            ),
            Argument(
                "depth",
                "How deep: all, no-brave or gentle",
                Kind.CHOICE,
                keyword=True,
                choices=lambda ctx: [Choice(c, c) for c in people.DEPTH_CHOICES],
            ),
            Argument(
                "steering",
                "reset sets More/Less like this back to even",
                Kind.CHOICE,
                keyword=True,
                choices=lambda ctx: [Choice("reset", "reset")],
            ),
            Argument(
                "lookback",
                "A weekday for the weekly look-back, or off",
                Kind.CHOICE,
                keyword=True,
                choices=lambda ctx: [Choice(d, d) for d in (*people.WEEKDAYS, "off")],
            ),
        ),
        typed="Or type them:\n"
        "/settings time 7:30 (also 7pm, 19:00)\n"
        "/settings zone Europe/Berlin (also UTC, or a city such as Berlin)\n"
        "/settings days mon-fri (or daily, sat,sun)\n"
        "/settings themes playfulness,individuality (or all, core)\n"
        "/settings depth no-brave (or all, gentle)\n"
        "/settings steering reset\n"
        "/settings lookback sunday (any weekday, or off)",
        slash="Or fill in any of its options, several at once; the zone option suggests "
        "time zones as you type.",
    ),
    Command(
        "pause",
        "Pause daily practices (for some days, or until /resume)",
        "Daily practices stop for the days you give, or until you /resume. The days count "
        "from today, or from tomorrow once today's practice has come.",
        Personal(lambda call, person: people.pause(person, call.ctx, call.args)),
        arguments=(
            Argument(
                "days",
                "How many days; leave it out to pause until /resume",
                Kind.NUMBER,
                maximum=365,
            ),
        ),
        typed="/pause 3 skips the next three days; /pause alone pauses until you /resume.",
        slash="With days: 3 it skips the next three days; without it, it pauses until you /resume.",
    ),
    Command(
        "resume",
        "Resume daily practices after a pause",
        "Daily practices start again from your next chosen day.",
        Personal(lambda call, person: people.resume(person, call.ctx)),
        trailing=Trailing.WORDS,
    ),
    Command(
        "pair",
        "Get an invite code for your partner",
        "Gives a single-use code, valid for 48 hours. Once your partner has joined with it, you "
        "both get the same practice on the same day, each at your own local time.",
        Personal(lambda call, person: couples.make_invite(call.session, call.ctx, person)),
        typed="Your partner types /join CODE.",
        slash="Your partner uses /join and fills in the code.",
        trailing=Trailing.WORDS,
    ),
    Command(
        "join",
        "Join your partner with their invite code",
        "A code works once, for 48 hours; after 5 codes that don't work, wait an hour.",
        Personal.of(couples.join),
        arguments=(
            Argument(
                "code", "The code your partner got from /pair, such as K7P-3QX", required=True
            ),
        ),
        typed="Type the code your partner got from /pair, for example /join K7P-3QX.",
        slash="Fill in the code your partner got from /pair, for example code: K7P-3QX.",
    ),
    Command(
        "unpair",
        "End the pairing with your partner",
        "Ends the pairing. Your partner is told only that the pairing ended. Your replies stay "
        "private to you, as they always were.",
        Personal(lambda call, person: couples.unpair(call.session, call.ctx, person)),
        trailing=Trailing.WORDS,
    ),
    Command(
        "journal",
        "Read your private replies",
        "Lists your replies, newest first, ten to a page, and replies your partner shared with "
        "you. Only you can read them. The Delete buttons under it delete one, after asking.",
        Personal.of(replies.journal),
        arguments=(
            Argument(
                "page",
                "1 for the newest replies, 2 for older ones, and so on",
                Kind.NUMBER,
                maximum=10_000,
            ),
        ),
        typed="/journal 2 shows older replies.",
    ),
    Command(
        "history",
        "Your practices of the last two weeks: reread, reply, bring back",
        "Lists your daily practices of the last two weeks, newest first, a week to a page, each "
        "with its day and whether you replied, shared, skipped or have not answered it yet. "
        "Its buttons show one again, make your next message a reply to it (not to the newest), "
        "or bring back one you skipped.",
        Personal.of(history.history),
        arguments=(
            Argument(
                "page", "1 for the latest week, 2 for the week before", Kind.NUMBER, maximum=2
            ),
        ),
        typed="/history 2 shows the week before. The buttons type /history reread #12, "
        "/reply #12 and /history back #12 for you.",
        slash="With page: 2 it shows the week before.",
    ),
    Command(
        "share",
        "Share one reply with your partner",
        "Sends one reply (the latest, or the number shown in /journal) to your partner, with a "
        "note that no answer is expected. A reply that got the safety note is sent only after "
        "you confirm.",
        Personal.of(replies.share),
        arguments=(
            Argument(
                "number", "The reply's number in /journal; leave it out for the latest", Kind.NUMBER
            ),
        ),
        typed="/share 3 shares reply #3.",
        slash="With number: 3 it shares reply #3; a confirmation is a button.",
    ),
    Command(
        "export",
        "Download everything the bot holds about you",
        "Sends you two files: your journal to read, and a JSON file with everything the bot "
        "holds about you (settings, pairing, invites, deliveries, replies and what was shared "
        "with you).",
        Personal(lambda call, person: privacy.export(call.session, call.ctx, person)),
        trailing=Trailing.WORDS,
    ),
    Command(
        "forget",
        "Delete everything the bot holds about you",
        "Deletes your replies, settings, delivery history, invites and pairing, once you "
        "confirm. Replies you already shared stay with the partner you gave them to.",
        Personal.of(privacy.handle_forget),
        typed="It asks first: type yes, or tap the button.",
        slash="It asks first: tap “Yes, delete everything” to confirm, or “Keep it”.",
    ),
    Command(
        "safety",
        "Who these practices are for, and where to find help",
        "Shows the safety note and where to find help.",
        General(lambda call: Outcome().say(SAFETY)),
        where=Where.BOTH,
    ),
    Command(
        "help",
        "List commands, or explain one",
        "With a command, explains it in detail.",
        General(_help),
        arguments=(
            Argument("command", "A command to explain", Kind.CHOICE, choices=_command_names),
        ),
        typed="/help settings explains /settings.",
        slash="/help command: settings explains /settings.",
        where=Where.BOTH,
    ),
    Command(
        "stop",
        "Stop daily practices",
        "Stops daily practices; nothing is deleted. /start begins them again, and /forget "
        "deletes everything.",
        Personal(lambda call, person: people.stop(person, call.ctx)),
        trailing=Trailing.WORDS,
    ),
    Command(
        "reply",
        "Write a private reply to your latest practice",
        "You rarely need it: what you write to me after a practice is a private reply to it. "
        "Only you can read it unless you /share it.",
        Personal(
            lambda call, person: replies.start_reply(
                call.session, call.ctx, person, call.args, call.incoming.member_of
            )
        ),
        arguments=(Argument("text", "Your reply", long=True),),
        typed="/reply alone makes your next messages replies even while I'm waiting for an "
        "answer; /reply followed by text (on the same line or the next) saves it at once.",
        slash="/reply opens a form to write it in, as the Reply privately button under a "
        "practice does; in a server, only you see what you send.",
    ),
    Command(
        "undo",
        "Take back the reply you just saved",
        "Deletes your latest reply, within ten minutes of saving it; the Undo button under a "
        "saved reply does the same. For older replies, use /delete.",
        Personal.of(replies.undo),
    ),
    Command(
        "delete",
        "Delete one reply from your journal",
        "Deletes one reply (the numbers are in /journal), after asking you to confirm. A reply "
        "you already shared stays with the partner you gave it to.",
        Personal.of(replies.delete_reply),
        arguments=(
            Argument("number", "The reply's number in /journal", Kind.NUMBER, required=True),
        ),
        typed="/delete 3 asks about reply #3: type yes, or tap the button.",
        slash="With number: 3 it asks about reply #3: tap the button to confirm.",
    ),
    Command(
        "skip",
        "Skip today's practice",
        "Sets today's practice aside, as the Skip button under it does. /history brings a "
        "skipped practice back.",
        Personal.of(deliveries.skip),
        trailing=Trailing.PRACTICE_THEN_WORDS,
    ),
    Command(
        "snooze",
        "Send today's practice again in an hour",
        "The same practice comes back in one hour, as the Snooze button under it does.",
        Personal.of(deliveries.snooze),
        trailing=Trailing.PRACTICE_THEN_WORDS,
    ),
    Command(
        "more",
        "More practices like today's",
        "Gives the theme of your latest practice more weight in what comes next, once per "
        "practice; /settings shows your steering in words and resets it.",
        Personal(lambda c, p: deliveries.steer(c.session, c.ctx, p, c.args, more=True)),
        trailing=Trailing.PRACTICE_THEN_WORDS,
    ),
    Command(
        "less",
        "Fewer practices like today's",
        "Gives the theme of your latest practice less weight in what comes next, once per "
        "practice; /settings shows your steering in words and resets it.",
        Personal(lambda c, p: deliveries.steer(c.session, c.ctx, p, c.args, more=False)),
        trailing=Trailing.PRACTICE_THEN_WORDS,
    ),
    Command(
        "programs",
        "Your own workshop programs: list or delete them",
        "To bring your own workshop program, send me its file in this private chat: a .yaml, "
        ".yml or .json file of up to 64 KB, written like the library's programs, with your own "
        "practices under “practices” (the README shows one). I check it as I check the library "
        "and list every problem, or keep it, for you alone: start it in a group you run with "
        "/workshop start ID. Sending a program with the same id replaces it. /programs lists "
        "yours; deleting one ends any workshop running it, and the group is told.",
        General(lambda c: program_files.handle(c.session, c.ctx, c.incoming, c.args)),
        arguments=(
            Argument("delete", "The id of one of your programs, to delete it", keyword=True),
        ),
        typed="/programs delete lunch-breaks deletes your program lunch-breaks.",
        slash="With delete: lunch-breaks it deletes your program lunch-breaks. Send the file "
        "itself in a direct message to me, as an attachment.",
    ),
    Command(
        "workshop",
        "Run a multi-day workshop in this chat",
        "A workshop posts one practice a day in the chat; members reply privately, and the chat "
        "never sees anyone's words. You see only how many replied each day. After the last "
        "day the chat gets a closing message with counts only. Besides the library's "
        "programs you can run your own: send it to me in a private chat (/help programs).",
        General(_workshop),
        typed="For example: /workshop start lighten up 19:00 Europe/Berlin (a program's id "
        "or title). /workshop alone lists the programs.",
        slash="For example: /workshop start, with program: Lighten up, time: 19:00 and zone: "
        "Europe/Berlin.",
        where=Where.GROUP,
        who=Who.ADMINS,
        subcommands=(
            Subcommand(
                "start",
                "Start a workshop in this chat",
                (
                    Argument(
                        "program",
                        "A library program, or the id of one of your own (/programs)",
                        suggest=_programs,
                    ),
                    Argument("time", "Time of day to post, such as 19:00", placeholder="HH:MM"),
                    Argument(
                        "zone",
                        "The workshop's time zone: a city such as Berlin, or a name such as UTC",
                        placeholder="time zone",
                        suggest=_zones,
                    ),
                ),
            ),
            Subcommand("status", "How many people replied each day, and what comes next"),
            Subcommand("pause", "Hold the workshop: nothing is posted until it is resumed"),
            Subcommand("resume", "Continue a paused workshop at its time, today or tomorrow"),
            Subcommand("skip", "Move past the next day without posting it"),
            Subcommand("stop", "Stop this chat's workshop"),
        ),
    ),
)
_BY_NAME = {command.name: command for command in COMMANDS}


def find(name: str) -> Command | None:
    return _BY_NAME.get(name)


def unknown_command(name: str) -> str:
    return unknown(name, COMMANDS)

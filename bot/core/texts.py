"""Everything the bot says that is longer than a line, in one place for review and translation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    """A command as menus and help show it; adapters register these with each platform."""

    name: str
    usage: str
    summary: str
    details: str
    group: bool = False


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "start",
        "/start",
        "Begin: consent, privacy, safety and your schedule",
        "Walks you through a short note on privacy and safety, then your time, time "
        "zone, days and themes. Run it again any time to restart daily practices.",
    ),
    CommandSpec(
        "today",
        "/today",
        "Get today's practice now",
        "Sends today's practice right away. If it already came today, you see the "
        "same one again; you never get two different practices on one day.",
    ),
    CommandSpec(
        "settings",
        "/settings [time|zone|days|themes] [value]",
        "Your time, time zone, days and themes",
        "/settings alone shows your settings with buttons. Or type them:\n"
        "/settings time 7:30 (also 7pm, 19:00)\n"
        "/settings zone Europe/Berlin (also UTC, or a city such as Berlin)\n"
        "/settings days mon-fri (or daily, sat,sun)\n"
        "/settings themes playfulness,individuality (or all, core)",
    ),
    CommandSpec(
        "pause",
        "/pause [days]",
        "Pause daily practices (for some days, or until /resume)",
        "/pause 3 skips the next three days; /pause alone pauses until you /resume.",
    ),
    CommandSpec(
        "resume",
        "/resume",
        "Resume daily practices after a pause",
        "Daily practices start again from your next chosen day.",
    ),
    CommandSpec(
        "pair",
        "/pair",
        "Get an invite code for your partner",
        "Gives a single-use code, valid for 48 hours. Your partner types /join CODE; "
        "from then on you both get the same practice on the same day, each at your "
        "own local time.",
    ),
    CommandSpec(
        "join",
        "/join CODE",
        "Join your partner with their invite code",
        "Type the code your partner got from /pair, for example /join K7P-3QX. A code works "
        "once, for 48 hours; after 5 codes that don't work, wait an hour.",
    ),
    CommandSpec(
        "unpair",
        "/unpair",
        "End the pairing with your partner",
        "Ends the pairing. Your partner is told only that the pairing ended. Your "
        "replies stay private to you, as they always were.",
    ),
    CommandSpec(
        "journal",
        "/journal [page]",
        "Read your private replies",
        "Lists your replies, newest first, ten to a page, and replies your partner "
        "shared with you. Only you can read them.",
    ),
    CommandSpec(
        "share",
        "/share [number]",
        "Share one reply with your partner",
        "Sends one reply (the latest, or the number shown in /journal) to your "
        "partner, with a note that no answer is expected. A reply that got the safety note "
        "is sent only after you confirm.",
    ),
    CommandSpec(
        "export",
        "/export",
        "Download everything the bot holds about you",
        "Sends you two files: your journal to read, and a JSON file with everything the bot "
        "holds about you (settings, pairing, invites, deliveries, replies and what was "
        "shared with you).",
    ),
    CommandSpec(
        "forget",
        "/forget",
        "Delete everything the bot holds about you",
        "Asks you to confirm (type yes, or tap the button), then deletes your replies, "
        "settings, delivery history, invites and pairing. Replies you already shared stay "
        "with the partner you gave them to.",
    ),
    CommandSpec(
        "safety",
        "/safety",
        "Who these practices are for, and where to find help",
        "Shows the safety note and where to find help.",
    ),
    CommandSpec(
        "help",
        "/help [command]",
        "List commands, or explain one",
        "/help settings explains one command in detail.",
    ),
    CommandSpec(
        "stop",
        "/stop",
        "Stop daily practices",
        "Stops daily practices; nothing is deleted. /start begins them again, and "
        "/forget deletes everything.",
    ),
    CommandSpec(
        "reply",
        "/reply [text]",
        "Write a private reply to your latest practice",
        "You rarely need it: anything you write after a practice is a private reply to it. "
        "/reply alone makes your next messages replies even while I'm waiting for an "
        "answer; /reply followed by text (on the same line or the next) saves it at once. "
        "Only you can read it unless you /share it.",
    ),
    CommandSpec(
        "undo",
        "/undo",
        "Take back the reply you just saved",
        "Deletes your latest reply, within ten minutes of saving it; the Undo button under "
        "a saved reply does the same. For older replies, use /delete.",
    ),
    CommandSpec(
        "delete",
        "/delete NUMBER",
        "Delete one reply from your journal",
        "/delete 3 asks you to confirm, then deletes reply #3 (the numbers are in /journal). "
        "A reply you already shared stays with the partner you gave it to.",
    ),
    CommandSpec("skip", "/skip", "Skip today's practice", "Sets today's practice aside."),
    CommandSpec(
        "snooze",
        "/snooze",
        "Send today's practice again in an hour",
        "The same practice comes back in one hour.",
    ),
    CommandSpec(
        "more",
        "/more",
        "More practices like today's",
        "Gives the theme of your latest practice more weight in what comes next.",
    ),
    CommandSpec(
        "less",
        "/less",
        "Fewer practices like today's",
        "Gives the theme of your latest practice less weight in what comes next.",
    ),
)
COMMANDS_BY_NAME = {spec.name: spec for spec in COMMANDS}

SAFETY = (
    "These practices are for relationships where both of you are safe. They are not meant "
    "for a relationship that is abusive, controlling or hostile, and they are no substitute "
    "for therapy or for help in a crisis.\n\n"
    "If you are in danger now, call your local emergency number (112 in Europe, 911 in the "
    "US and Canada, 999 in the UK, 000 in Australia).\n"
    "Find a free, confidential helpline in your country: https://findahelpline.com\n"
    "Domestic abuse: US National Domestic Violence Hotline 1-800-799-7233 "
    "(thehotline.org); UK National Domestic Abuse Helpline 0808 2000 247.\n"
    "Thoughts of suicide or self-harm: 988 in the US; Samaritans 116 123 in the UK and "
    "Ireland."
)

WELCOME = (
    "Welcome to Wholehearted. Once a day, at a time you choose, you get one small practice "
    "(two to five minutes) for knowing yourself and your partner a little better.\n\n"
    "Privacy: what you write back is private. It is kept encrypted, and nobody else sees "
    "it, your partner included, unless you choose to /share it. (Not end to end: whoever "
    "runs this bot holds the key.) You can /export or /forget everything at any time.\n\n"
    "Safety: these practices are for relationships where both people are safe, and they are "
    "no substitute for therapy. /safety lists where to find help.\n\n"
    "Shall we begin?"
)

CRISIS_REPLY = (
    "Thank you for writing this down. It is saved privately: only you can read it. "
    "What you wrote sounds like it may be hard or unsafe, so here is the safety note:\n\n" + SAFETY
)

# Shown only to the person (Discord's ephemeral answer) at their next command in a server:
# a note in the channel would tell everyone there what the bot is for.
UNREACHABLE_NOTE = (
    "I couldn't reach you by direct message, so your practice waited. If your direct "
    "messages are closed to this server's members, open them (the server's name → Privacy "
    "Settings → Direct Messages) and the next one will reach you; /today brings today's."
)

SHARE_NOTE = "No answer is expected: this is a gift, not a question."


def help_text() -> str:
    lines = ["Here is what I understand:"]
    lines += [f"/{spec.name} — {spec.summary}" for spec in COMMANDS if not spec.group]
    lines.append("")
    lines.append("Type /help followed by a command for details, for example /help settings.")
    return "\n".join(lines)

"""Everything the bot says that is longer than a line, in one place for review and translation.

Command help is not here: each command's help is defined with the command, in
`bot.core.commands`.
"""

from __future__ import annotations

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

SHARE_LOCATION = "Share my location"
SHARE_LOCATION_NOTE = (
    "Or tap “Share my location” below: I look up the time zone there and keep only that, "
    "never the location itself."
)

# After a workshop's last day, in its group: counts only, never a name or anyone's words.
WORKSHOP_CLOSING = (
    "That was the last day of “{title}”. What this group did together: {posted} of "
    "practice posted here (skipped: {skipped}), and {replied} privately over the workshop.\n\n"
    "Counts only: nobody's words are ever shown here, and nobody is named.\n\n"
    "What next: an administrator can begin another program here with /workshop start "
    "(/workshop lists them), and anyone can have a practice of their own each day by "
    "talking to me in a private chat."
)

"""A chat with the bot in the terminal: the same core and database, no tokens, no server.

`/as NAME` switches between local people so a couple can be tried on one machine, `/in
GROUP` takes the current person into a group chat so a workshop can be tried end to end,
and `/next-day` moves the clock to the next delivery so the daily flow shows in seconds.
With piped input it echoes each line and prints the bot's messages as plain text, which
makes a script of lines a readable transcript. At a real terminal, what arrives on
schedule is printed above a fresh prompt, and Ctrl-C or Ctrl-D end the chat at once.
"""

from bot.adapters.terminal.chat import TerminalChat, opening_line, run_terminal

__all__ = ["TerminalChat", "opening_line", "run_terminal"]

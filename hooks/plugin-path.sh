#!/bin/sh
# The plugin's SessionStart hook: put the plugin's libexec/ (the `perfpack` launcher) first on the PATH of
# Claude Code's Bash tool, in the main conversation, its subagents and a command's `!` lines. Claude Code
# sources $CLAUDE_ENV_FILE before each of those commands. No CLAUDE_ENV_FILE, or a folder PATH cannot carry
# (a `:` in it): nothing to do. Fails open: always exit 0, no output.
[ -n "$CLAUDE_ENV_FILE" ] || exit 0
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P) || exit 0
folder=$(dirname -- "$here")/libexec
case $folder in *:*) exit 0 ;; esac
[ -x "$folder/perfpack" ] || exit 0
# One shell word whatever the folder holds: single quotes, each ' written as '\''.
quoted=$(printf '%s\n' "$folder" | sed "s/'/'\\\\''/g")
line="export PATH='$quoted':\"\$PATH\""
# Once per file: a resumed or compacted session runs this hook again on the same file.
if [ -f "$CLAUDE_ENV_FILE" ] && grep -Fqx -- "$line" "$CLAUDE_ENV_FILE" 2>/dev/null; then
    exit 0
fi
{ printf '%s\n' "$line" >> "$CLAUDE_ENV_FILE"; } 2>/dev/null
exit 0

"""`perfpack install` / `uninstall`: put the pack into a project's .claude/ and take exactly that back out."""

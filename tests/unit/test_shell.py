"""perfpack.shell reads command lines as bash would: here-documents, quotes, command substitutions."""

from __future__ import annotations

from perfpack.shell import extract_heredocs, split_commands, tokenize


def test_heredoc_in_a_command_substitution_inside_double_quotes():
    command = 'git commit -m "$(cat <<\'EOF\'\nSubject and body\n\nSigned-off-by: a\nEOF\n)"'
    text, bodies = extract_heredocs(command)
    assert bodies == ["Subject and body\n\nSigned-off-by: a"]
    assert text == 'git commit -m "$(cat __PERFPACK_HEREDOC_0__\n)"'


def test_quoted_double_angle_is_text_and_terminator_with_paren():
    text, bodies = extract_heredocs("echo 'a << b' \"c <<D\" && x=$(cat <<E\nbody\nE)\necho done")
    assert bodies == ["body"] and text.endswith(")\necho done") and "'a << b'" in text


def test_dash_strips_tabs_and_unterminated_runs_to_the_end():
    assert extract_heredocs("cat <<-X\n\tone\n\tX\nafter")[1] == ["\tone"]
    text, bodies = extract_heredocs("cat <<X\nrest\ngit commit -m y")
    assert bodies == ["rest\ngit commit -m y"] and "commit" not in text


def test_two_heredocs_on_one_line_and_here_strings():
    text, bodies = extract_heredocs("paste <<A <<B\n1\nA\n2\nB\ncat <<<word")
    assert bodies == ["1", "2"] and text.endswith("cat <<<word")


def test_tokenize_and_split():
    tokens, bodies = tokenize("cd sub && git commit -m 'a b' <<EOF\nx\nEOF\n")
    assert tokens[:5] == ["cd", "sub", "&&", "git", "commit"] and bodies == ["x"]
    assert tokenize("echo 'unbalanced") is None
    assert split_commands("a && b || c; d | e 'x;y'") == ["a", "b", "c", "d", "e 'x;y'"]

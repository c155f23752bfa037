from pathlib import Path

from perfpack.frontmatter import parse_frontmatter_bytes, read_frontmatter


def parse(text: str | bytes):
    return parse_frontmatter_bytes(text.encode() if isinstance(text, str) else text, path="a.md")


def test_plain_frontmatter_with_positions():
    fm = parse("---\nname: fast-agent\ndescription: Use PROACTIVELY when slow\ntools: Read, Grep\n"
               "---\nBody\n")
    assert fm.present and fm.closed and fm.error is None
    assert fm.data == {"name": "fast-agent", "description": "Use PROACTIVELY when slow",
                       "tools": "Read, Grep"}
    assert fm.position("tools") == (4, 1)
    assert fm.value_position("description") == (3, 14)
    assert fm.body == "Body\n" and fm.body_start_line == 6


def test_first_closing_delimiter_ends_frontmatter():
    fm = parse("---\nname: a\n---\ndescription: later\n---\n")
    assert fm.data == {"name": "a"} and fm.end_line == 3
    assert fm.body.startswith("description: later")


def test_bom_and_crlf_are_recorded():
    fm = parse(b"\xef\xbb\xbf---\r\nname: a\r\n---\r\nbody\r\n")
    assert fm.has_bom and fm.has_crlf and fm.data == {"name": "a"}


def test_yaml_error_line_is_in_file_coordinates():
    fm = parse("---\nname: a\ndescription: Use when: slow\n---\n")
    assert fm.data is None and fm.error is not None
    assert fm.error.line == 3
    assert fm.lenient_data == {"name": "a", "description": "Use when: slow"}


def test_missing_and_unclosed_frontmatter():
    assert not parse("# just markdown\n").present
    fm = parse("---\nname: a\n")
    assert fm.present and not fm.closed and fm.data is None


def test_binary_non_utf8_and_huge_files_are_unreadable_not_raised(tmp_path: Path):
    assert "binary" in parse(b"---\x00\x01").unreadable
    assert "UTF-8" in parse(b"---\nname: \xff\n---\n").unreadable
    big = tmp_path / "big.md"
    big.write_bytes(b"---\n" + b"x" * (3 * 1024 * 1024))
    assert "larger" in read_frontmatter(big).unreadable
    assert "cannot read" in read_frontmatter(tmp_path / "missing.md").unreadable


def test_non_mapping_and_duplicate_keys():
    assert "not a mapping" in parse("---\n- a\n- b\n---\n").error.message
    fm = parse("---\nname: a\nname: b\n---\n")
    assert fm.duplicate_keys == [("name", 3, 1)]

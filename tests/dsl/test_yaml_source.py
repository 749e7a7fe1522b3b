import pytest

from dsl.yaml_source import Location, YamlSyntaxError, load_yaml

TEXT = """\
top:
  name: demo   # a comment
  items:
    - first
    - {key: value}
  script: |
    line one
    line two
  quoted: "hello {{ x }}"
"""


def test_data_is_what_safe_load_gives():
    assert load_yaml(TEXT).data == {
        "top": {
            "name": "demo",
            "items": ["first", {"key": "value"}],
            "script": "line one\nline two\n",
            "quoted": "hello {{ x }}",
        }
    }


def test_value_and_key_positions_are_one_based():
    source = load_yaml(TEXT).source
    assert source.locate(("top", "name")) == Location(2, 9)
    assert source.locate(("top", "name"), at_key=True) == Location(2, 3)
    assert source.locate(("top", "items", 1, "key")) == Location(5, 13)


def test_unknown_path_falls_back_to_nearest_written_ancestor():
    source = load_yaml(TEXT).source
    assert source.locate(("top", "items", 1, "missing")) == Location(5, 7)


def test_text_location_inside_a_literal_block():
    source = load_yaml(TEXT).source
    assert source.text_location(("top", "script"), 1) == Location(7, 5)
    assert source.text_location(("top", "script"), 2) == Location(8, 5)


def test_text_location_of_a_quoted_string_skips_the_quote():
    assert load_yaml(TEXT).source.text_location(("top", "quoted")) == Location(9, 12)


def test_duplicate_keys_are_reported_but_merge_overrides_are_not():
    text = "base: &b {a: 1}\nm:\n  <<: *b\n  a: 2\n  c: 1\n  c: 2\n"
    loaded = load_yaml(text)
    assert loaded.data["m"] == {"a": 2, "c": 2}
    assert [(d.path, d.location) for d in loaded.duplicate_keys] == [(("m", "c"), Location(6, 3))]


def test_syntax_error_carries_the_mark():
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml("a: [1, 2\nb: 3\n")
    assert caught.value.location.line == 2
    assert caught.value.message.startswith("YAML syntax error")


def test_unsafe_tags_are_rejected_like_safe_load():
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml("a: !!python/object:os.system {}\n")
    assert caught.value.location == Location(1, 4)


def test_moved_paths_point_where_they_were_written():
    source = load_yaml(TEXT).source.with_moves({("new",): ("top", "items")})
    assert source.has(("new", 0))
    assert source.locate(("new", 1, "key")) == Location(5, 13)

"""`Config` validation, `load_config` from TOML, and `replace`."""

from __future__ import annotations

import dataclasses

import pytest

from dedupe.config import Config, ConfigError, from_mapping, load_config


def test_defaults_are_valid_and_documented_values():
    config = Config()
    assert config.text_field == "text" and config.id_field is None and config.title_field == "title"
    assert config.segmentation == "line"
    assert config.shingle_size == 4 and config.num_perm == 128 and config.seed == 1
    assert config.segment_threshold == 0.7 and config.doc_threshold == 0.5
    assert config.boilerplate_action == "drop" and config.shared_action == "keep"
    assert load_config() == config
    assert from_mapping(config.to_dict()) == config


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().seed = 2  # type: ignore[misc]


def test_load_config_from_toml(tmp_path):
    path = tmp_path / "dedupe.toml"
    path.write_text(
        'text_field = "body"\n'
        'id_field = "uuid"\n'
        'segmentation = "blank_line"\n'
        "shingle_size = 3\n"
        "segment_threshold = 0.85\n"
        "doc_threshold = 1\n"
        'boilerplate_extra = ["Load video", "Advertisement"]\n'
        'shared_action = "drop"\n'
        "strict = true\n",
        encoding="utf-8")
    config = load_config(path)
    assert config.text_field == "body" and config.id_field == "uuid"
    assert config.segmentation == "blank_line"
    assert config.shingle_size == 3
    assert config.segment_threshold == 0.85 and config.doc_threshold == 1
    assert config.boilerplate_extra == ("Load video", "Advertisement")
    assert config.shared_action == "drop" and config.strict is True
    assert config.num_perm == 128  # untouched default


def test_overrides_win_over_file_and_none_is_ignored(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("shingle_size = 3\nseed = 9\n", encoding="utf-8")
    config = load_config(str(path), shingle_size=4, seed=None)
    assert config.shingle_size == 4 and config.seed == 9


def test_unknown_key_in_file_is_rejected_naming_key_and_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("segment_treshold = 0.8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="segment_treshold") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_unknown_keyword_override_is_rejected():
    with pytest.raises(ConfigError, match="'shingles'"):
        load_config(shingles=5)


@pytest.mark.parametrize("key, value", [
    ("segment_threshold", 0),
    ("segment_threshold", 1.5),
    ("containment_threshold", -0.1),
    ("doc_threshold", 0.0),
    ("doc_threshold", True),
    ("shingle_size", 0),
    ("shingle_size", 2.5),
    ("shingle_size", "5"),
    ("shingle_size", 33),
    ("doc_shingle_size", 0),
    ("doc_shingle_size", 100),
    ("num_perm", 8),
    ("num_perm", 2048),
    ("seed", -1),
    ("batch_docs", 0),
    ("workers", -1),
    ("boilerplate_min_docs", 0),
    ("boilerplate_action", "delete"),
    ("repeat_action", "Drop"),
    ("duplicate_doc_action", "remove"),
    ("doc_representative", "shortest"),
    ("segmentation", "word"),
    ("text_field", ""),
    ("boilerplate_extra", ("ok", 3)),
    ("strict", "false"),
    ("use_known_boilerplate", 0),
    ("engine", "ray"),
    ("scheduler", "127.0.0.1:8786"),  # an address names its protocol
])
def test_out_of_range_values_raise_naming_key(key, value):
    with pytest.raises(ConfigError, match=repr(key)):
        Config(**{key: value})


def test_largest_supported_shingle_size_is_accepted():
    from dedupe.config import MAX_SHINGLE_SIZE

    assert Config(shingle_size=MAX_SHINGLE_SIZE, doc_shingle_size=MAX_SHINGLE_SIZE).shingle_size == 32
    with pytest.raises(ConfigError, match="shingle_size"):
        Config(shingle_size=MAX_SHINGLE_SIZE + 1)


@pytest.mark.parametrize("name, content, message", [
    ("c.toml", 'boilerplate_action = "delete"\n', "boilerplate_action"),
    ("broken.toml", "shingle_size = \n[oops", "invalid TOML"),
    ("nope.toml", None, "not found"),
])
def test_config_file_errors_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_replace_returns_new_validated_config():
    base = Config()
    changed = base.replace(segment_threshold=0.9, boilerplate_extra=["Load video"])
    assert changed.segment_threshold == 0.9
    assert changed.boilerplate_extra == ("Load video",)
    assert base.segment_threshold == 0.7  # original untouched
    assert changed.replace() == changed
    with pytest.raises(ConfigError, match="segment_threshold"):
        base.replace(segment_threshold=1.5)
    with pytest.raises(ConfigError, match="no_such_key"):
        base.replace(no_such_key=1)

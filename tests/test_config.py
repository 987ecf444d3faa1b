"""Config loading: shipped defaults, the user's file, overrides, and errors that name the key and file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from xmpcull.cli.config_cmd import config as config_command
from xmpcull.config import DEFAULT_SOURCE, OVERRIDE_SOURCE, Config, default_config_text, load_config
from xmpcull.decide.keeper import DEFAULT_CHAIN
from xmpcull.decide.policy import Policy
from xmpcull.decide.quality import QualitySettings
from xmpcull.errors import ConfigError, ExitCode
from xmpcull.group import bursts, dupes
from xmpcull.sidecar.fields import WriteOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xmpcull.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    """The one-line message of the ConfigError a file with ``text`` raises; it must name the file."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.exit_code == ExitCode.USAGE
    message = str(err.value)
    assert str(path) in message
    return message


def test_shipped_defaults_match_the_library_defaults() -> None:
    config = load_config()
    assert config.dupes.threshold == dupes.DEFAULT_THRESHOLD
    assert config.dupes.dhash_threshold == dupes.DEFAULT_DHASH_THRESHOLD
    assert config.dupes.similar_threshold == dupes.DEFAULT_SIMILAR_THRESHOLD
    assert config.dupes.keeper_chain == DEFAULT_CHAIN
    assert config.bursts.gap_seconds == bursts.DEFAULT_GAP_SECONDS
    assert config.bursts.scene_threshold == bursts.DEFAULT_SCENE_SPLIT_THRESHOLD
    assert config.quality == QualitySettings()
    assert config.policy == Policy()
    assert config.write_options == WriteOptions()
    assert config.sources == (DEFAULT_SOURCE,)


def test_the_default_file_is_commented() -> None:
    text = default_config_text()
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) > 40
    assert "docs/config.md" in text


def test_user_file_changes_only_its_keys(tmp_path: Path) -> None:
    path = write(tmp_path, '[policy]\nfailed_sharpness = 0.3\n[labels]\nred = "Rot"\n[dupes]\nkeeper_chain = ["sharpest", "most-pixels"]\n')
    config = load_config(path)
    assert config.policy.failed_sharpness == 0.3
    assert config.policy.label_names["red"] == "Rot"
    assert config.policy.label_names["green"] == "Green"
    assert config.policy.failed_exposure == Policy().failed_exposure
    assert config.dupes.keeper_chain == ("sharpest", "most_pixels")  # rule names as keeper.py spells them
    assert config.sources == (DEFAULT_SOURCE, str(path))


def test_overrides_win_and_unset_ones_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "[sidecar]\noverwrite_labels = false\nnaming = \"darktable\"\n")
    config = load_config(path, {"sidecar.overwrite_labels": True, "sidecar.overwrite_ratings": None, "dupes.threshold": 8})
    assert config.write_options.overwrite_labels and config.policy.overwrite_labels
    assert not config.write_options.overwrite_ratings
    assert config.write_options.naming == "darktable"
    assert config.dupes.threshold == 8 and config.policy.duplicate_threshold == 8
    assert config.sources[-1] == OVERRIDE_SOURCE


def test_an_integer_is_a_number_but_a_bool_is_not(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[bursts]\ngap_seconds = 3\n")).bursts.gap_seconds == 3.0
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[dupes]\nthreshold = true\n"))
    assert "dupes.threshold" in str(err.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[policy]\nfailed_sharpnes = 0.2\n", "policy.failed_sharpnes"),
        ("[polcy]\nfailed_sharpness = 0.2\n", "polcy"),
        ("[outcomes.rejected]\nlabel = \"red\"\n", "outcomes.rejected"),
        ("[quality.sharpness]\nceiling = 3\n", "quality.sharpness.ceiling"),
        ("verbose = true\n", "verbose"),
    ],
)
def test_unknown_keys_are_errors_naming_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    assert f"unknown key {key!r}" in error_for(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[policy]\nfailed_sharpness = "high"\n', "policy.failed_sharpness"),
        ("[dupes]\nthreshold = 10.5\n", "dupes.threshold"),
        ('[dupes]\nkeeper_chain = "sharpest"\n', "dupes.keeper_chain"),
        ("[dupes]\nkeeper_chain = [1, 2]\n", "dupes.keeper_chain"),
        ("[labels]\nred = 1\n", "labels.red"),
        ("policy = 3\n", "policy"),
        ('[outcomes]\nkeeper = "green"\n', "outcomes.keeper"),
    ],
)
def test_wrong_types_are_errors_naming_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    assert error_for(tmp_path, text).startswith(key + " must be")


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[policy]\nfailed_sharpness = 1.5\n", "policy.failed_sharpness", "<= 1"),
        ("[dupes]\nthreshold = 65\n", "dupes.threshold", "<= 64"),
        ("[bursts]\ngap_seconds = 0\n", "bursts.gap_seconds", "> 0"),
        ("[outcomes.keeper]\nrating = 7\n", "outcomes.keeper.rating", "<= 5"),
        ('[outcomes.keeper]\nlabel = "pink"\n', "outcomes.keeper.label", "must be one of red, yellow, green, blue, purple"),
        ('[labels]\ngreen = " "\n', "labels.green", "blank"),
        ('[dupes]\nkeeper_chain = ["sharpest", "newest"]\n', "dupes.keeper_chain", "unknown keeper rule 'newest'"),
        ("[dupes]\nkeeper_chain = []\n", "dupes.keeper_chain", "at least one rule"),
        ('[crops]\naspects = ["4:5", "wide"]\n', "crops.aspects", "aspect must look like"),
        ('[sidecar]\nnaming = "lightroom"\n', "sidecar.naming", "adobe"),
        ("[quality.exposure]\nhighlight_tolerance = 0.5\n", "quality.exposure.highlight_tolerance", "less than"),
        ("[quality.exposure]\nshadow_limit = 0.1\n", "quality.exposure.shadow_limit", "greater than"),
        ("[quality.sharpness]\nsharp_ceiling = 10.0\n", "quality.sharpness.sharp_ceiling", "greater than"),
        ("[quality]\nsharpness_weight = 0\nexposure_weight = 0\nface_weight = 0\n", "quality.sharpness_weight", "weight must be > 0"),
        ("[quality]\nface_weight = -1\n", "quality.face_weight", ">= 0"),
        ("[policy]\nreview_quality = nan\n", "policy.review_quality", "finite"),
    ],
)
def test_bad_values_are_errors_naming_key_and_file(tmp_path: Path, text: str, key: str, words: str) -> None:
    message = error_for(tmp_path, text)
    assert message.startswith(key), message
    assert words in message


def test_a_bad_default_value_is_blamed_on_the_file_that_set_it(tmp_path: Path) -> None:
    # The user's tolerance is fine on its own; the check fails against the shipped limit.
    assert error_for(tmp_path, "[quality.exposure]\nhighlight_limit = 0.01\n").startswith("quality.exposure.highlight_limit")
    with pytest.raises(ConfigError) as err:
        load_config(None, {"policy.review_crop_confidence": 2.0})
    assert OVERRIDE_SOURCE in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(None, {"policy.nonsense": 1})
    assert "unknown key 'policy.nonsense'" in str(err.value) and OVERRIDE_SOURCE in str(err.value)


def test_broken_or_missing_files(tmp_path: Path) -> None:
    assert "not valid TOML" in error_for(tmp_path, "[policy\nfailed = ")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "absent.toml")
    assert "not found" in str(err.value)


def test_effective_config_round_trips_through_toml(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[labels]\nyellow = "Gelb \\"quoted\\" ü"\n[crops]\naspects = ["1:1"]\n'))
    text = config.to_toml()
    assert tomllib.loads(text) == config.data
    again = load_config(write(tmp_path, text))
    assert (again.policy, again.quality, again.dupes, again.crops) == (config.policy, config.quality, config.dupes, config.crops)


unit_keys = ["policy.failed_sharpness", "policy.failed_exposure", "policy.review_sharpness", "policy.review_quality", "policy.review_crop_confidence",
             "crops.apply_min_confidence"]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(unit_keys), st.floats(0, 1), min_size=1))
def test_any_unit_value_loads_and_round_trips(values: dict[str, float]) -> None:
    config = load_config(None, values)
    for key, value in values.items():
        section, name = key.split(".")
        assert config.data[section][name] == value
    assert tomllib.loads(config.to_toml()) == config.data


# ---------------------------------------------------------------- the `config` command


def test_config_default_prints_the_shipped_file() -> None:
    result = CliRunner().invoke(config_command, ["--default"])
    assert result.exit_code == 0
    assert result.output == default_config_text()
    assert tomllib.loads(result.output)["labels"]["red"] == "Red"


def test_config_show_prints_the_merged_config(tmp_path: Path) -> None:
    path = write(tmp_path, '[labels]\nred = "Rot"\n')
    result = CliRunner().invoke(config_command, ["--show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    shown = tomllib.loads(result.output)
    assert shown["labels"]["red"] == "Rot" and shown["labels"]["green"] == "Green"
    assert str(path) in result.output.splitlines()[0]
    as_json = CliRunner().invoke(config_command, ["--json", "--config", str(path)])
    assert '"red": "Rot"' in as_json.output


def test_config_show_reports_a_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[labels]\nmagenta = \"M\"\n")
    result = CliRunner().invoke(config_command, ["--show", "--config", str(path)])
    assert isinstance(result.exception, ConfigError)  # main() turns it into one line and exit code 2
    assert "labels.magenta" in str(result.exception) and str(path) in str(result.exception)
    both = CliRunner().invoke(config_command, ["--default", "--show"])
    assert both.exit_code == 2


def test_config_type_is_frozen() -> None:
    config = load_config()
    assert isinstance(config, Config)
    with pytest.raises(AttributeError):
        config.policy = Policy()  # type: ignore[misc]


def test_every_key_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "config.md").read_text(encoding="utf-8")
    data = load_config().data
    for section, table in data.items():
        if section == "outcomes":
            for decision, outcome in table.items():
                assert f"`{decision}`" in doc
                assert all(f"`{key}`" in doc for key in outcome)
            continue
        assert f"[{section}]" in doc, section
        for key, value in table.items():
            if isinstance(value, dict):
                assert f"[{section}.{key}]" in doc
                assert all(f"| `{sub}` |" in doc for sub in value), (section, key)
            else:
                assert f"| `{key}` |" in doc, (section, key)


def test_crop_search_runs_by_default_up_to_its_size_limit(tmp_path: Path) -> None:
    settings = load_config().dupes
    assert settings.crop_tolerant and settings.crop_search_max_images == 1_000_000
    assert settings.crop_search_for(1_000_000) and not settings.crop_search_for(1_000_001)
    path = tmp_path / "c.toml"
    path.write_text("[dupes]\ncrop_search_max_images = 0\n")
    assert load_config(path).dupes.crop_search_for(10**7)  # 0: no limit
    path.write_text("[dupes]\ncrop_tolerant = false\n")
    assert not load_config(path).dupes.crop_search_for(1)


# ---------------------------------------------------------------- files found by themselves


def layered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path, Path]:
    """The user's file, a root's file and a --config file, each setting some of the same keys."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    user = home / "xmpcull" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text('[labels]\nred = "Rot"\nyellow = "Gelb"\ngreen = "Grün"\n', encoding="utf-8")
    root = tmp_path / "shoot"
    (root / ".xmpcull").mkdir(parents=True)
    (root / ".xmpcull" / "config.toml").write_text('[labels]\nyellow = "Jaune"\ngreen = "Vert"\n[bursts]\ngap_seconds = 4.0\n', encoding="utf-8")
    given = write(tmp_path, '[labels]\ngreen = "Verde"\n')
    return user, root, root / ".xmpcull" / "config.toml", given


def test_user_file_then_root_file_then_config_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xmpcull.config import user_config_path

    user, root, root_file, given = layered(tmp_path, monkeypatch)
    assert user_config_path() == user
    config = load_config(given, {"labels.purple": "Lila"}, roots=[root], lookup=True)
    labels = config.data["labels"]
    assert (labels["red"], labels["yellow"], labels["green"], labels["purple"], labels["blue"]) == ("Rot", "Jaune", "Verde", "Lila", "Blue")
    assert config.bursts.gap_seconds == 4.0
    assert config.sources == (DEFAULT_SOURCE, str(user), str(root_file), str(given), OVERRIDE_SOURCE)
    assert config.origins["labels.red"] == str(user)
    assert config.origins["labels.yellow"] == str(root_file)
    assert config.origins["labels.green"] == str(given)
    assert config.origins["labels.purple"] == OVERRIDE_SOURCE
    assert config.origins["labels.blue"] == DEFAULT_SOURCE
    # A single file as root: the folder it is in. Without lookup (the library default) nothing is read by itself.
    (root / "IMG_1.JPG").write_bytes(b"x")
    assert load_config(roots=[root / "IMG_1.JPG"], lookup=True).data["labels"]["yellow"] == "Jaune"
    assert load_config(roots=[root], lookup=False).data["labels"]["red"] == "Red"


def test_a_bad_root_file_is_blamed_on_itself(tmp_path: Path) -> None:
    (tmp_path / ".xmpcull").mkdir()
    bad = tmp_path / ".xmpcull" / "config.toml"
    bad.write_text("[dupes]\nthreshold = 'ten'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(roots=[tmp_path], lookup=True)
    assert "dupes.threshold" in str(err.value) and str(bad) in str(err.value)


def test_scan_extensions_must_be_formats_xmpcull_reads(tmp_path: Path) -> None:
    assert load_config(None, {"scan.extensions": [".CR3", "jpg"]}).scan.extensions == ("cr3", "jpg")
    assert "docx" in error_for(tmp_path, '[scan]\nextensions = ["jpg", "docx"]\n')


def test_config_show_names_the_source_of_every_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user, root, root_file, given = layered(tmp_path, monkeypatch)
    result = CliRunner().invoke(config_command, ["--show", str(root), "--config", str(given)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f'red = "Rot"  # {user}' in lines
    assert f'yellow = "Jaune"  # {root_file}' in lines
    assert f'green = "Verde"  # {given}' in lines
    assert 'blue = "Blue"  # default' in lines
    assert f"gap_seconds = 4.0  # {root_file}" in lines
    assert tomllib.loads(result.output)["labels"]["yellow"] == "Jaune"  # still TOML to copy from
    as_json = CliRunner().invoke(config_command, ["--json", str(root)])
    shown = json.loads(as_json.output)
    assert shown["origins"]["labels.yellow"] == str(root_file)
    assert shown["looked_up"] == [str(user), str(root_file)]

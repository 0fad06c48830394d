import pytest

from toolkit.errors import PolicyError
from toolkit.policy import Classification, load_policy


def write(tmp_path, text):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_hold_the_spec_keys():
    policy = load_policy()
    assert policy.number_pattern == "TS{YYYY}{MM}{seq:04d}"
    assert policy.calendar_mode == "natural"
    assert policy.classification == Classification(repeat_window_days=90, cluster_hours=48, cluster_people=5)
    assert policy.major_points == 3 and policy.notice_days == 1
    assert len(policy.units) == 8 and policy.units[-1] == "服务管理办公室"


def test_override_is_key_by_key(tmp_path):
    policy = load_policy(write(tmp_path, '[classification]\nrepeat_window_days = 60\n'))
    assert policy.classification == Classification(repeat_window_days=60, cluster_hours=48, cluster_people=5)


def test_unknown_key_names_the_key(tmp_path):
    with pytest.raises(PolicyError, match="classification.repeat_days"):
        load_policy(write(tmp_path, '[classification]\nrepeat_days = 60\n'))


def test_wrong_kind_of_value_names_the_key(tmp_path):
    with pytest.raises(PolicyError, match="scoring.major_points"):
        load_policy(write(tmp_path, '[scoring]\nmajor_points = "three"\n'))


def test_syntax_error_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="格式错误"):
        load_policy(write(tmp_path, '[numbering\npattern = 1\n'))


def test_new_channel_class_needs_its_deadline_table(tmp_path):
    with pytest.raises(PolicyError, match="channels.上门"):
        load_policy(write(tmp_path, '[channels]\n"上门" = ["上门"]\n'))


def test_cli_exits_2_naming_the_key(tousu, workspace, intake):
    workspace.mkdir()
    (workspace / "policy.toml").write_text('[numbering]\npatern = "X{seq}"\n', encoding="utf-8")
    code, _, output = tousu("process", intake())
    assert code == 2 and "numbering.patern" in output


def test_workspace_number_pattern_is_used(tousu, workspace, intake):
    workspace.mkdir()
    (workspace / "policy.toml").write_text('[numbering]\npattern = "SM-{YY}{MM}-{seq:03d}"\n', encoding="utf-8")
    code, lines, _ = tousu("process", intake())
    assert code == 0 and lines[0]["number"] == "SM-2611-001"

"""SUT configuration (harness/config.py): YAML loading, key checks, secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.config import IdTags, Secret, SutConfig, Timeouts, config_from_dict, load_config
from harness.errors import ConfigurationError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIGS = sorted([*FIXTURES.glob("*.yaml"), *FIXTURES.glob("*.yml")])
PASSWORD = "Zx9-unmistakable-Passw0rd-7781"
MINIMAL = {"sut": "cp", "charge_point_id": "CP_1"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sut.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped configurations -------------------------------------------------------------------
def test_the_fixture_directory_holds_both_simulator_configs():
    names = {p.name for p in CONFIGS}
    assert {"simulator_charge_point.yaml", "simulator_central_system.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_config_in_fixtures_loads(path):
    config = load_config(path)
    assert isinstance(config, SutConfig)
    assert config.sut in ("cp", "cs")
    assert config.charge_point_id


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_a_loaded_config_carries_every_value_its_file_sets(path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    config = load_config(path)
    assert (config.sut, config.charge_point_id) == (raw["sut"], str(raw["charge_point_id"]))
    for key in ("name", "connectors", "heartbeat_interval", "boot_retry_interval", "security_profile",
                "charge_point_vendor", "charge_point_model"):
        if key in raw:
            assert getattr(config, key) == raw[key], key
    for key, value in (raw.get("timeouts") or {}).items():
        assert getattr(config.timeouts, key) == float(value), key
    for key, value in (raw.get("id_tags") or {}).items():
        assert getattr(config.id_tags, key) == value, key
    listen = raw.get("listen") or {}
    if "port" in listen:
        assert config.listen_port == listen["port"]
    assert config.actuators == (raw.get("actuators") or {})
    assert config.extra == (raw.get("extra") or {})
    assert config.features == frozenset(raw.get("features") or ["core"])


def test_the_charge_point_simulator_config_listens_on_loopback_on_a_free_port():
    config = load_config(FIXTURES / "simulator_charge_point.yaml")
    assert config.sut == "cp" and config.charge_point_id
    assert (config.listen_host, config.listen_port, config.listen_path) == ("127.0.0.1", 0, "/ocpp")
    assert config.basic_auth_password is None


def test_the_central_system_simulator_config_points_at_the_simulator_endpoint():
    config = load_config(FIXTURES / "simulator_central_system.yaml")
    assert config.sut == "cs" and config.charge_point_id
    assert config.endpoint == "{ws}"


# --- defaults and normalisation -------------------------------------------------------------------
def test_a_minimal_config_gets_the_documented_defaults():
    config = config_from_dict(MINIMAL)
    assert (config.listen_host, config.listen_port, config.listen_path) == ("127.0.0.1", 9000, "/ocpp")
    assert config.security_profile == 0 and config.basic_auth_password is None
    assert config.id_tags == IdTags() and config.timeouts == Timeouts()
    assert config.features == frozenset({"core"})


def test_paths_and_endpoints_are_normalised():
    config = config_from_dict({**MINIMAL, "listen": {"path": "ocpp/16/"}, "endpoint": "ws://127.0.0.1:9/ocpp/"})
    assert config.listen_path == "/ocpp/16"
    assert config.endpoint == "ws://127.0.0.1:9/ocpp"


def test_id_tags_and_timeouts_can_be_partly_overridden():
    config = config_from_dict({**MINIMAL, "id_tags": {"valid": "MY_TAG"}, "timeouts": {"step": 3}})
    assert config.id_tags.valid == "MY_TAG" and config.id_tags.invalid == IdTags().invalid
    assert config.timeouts.step == 3.0 and isinstance(config.timeouts.step, float)


def test_strict_mode_is_off_unless_configured():
    assert config_from_dict(MINIMAL).strict is False
    assert config_from_dict({**MINIMAL, "strict": True}).strict is True


def test_strict_given_as_the_string_false_does_not_enable_strict_mode():
    try:
        config = config_from_dict({**MINIMAL, "strict": "false"})
    except ConfigurationError as exc:
        assert "strict" in str(exc)
    else:
        assert config.strict is False


def test_with_overrides_returns_a_changed_copy():
    config = config_from_dict(MINIMAL)
    changed = config.with_overrides(connectors=3)
    assert changed.connectors == 3 and config.connectors == 1


# --- errors that name the bad key -----------------------------------------------------------------
def test_an_unknown_top_level_key_is_a_configuration_error_naming_it():
    with pytest.raises(ConfigurationError, match="hearbeat_interval"):
        config_from_dict({**MINIMAL, "hearbeat_interval": 5})


def test_the_error_names_the_file_it_came_from(tmp_path):
    path = write(tmp_path, "sut: cp\ncharge_point_id: X\nbogus_key: 1\n")
    with pytest.raises(ConfigurationError) as excinfo:
        load_config(path)
    assert str(path) in str(excinfo.value) and "bogus_key" in str(excinfo.value)


@pytest.mark.parametrize("sut", ["charge_point", "CP", None, 1])
def test_a_bad_sut_is_a_configuration_error_naming_sut(sut):
    with pytest.raises(ConfigurationError, match="'sut'"):
        config_from_dict({**MINIMAL, "sut": sut})


def test_a_missing_sut_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="'sut'"):
        config_from_dict({"charge_point_id": "CP_1"})


@pytest.mark.parametrize("cp_id", [None, ""])
def test_a_missing_charge_point_id_is_a_configuration_error(cp_id):
    with pytest.raises(ConfigurationError, match="charge_point_id"):
        config_from_dict({"sut": "cs", "charge_point_id": cp_id})


@pytest.mark.parametrize("section, key", [("id_tags", "vaild"), ("timeouts", "stepp")])
def test_an_unknown_key_inside_id_tags_or_timeouts_is_a_configuration_error_naming_it(section, key):
    with pytest.raises(ConfigurationError, match=key):
        config_from_dict({**MINIMAL, section: {key: 1}})


@pytest.mark.parametrize("text", ["- a list\n- at the top\n", "", "just a string\n"])
def test_a_file_whose_top_level_is_not_a_mapping_is_a_configuration_error(tmp_path, text):
    with pytest.raises(ConfigurationError, match="mapping"):
        load_config(write(tmp_path, text))


def test_invalid_yaml_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_config(write(tmp_path, "sut: [cp\n"))


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_a_non_numeric_number_is_a_configuration_error_naming_the_key():
    with pytest.raises(ConfigurationError, match="connectors"):
        config_from_dict({**MINIMAL, "connectors": "two"})


def test_a_listen_section_that_is_not_a_mapping_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="listen"):
        config_from_dict({**MINIMAL, "listen": 9000})


def test_features_given_as_a_single_string_is_not_split_into_characters():
    try:
        config = config_from_dict({**MINIMAL, "features": "core"})
    except ConfigurationError as exc:
        assert "features" in str(exc)
    else:
        assert config.features == frozenset({"core"})


def test_an_unknown_key_inside_listen_is_a_configuration_error_naming_it():
    with pytest.raises(ConfigurationError, match="prot"):
        config_from_dict({**MINIMAL, "listen": {"prot": 9100}})


# --- the password ---------------------------------------------------------------------------------
def test_a_literal_password_is_held_as_a_secret(tmp_path):
    config = load_config(write(tmp_path, f"sut: cs\ncharge_point_id: X\nbasic_auth_password: '{PASSWORD}'\n"))
    assert isinstance(config.basic_auth_password, Secret)
    assert config.basic_auth_password.reveal() == PASSWORD


def test_a_password_can_come_from_an_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("OCPP_TEST_SUT_PASSWORD", PASSWORD)
    config = load_config(write(tmp_path, "sut: cs\ncharge_point_id: X\n"
                                         "basic_auth_password: {env: OCPP_TEST_SUT_PASSWORD}\n"))
    assert config.basic_auth_password.reveal() == PASSWORD


def test_a_password_from_a_missing_environment_variable_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.delenv("OCPP_TEST_SUT_PASSWORD_UNSET", raising=False)
    path = write(tmp_path, "sut: cs\ncharge_point_id: X\nbasic_auth_password: {env: OCPP_TEST_SUT_PASSWORD_UNSET}\n")
    with pytest.raises(ConfigurationError, match="OCPP_TEST_SUT_PASSWORD_UNSET"):
        load_config(path)


@pytest.mark.parametrize("raw", [12345, ["a"], {"file": "/etc/pw"}])
def test_a_password_that_is_neither_a_string_nor_env_is_a_configuration_error(raw):
    with pytest.raises(ConfigurationError, match="basic_auth_password"):
        config_from_dict({**MINIMAL, "basic_auth_password": raw})


def test_neither_repr_nor_str_of_a_config_or_its_secret_shows_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("OCPP_TEST_SUT_PASSWORD", PASSWORD)
    literal = load_config(write(tmp_path, f"sut: cs\ncharge_point_id: X\nbasic_auth_password: '{PASSWORD}'\n"))
    from_env = config_from_dict({**MINIMAL, "basic_auth_password": {"env": "OCPP_TEST_SUT_PASSWORD"}})
    for config in (literal, from_env, from_env.with_overrides(connectors=2)):
        secret = config.basic_auth_password
        renderings = [repr(config), str(config), f"{config}", "%s %r" % (config, config),
                      repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % secret]
        for text in renderings:
            assert PASSWORD not in text
        assert "Secret('***')" in repr(config)



# --- the tls: section (security extension) ---------------------------------------------------------------
def test_without_a_tls_section_the_harness_generates_its_pki_and_supports_only_the_run_profile():
    config = config_from_dict({**MINIMAL, "security_profile": 2})
    assert config.tls.generate and config.tls.ca is None
    assert config.tls.profiles == (2,) and config.tls.ports == {} and config.tls.endpoints == {}


def test_pki_generate_is_the_same_as_leaving_the_files_out():
    config = config_from_dict({**MINIMAL, "tls": {"pki": "generate", "profiles": [3, 1, 2, 1]}})
    assert config.tls.generate and config.tls.profiles == (1, 2, 3)


def test_a_vendors_files_are_read_as_paths_and_the_key_password_as_a_secret(monkeypatch):
    monkeypatch.setenv("OCPP_TEST_KEY_PASSWORD", PASSWORD)
    config = config_from_dict({**MINIMAL, "tls": {
        "ca": "/lab/pki/csms-root.pem", "cert": "/lab/pki/server-chain.pem", "key": "/lab/pki/server.key",
        "key_password": {"env": "OCPP_TEST_KEY_PASSWORD"}, "ca_key": "/lab/pki/csms-root.key",
        "manufacturer_root": "/lab/pki/mf-root.pem", "signing_cert": "/lab/pki/fw.pem", "signing_key": "/lab/pki/fw.key",
        "server_names": "lab-host.example", "ports": {1: 9001, "2": 9443, 3: 9444}}})
    tls = config.tls
    assert not tls.generate
    assert (tls.ca, tls.cert, tls.key, tls.ca_key) == ("/lab/pki/csms-root.pem", "/lab/pki/server-chain.pem",
                                                       "/lab/pki/server.key", "/lab/pki/csms-root.key")
    assert isinstance(tls.key_password, Secret) and tls.key_password.reveal() == PASSWORD
    assert PASSWORD not in repr(config) and tls.server_names == ("lab-host.example",)
    assert tls.ports == {1: 9001, 2: 9443, 3: 9444}


def test_a_central_system_under_test_names_its_endpoint_per_profile():
    config = config_from_dict({"sut": "cs", "charge_point_id": "X", "endpoint": "ws://cs.example/ocpp/",
                               "tls": {"profiles": [0, 1, 2, 3], "endpoints": {2: "wss://cs.example:443/ocpp/"}}})
    assert config.tls.endpoints == {2: "wss://cs.example:443/ocpp"}


@pytest.mark.parametrize(("tls", "key"), [
    ({"pki": "make"}, "tls.pki"),
    ({"pki": "generate", "ca": "/x.pem"}, "tls.pki"),
    ({"ca": 5}, "tls.ca"),
    ({"cert": ""}, "tls.cert"),
    ({"key_type": "dsa"}, "tls.key_type"),
    ({"profiles": [4]}, "tls.profiles"),
    ({"profiles": "2"}, "tls.profiles"),
    ({"ports": {5: 9000}}, "tls.ports"),
    ({"ports": {2: "https"}}, "tls.ports.2"),
    ({"endpoints": {"x": "wss://h"}}, "tls.endpoints"),
    ({"server_names": [""]}, "tls.server_names"),
    ({"key_password": 1234}, "tls.key_password"),
    ({"certificate": "/x.pem"}, "certificate"),
])
def test_a_bad_tls_key_is_a_configuration_error_naming_it(tls, key):
    with pytest.raises(ConfigurationError, match=key.replace(".", r"\.")):
        config_from_dict({**MINIMAL, "tls": tls})


def test_a_tls_section_that_is_not_a_mapping_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="'tls' must be a mapping"):
        config_from_dict({**MINIMAL, "tls": ["ca.pem"]})


def test_a_security_profile_outside_0_to_3_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="security_profile"):
        config_from_dict({**MINIMAL, "security_profile": 4})


def test_the_key_password_of_the_tls_section_never_reaches_the_report(monkeypatch):
    from harness.report.suts import known_secrets, redacted_config

    config = config_from_dict({**MINIMAL, "tls": {"ca": "/a.pem", "key_password": PASSWORD}})
    assert PASSWORD not in str(redacted_config(config)) and PASSWORD in known_secrets([config])

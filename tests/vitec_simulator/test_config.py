"""Configuration from `SIMULATOR_*` variables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vitec_simulator.config import Config


def test_defaults_when_nothing_is_set() -> None:
    config = Config.from_env({})
    assert config.installations == ("DEMOINSTALL", "VITECPARTNER")
    assert (config.username, config.password) == ("estate-bff", "simulator-access-key")
    assert (config.seed, config.estates, config.departments, config.employees) == (42, 300, 4, 20)
    assert config.forbidden_installations == ()


def test_every_variable_is_read() -> None:
    config = Config.from_env(
        {
            "SIMULATOR_INSTALLATIONS": " ONE, two ,",
            "SIMULATOR_USERNAME": "partner",
            "SIMULATOR_PASSWORD": "key",
            "SIMULATOR_SEED": "7",
            "SIMULATOR_ESTATES": "100000",
            "SIMULATOR_DEPARTMENTS": "2",
            "SIMULATOR_EMPLOYEES": "5",
            "SIMULATOR_FORBIDDEN_INSTALLATIONS": "two,LOCKED",
            "SIMULATOR_ANCHOR": "2025-01-01T00:00:00",
        }
    )
    assert config.installations == ("ONE", "two")
    assert (config.username, config.password, config.seed) == ("partner", "key", 7)
    assert (config.estates, config.departments, config.employees) == (100_000, 2, 5)
    assert config.forbidden_installations == ("two", "LOCKED")
    assert config.served_installations == ("ONE",)
    assert config.anchor == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "environ",
    [
        {"SIMULATOR_ESTATES": "many"},
        {"SIMULATOR_ESTATES": "-1"},
        {"SIMULATOR_DEPARTMENTS": "0"},
        {"SIMULATOR_EMPLOYEES": "-3"},
        {"SIMULATOR_INSTALLATIONS": "A,a"},
        {"SIMULATOR_ANCHOR": "last week"},
    ],
)
def test_invalid_values_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="SIMULATOR_"):
        Config.from_env(environ)


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.seed = 1  # type: ignore[misc]

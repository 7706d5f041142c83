"""The Kafka client security settings: parsed strictly, turned into aiokafka options."""

import ssl
from pathlib import Path

import pytest

from runtime.kafka import security_options
from runtime.settings import InvalidKafkaSecurity, KafkaSecurity, kafka_security


def test_no_setting_is_plaintext_and_adds_no_option() -> None:
    security = kafka_security({})
    assert security == KafkaSecurity()
    assert security_options(security) == {}


def test_strimzi_scram_over_tls_gives_every_aiokafka_option(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret-from-the-kafkauser-secret\n")
    security = kafka_security(
        {
            "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "KAFKA_SASL_USERNAME": "chargebus-gateway",
            "KAFKA_SASL_PASSWORD_FILE": str(password),
        }
    )
    options = security_options(security)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"  # Strimzi's scram-sha-512 users
    assert options["sasl_plain_username"] == "chargebus-gateway"
    assert options["sasl_plain_password"] == "s3cret-from-the-kafkauser-secret"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_sasl_plaintext_has_no_tls_context() -> None:
    security = kafka_security(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "scram-sha-256",
            "KAFKA_SASL_USERNAME": "u",
            "KAFKA_SASL_PASSWORD": "hunter2-secret",
        }
    )
    options = security_options(security)
    assert "ssl_context" not in options
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"


def test_tls_without_sasl_ignores_sasl_settings() -> None:
    security = kafka_security({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_USERNAME": "ignored"})
    assert security.username is None
    assert security.uses_tls


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "KERBEROS"}, "none of PLAINTEXT"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_PASSWORD": "hunter2-secret"},
            "needs KAFKA_SASL_USERNAME",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"},
            "exactly one of KAFKA_SASL_PASSWORD",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "hunter2-secret",
                "KAFKA_SASL_PASSWORD_FILE": "/f",
            },
            "exactly one of KAFKA_SASL_PASSWORD",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_MECHANISM": "GSSAPI",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "hunter2-secret",
            },
            "none of PLAIN",
        ),
    ],
)
def test_contradictory_settings_are_refused_without_the_password(
    environ: dict[str, str], says: str
) -> None:
    with pytest.raises(InvalidKafkaSecurity, match=says) as refused:
        kafka_security(environ)
    assert "hunter2-secret" not in str(refused.value)


def test_the_password_is_not_in_the_settings_repr() -> None:
    security = kafka_security(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_USERNAME": "u",
            "KAFKA_SASL_PASSWORD": "hunter2-secret",
        }
    )
    assert security.password == "hunter2-secret"
    assert "hunter2-secret" not in repr(security)

"""Refuse to start the stack with the secrets of .env.example: run first by airflow-init in
docker-compose.yml, which every Airflow service waits for (service_completed_successfully).

docker compose itself already refuses an empty or unset secret (`${VAR:?...}`); what it cannot see
is a value left as it is in .env.example. Exit 1 with one line per secret to replace, each naming
the .env variable; exit 0 when all are set.
"""
from __future__ import annotations

import os
import sys

# container variable -> (the .env variable that sets it, how to make a good one)
SECRETS = {
    "AIRFLOW__CORE__FERNET_KEY": (
        "AIRFLOW_FERNET_KEY",
        "python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\""),
    "AIRFLOW__API_AUTH__JWT_SECRET": (
        "AIRFLOW_JWT_SECRET", "python -c \"import secrets; print(secrets.token_urlsafe(32))\""),
    "AIRFLOW__API__SECRET_KEY": (
        "AIRFLOW_API_SECRET_KEY", "python -c \"import secrets; print(secrets.token_urlsafe(32))\""),
    "PII_HASH_KEY": (
        "PII_HASH_KEY", "python -c \"import secrets; print(secrets.token_urlsafe(32))\", kept for good "
                        "(a new key changes every pseudonym)"),
}
# The pipeline's development default (etl): fine on a laptop, never in a stack that keeps data.
DEVELOPMENT_VALUES = {"PII_HASH_KEY": "dev-only-pii-key"}


def problems(environ: dict[str, str]) -> list[str]:
    found = []
    for variable, (env_name, how) in SECRETS.items():
        value = (environ.get(variable) or "").strip()
        if not value:
            reason = "is empty"
        elif value.lower().startswith("replace-me"):
            reason = f"is still the placeholder of .env.example ({value})"
        elif value == DEVELOPMENT_VALUES.get(variable):
            reason = f"is the development default ({value})"
        elif variable == "AIRFLOW__CORE__FERNET_KEY" and not _is_fernet_key(value):
            reason = "is not a Fernet key (32 url-safe base64-encoded bytes)"
        else:
            continue
        found.append(f"refusing to start: {env_name} in .env {reason}; set it to the output of: {how}")
    return found


def _is_fernet_key(value: str) -> bool:
    from cryptography.fernet import Fernet

    try:
        Fernet(value.encode())
    except ValueError:
        return False
    return True


def main() -> int:
    found = problems(dict(os.environ))
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

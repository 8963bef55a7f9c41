"""Simulator of the three source systems of docs/sources.md (one-stop, NDXP, VNPost).

    python -m mocks serve --host 127.0.0.1 --port 8765 --seed 7 --profile lao_cai_2022 \
        --dossiers-per-year 20000

See mocks/README.md. Everything is generated deterministically from the seed and the profile.
"""

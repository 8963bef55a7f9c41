"""The simulator's OpenAPI documents describe its responses: schemathesis generates requests
for every operation and checks status codes, content types and response bodies against the
schemas (fault injection off)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from mocks.config import SimConfig
from mocks.server import create_app

APP = create_app(SimConfig(seed=4, profile="lao_cai_2022", dossiers_per_year=2_000))
CLIENT = TestClient(APP)
CREDS = APP.state.sim.config.credentials
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _auth_headers(path: str) -> dict:
    if path.startswith("/onestop"):
        return {"X-API-Key": CREDS.onestop_api_key}
    if path.startswith("/ndxp") and not path.endswith("/token"):
        tok = CLIENT.post("/ndxp/oauth2/token", data={"grant_type": "client_credentials",
                                                     "client_id": CREDS.ndxp_client_id,
                                                     "client_secret": CREDS.ndxp_client_secret}).json()
        return {"Authorization": "Bearer " + tok["access_token"]}
    if path.startswith("/vnpost") and not path.endswith("/auth"):
        tok = CLIENT.post("/vnpost/api/auth",
                          json={"username": CREDS.vnpost_username, "password": CREDS.vnpost_password}).json()
        return {"access_token": tok["access_token"]}
    return {}


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_responses_match_the_documents(case):
    """With valid credentials: every answer is documented and matches its schema."""
    case.call_and_validate(headers=_auth_headers(case.path), checks=CHECKS)


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_unauthenticated_responses_match_the_documents(case):
    case.call_and_validate(checks=CHECKS)


def test_valid_requests_get_data_that_matches_the_schemas():
    """Schemathesis rarely generates a valid date window; check real data pages explicitly."""
    from mocks import models as M

    h = _auth_headers("/onestop")
    for endpoint, model in (("hoso", M.DossierEnvelope), ("thanhtoan", M.PaymentEnvelope),
                            ("donvi", M.AgencyEnvelope), ("thutuc", M.ProcedureEnvelope),
                            ("cauhinh-dichvu", M.ServiceConfigEnvelope)):
        body = CLIENT.get(f"/onestop/api/v1/{endpoint}", headers=h,
                          params={"tuNgay": "20220301000000", "denNgay": "20220401000000"}).json()
        assert body["data"], endpoint
        model.model_validate(body)
    h = _auth_headers("/ndxp/x")
    for path, model in (("/ndxp/dvcqg/v1/dongbo", M.SyncPage), ("/ndxp/paygov/v1/giaodich", M.PayGovPage),
                        ("/ndxp/dvcqg/v1/thutuc-tichhop", M.IntegratedPage)):
        body = CLIENT.get(path, headers=h, params={"fromDate": "2022-03-01", "toDate": "2022-04-01"}).json()
        assert body["items"], path
        model.model_validate(body)
    h = _auth_headers("/vnpost/x")
    body = CLIENT.get("/vnpost/api/bcci/orders", headers=h,
                      params={"fromDate": "01/03/2022", "toDate": "31/03/2022", "limit": 500}).json()
    assert body["Items"]
    M.VnpostEnvelope.model_validate(body)


@pytest.mark.parametrize("system", ["onestop", "ndxp", "vnpost"])
def test_each_system_has_its_document(system):
    doc = CLIENT.get(f"/{system}/openapi.json").json()
    assert doc["openapi"].startswith("3.") and doc["paths"]
    assert all(p.startswith(f"/{system}/") for p in doc["paths"])

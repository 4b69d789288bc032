"""The API's bearer header, as every API test logs in."""
from __future__ import annotations

from testkit import PASSWORD


def bearer(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header of ``username``'s fresh API token (``POST /api/v1/tokens``, which must answer 201)."""
    answer = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}

"""Rate limits hold across worker processes: gunicorn with 3 workers, counters in a real
redis-server, then in the SQLite file every worker of the host shares. Requests go to the login
page and the API alike, several at a time so that every worker answers some."""

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from loyalty_portal.models import Role
from tests.factories import DEFAULT_PASSWORD, make_user

LIMIT = 6
WORKERS = 3


def _csrf_and_cookies(url):
    page = httpx.get(f"{url}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    return token.group(1), page.cookies


def _failed_sign_in(url, n):
    """A wrong password, on the login page for even n and the API for odd n (a new connection
    each time, so any worker may answer)."""
    headers = {"Connection": "close"}
    if n % 2:
        response = httpx.post(f"{url}/api/v1/auth/session", timeout=30, headers=headers,
                              json={"email": f"nobody{n}@example.com", "password": "wrong"})
    else:
        token, cookies = _csrf_and_cookies(url)
        response = httpx.post(f"{url}/login", timeout=30, headers=headers, cookies=cookies,
                              data={"csrf_token": token, "email": f"nobody{n}@example.com",
                                    "password": "wrong"})
    return response.status_code


@pytest.fixture
def owner(db):
    email = make_user(Role.OWNER).email
    db.session.commit()  # the workers need SQLite's write lock: hold no transaction
    return email


@pytest.mark.parametrize("storage", ["redis", "sqlite-file"])
def test_the_sign_in_limit_holds_across_three_workers(storage, serve_with_workers, owner,
                                                      redis_url, tmp_path):
    uri = redis_url if storage == "redis" else f"sqlite:///{tmp_path / 'rate-limits.sqlite3'}"
    if storage == "redis":
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    served = serve_with_workers(WORKERS, RATELIMIT_STORAGE_URI=uri,
                                LOGIN_RATE_LIMIT=f"{LIMIT} per minute",
                                LOGIN_ACCOUNT_RATE_LIMIT="100 per minute")
    with ThreadPoolExecutor(max_workers=WORKERS * 2) as pool:
        statuses = list(pool.map(lambda n: _failed_sign_in(served.url, n), range(LIMIT * 3)))
    # Exactly the allowance was answered as a failed sign-in, whichever worker counted it.
    assert sorted(statuses).count(429) == LIMIT * 2, statuses
    assert set(statuses) <= {401, 422, 429}
    posts = served.worker_pids("POST /api/v1/auth/session") | served.worker_pids("POST /login")
    assert len(posts) >= 2
    # The limited address is refused even with the right password, on both routes.
    right = httpx.post(f"{served.url}/api/v1/auth/session", timeout=30,
                       json={"email": owner, "password": DEFAULT_PASSWORD})
    assert right.status_code == 429 and right.json()["error_code"] == "RATE_LIMITED"
    token, cookies = _csrf_and_cookies(served.url)
    page = httpx.post(f"{served.url}/login", timeout=30, cookies=cookies,
                      data={"csrf_token": token, "email": owner, "password": DEFAULT_PASSWORD})
    assert page.status_code == 429

"""The Redis cache backend (production's): one client per server, shared by threads, and the
cache operations the platform uses work through it. Needs the Redis of the machine (6379, as CI
has); skipped where none answers."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis

from tongban.core.cache import RedisCache

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield backend
    for key in backend._cache.get_client().scan_iter(f"{backend.key_prefix}*"):
        backend._cache.get_client(write=True).delete(key)


def test_one_client_serves_every_command(redis_cache):
    client = redis_cache._cache.get_client()
    redis_cache.set("a", 1)
    redis_cache.get_many(["a", "b"])
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client("a") is client


def test_the_operations_the_platform_uses(redis_cache):
    assert redis_cache.add("n", 5, timeout=None)
    assert not redis_cache.add("n", 7)
    assert redis_cache.incr("n") == 6
    redis_cache.set("snapshot", {"roles": ["clerk"]}, 60)
    assert redis_cache.get_many(["n", "snapshot", "missing"]) == {"n": 6, "snapshot": {"roles": ["clerk"]}}
    assert redis_cache.get_or_set("built", lambda: "once", 60) == "once"
    assert redis_cache.get_or_set("built", lambda: "twice", 60) == "once"
    redis_cache.delete("snapshot")
    assert redis_cache.get("snapshot") is None
    with pytest.raises(ValueError):
        redis_cache.incr("missing")


def test_incr_keeps_the_expiry_and_never_creates_a_key(redis_cache):
    redis_cache.set("limit", 1, timeout=3600)
    assert redis_cache.incr("limit", 2) == 3
    client = redis_cache._cache.get_client()
    assert 3590 < client.ttl(redis_cache.make_key("limit")) <= 3600
    with pytest.raises(ValueError):
        redis_cache.incr("gone")
    assert client.exists(redis_cache.make_key("gone")) == 0


def test_threads_share_the_client_safely(redis_cache):
    redis_cache.set("count", 0, timeout=None)

    def work():
        for _ in range(200):
            redis_cache.incr("count")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_cache.get("count") == 1600

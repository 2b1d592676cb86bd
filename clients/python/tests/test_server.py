"""Every method the server already supports, against the real binary, for the sync and the async client."""

from __future__ import annotations

from typing import Any

import pytest

from warden_client import AuthRefused, RefusedError, WardenError


def test_health(api: Any) -> None:
    assert api.ping()["status"] == "ok"
    assert api.livez()["status"] == "ok"
    assert api.readyz()["status"] == "ok"
    assert api.health()["status"] == "healthy"
    assert api.is_healthy() is True


def test_workflows(api: Any, factory: Any) -> None:
    api.create_role("deployer")
    api.add_permission("deployer", "deploy")
    api.add_membership("zoe", "deployer")
    api.add_membership("adam", "deployer")
    assert api.get_users_for_workflow("deploy") == ["adam", "zoe"]
    assert api.check_user_workflow_permission("zoe", "deploy") is True
    assert api.check_user_workflow_permission("eve", "deploy") is False
    assert factory().get_users_for_workflow("deploy") == []
    api.remove_membership("zoe", "deployer")
    assert api.check_user_workflow_permission("zoe", "deploy") is False


def test_roles(api: Any) -> None:
    created = api.create_role("editor", "Content editor role")
    assert created["created"] is True
    assert isinstance(created["revision"], int)
    assert api.create_role("editor")["created"] is False
    api.create_role("viewer")
    roles = api.list_roles()
    assert {"role": "editor", "description": "Content editor role"} in roles
    assert [r["role"] for r in roles] == ["editor", "viewer"]
    removed = api.delete_role("viewer")
    assert removed["removed"] is True and removed["revision"] > created["revision"]
    assert api.delete_role("viewer")["removed"] is False
    assert [r["role"] for r in api.list_roles()] == ["editor"]


def test_permissions_and_memberships(api: Any) -> None:
    api.create_role("editor")
    assert api.add_permission("editor", "docs:edit")["created"] is True
    assert api.add_permission("editor", "docs:edit")["created"] is False
    assert api.has_permission("editor", "docs:edit") is True
    assert api.role_has_permission("editor", "docs:read") is False
    assert api.add_membership("bob@example.com", "editor")["created"] is True
    assert api.has_membership("bob@example.com", "editor") is True
    assert api.has_membership("alice", "editor") is False
    assert api.user_has_permission("bob@example.com", "docs:edit") is True
    assert api.user_has_permission("bob@example.com", "docs:delete") is False
    assert api.get_user_permissions("bob@example.com") == [{"name": "docs:edit"}]
    assert api.get_role_permissions("editor") == [{"name": "docs:edit"}]
    assert [r["role"] for r in api.get_user_roles("bob@example.com")] == ["editor"]
    assert api.get_role_members("editor") == [{"user": "bob@example.com"}]
    assert [r["role"] for r in api.which_roles_can("docs:edit")] == ["editor"]
    assert api.which_users_can("docs:edit") == [{"user": "bob@example.com"}]
    assert api.get_user_permissions("nobody") == []

    assert api.remove_permission("editor", "docs:edit")["removed"] is True
    assert api.user_has_permission("bob@example.com", "docs:edit") is False
    assert api.which_users_can("docs:edit") == []
    assert api.remove_membership("bob@example.com", "editor")["removed"] is True
    assert api.has_membership("bob@example.com", "editor") is False
    assert api.get_role_members("editor") == []


def test_other_tenant_sees_nothing(factory: Any) -> None:
    mine, theirs = factory(), factory()
    mine.create_role("admin")
    mine.add_permission("admin", "everything")
    mine.add_membership("carol", "admin")
    assert mine.user_has_permission("carol", "everything") is True
    assert theirs.list_roles() == []
    assert theirs.user_has_permission("carol", "everything") is False
    assert theirs.which_users_can("everything") == []
    with pytest.raises(RefusedError) as err:
        theirs.get_role_members("admin")
    assert err.value.status == 404


def test_errors_are_typed(api: Any, factory: Any, key: str) -> None:
    with pytest.raises(RefusedError) as err:
        api.add_permission("ghost", "read")
    assert err.value.status == 404 and err.value.code == 404
    assert "ghost" in (err.value.error or "")
    assert err.value.envelope is not None and err.value.envelope["success"] is False
    assert isinstance(err.value, AuthRefused) and isinstance(err.value, WardenError)

    with pytest.raises(RefusedError) as err:
        api.create_role("bad name!")
    assert err.value.status == 400

    bad = factory("not-a-uuid-secret")
    with pytest.raises(RefusedError) as err:
        bad.list_roles()
    assert err.value.status == 401
    assert "not-a-uuid-secret" not in str(err.value) + repr(err.value)
    assert key not in repr(api) and key not in str(api)


def test_read_your_writes(api: Any, factory: Any, key: str) -> None:
    api.create_role("r")
    added = api.add_membership("dave", "r")
    fresh = api.at_least(added["revision"])
    assert fresh.revision == added["revision"]
    assert fresh.has_membership("dave", "r") is True
    assert fresh.get_role_members("r") == [{"user": "dave"}]
    with pytest.raises(RefusedError) as err:
        api.at_least(added["revision"] + 1000).has_membership("dave", "r")
    assert err.value.status == 409
    assert api.revision is None  # the original is unaffected

    tracking = factory(key, read_your_writes=True)
    assert tracking.revision is None
    rev = tracking.add_permission("r", "p")["revision"]
    assert tracking.revision == rev
    assert tracking.user_has_permission("dave", "p") is True


def test_users(api: Any) -> None:
    saved = api.put_user("u1", "allowed", profile={"name": "One"})
    assert saved["created"] is True
    api.put_user("u2", "denied")
    api.put_user("u3", "allowed", enabled=False)
    user = api.get_user("u1")
    assert user["status"] == "allowed" and user["profile"] == {"name": "One"} and user["enabled"] is True
    api.create_role("staff")
    api.add_membership("u1", "staff")
    assert api.get_user("u1")["roles"] == ["staff"]
    page = api.list_users_page(limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert [u["user_id"] for u in api.list_users()] == ["u1", "u2", "u3"]
    assert len(api.list_users(status="denied")) == 1
    changed = api.sensitive_change("u1")
    assert changed["sensitive_changed_at"]
    assert api.delete_user("u3")["removed"] is True
    assert api.delete_user("u3")["removed"] is False
    with pytest.raises(RefusedError) as err:
        api.get_user("u3")
    assert err.value.status == 404
    with pytest.raises(RefusedError) as err:
        api.put_user("u4", "Allowed")
    assert err.value.status == 400


def test_activation(api: Any) -> None:
    api.put_user("newbie", "allowed")
    issued = api.issue_activation_code("newbie", ttl_minutes=5)
    assert issued["code"] and issued["expires_at"]
    with pytest.raises(RefusedError) as err:
        api.activate_user("newbie", "wrong")
    assert err.value.status == 400
    assert api.activate_user("newbie", issued["code"])["activated_at"]
    assert api.get_user("newbie")["activated_at"]
    with pytest.raises(RefusedError):
        api.activate_user("newbie", issued["code"])  # used


def test_access_checks_and_quotas(api: Any) -> None:
    api.create_role("chat")
    api.put_user("q", "allowed")
    api.add_membership("q", "chat")
    api.set_user_quotas("q", requests_per_hour=1)
    assert api.get_user("q")["quotas"]["requests_per_hour"] == 1
    first = api.check_access("q", role_id="chat", chat_id=42, message_id="m1")
    assert first["access"] == "allowed" and first["permissions"] == "allowed"
    assert first["rate_limits"] is None
    second = api.check_access("q")
    assert second["access"] == "allowed" and second["rate_limits"] is not None
    assert api.check_access("stranger")["access"] == "denied"
    assert api.request_counters("q") == {"requests_per_hour": 2, "requests_per_day": 2}
    history = api.user_requests("q")
    assert len(history) == 2
    page = api.user_requests_page("q", limit=1)
    assert len(page["items"]) == 1 and page["next_cursor"]


def test_single_use_tokens(api: Any) -> None:
    api.put_user("t", "allowed")
    issued = api.issue_single_use_token("t", ttl_minutes=5)
    assert issued["token"].startswith("t.")
    owner = api.validate_single_use_token(issued["token"])
    assert owner["user_id"] == "t" and owner["status"] == "allowed"
    with pytest.raises(RefusedError) as err:
        api.validate_single_use_token(issued["token"])
    assert err.value.status == 401
    assert issued["token"] not in str(err.value) + repr(err.value)
    api.issue_single_use_token("t")
    assert api.revoke_single_use_tokens("t")["revoked"] == 1
    api.put_user("blocked", "denied")
    with pytest.raises(RefusedError) as err:
        api.issue_single_use_token("blocked")
    assert err.value.status == 403


def test_sessions(api: Any) -> None:
    api.put_user("s", "allowed")
    session = api.create_session("s", ["read", "admin:*"], ttl_seconds=600, metadata={"ip": "1.2.3.4"})
    sid = session["session_id"]
    got = api.get_session(sid)
    assert got["user_id"] == "s" and got["metadata"] == {"ip": "1.2.3.4"}
    assert api.check_session(sid, ["read", "delete", "admin:read"]) == {
        "read": True, "delete": False, "admin:read": True,
    }
    assert api.set_session_ttl(sid, 1200)["ttl_remaining"] > 600
    assert sorted(api.set_session_permissions(sid, ["write"])["permissions"]) == ["write"]
    assert api.check_session(sid, ["read", "write"]) == {"read": False, "write": True}
    listed = api.user_sessions("s")
    assert len(listed) == 1 and "session_id" not in listed[0]
    assert api.delete_session(sid)["removed"] is True
    with pytest.raises(RefusedError) as err:
        api.get_session(sid)
    assert err.value.status == 404 and sid not in str(err.value) + repr(err.value)
    api.create_session("s", ["x"])
    api.create_session("s", ["y"])
    third = api.create_session("s", ["z"])
    assert api.delete_user_session("s", third["session_ref"])["removed"] is True
    assert api.delete_user_sessions("s")["removed"] == 2
    assert api.user_sessions("s") == []
    assert api.cleanup_sessions()["removed"] >= 0


def test_jwt_and_settings(api: Any) -> None:
    settings = api.get_settings()
    assert settings["jwt_audience_is_default"] is True
    api.create_role("r")
    api.add_membership("j", "r")
    api.add_permission("r", "p")
    pair = api.issue_jwt("j")
    assert pair["token_type"] == "Bearer" and pair["refresh_token"]
    verified = api.verify_jwt(pair["access_token"])
    assert verified["valid"] is True and verified["claims"]["sub"] == "j"
    assert verified["claims"]["permissions"] == ["p"]
    assert "keys" in api.jwks(verified["claims"]["tid"])
    refreshed = api.refresh_jwt(pair["refresh_token"])
    assert refreshed["access_token"] != pair["access_token"]
    assert api.revoke_user_jwts("j")["revoked"] >= 1
    with pytest.raises(RefusedError) as err:
        api.verify_jwt(refreshed["access_token"])
    assert err.value.status == 401
    with pytest.raises(RefusedError) as err:
        api.issue_jwt("no-roles")
    assert err.value.status == 404

    updated = api.set_jwt_audience("my-app")
    assert updated["jwt_audience"] == "my-app" and updated["jwt_audience_is_default"] is False
    assert api.get_settings()["jwt_audience"] == "my-app"
    assert api.set_jwt_audience(None)["jwt_audience_is_default"] is True
    assert settings["auto_register_users"] is False
    assert api.set_auto_register_users(True)["auto_register_users"] is True
    assert api.check_access("newcomer")["access"] == "allowed"
    assert api.get_user("newcomer")["status"] == "allowed"


def test_audit(api: Any) -> None:
    api.create_role("audited")
    api.add_permission("audited", "p")
    page = api.audit_entries(limit=1)
    assert len(page["entries"]) == 1 and page["next_cursor"]
    everything = api.all_audit_entries()
    assert len(everything) >= 2
    assert api.all_audit_entries(action="role.create")


def test_listing_follows_cursor(api: Any) -> None:
    # 1001 grants: the server answers the first 1000 with a cursor; the client returns them all.
    api.create_role("big")
    for i in range(1001):
        api.add_permission("big", f"p{i:04d}")
    names = [p["name"] for p in api.get_role_permissions("big")]
    assert len(names) == 1001 and names == sorted(set(names))


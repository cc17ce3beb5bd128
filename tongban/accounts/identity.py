"""What every signed-in request needs to know about its user, read once and kept in the cache.

Before a view runs, a staff request asked the database five times about its user: is this
account staff (the two-factor rule), the staff profile and the roles (the data scope), and the
user's and groups' permissions. None of it changes between requests, so ``prime(user)`` (called
by the identity middleware) reads it from the cache (Redis in production) and puts it where
Django and ``tongban.accounts.scope`` look for it first:

- ``user._tongban_is_staff`` — ``requires_otp``;
- ``user._tongban_roles`` and ``user._tongban_profile`` — ``scope_for``;
- ``user._user_perm_cache`` / ``_group_perm_cache`` / ``_perm_cache`` — Django's ModelBackend.

Invalidation: one generation number in the cache (``tongban.core.generations``) names every
snapshot. Saving or deleting a staff profile, a role assignment, a region (paths) or a group,
and changing group membership or permissions, increments it — at once and again when the
transaction commits, so a snapshot read from the database between the change and its commit is
dropped as well. The user row itself
(``is_active``, ``is_superuser``, the session version of "log out everywhere") is still read from
the database on every request and is part of the key.

The two-factor device a staff session was verified with (django-otp keeps its id in the session
and read the device row on every request) is cached too, under its own key (``otp_device``):
saving or deleting any device deletes that key, at once and again after the commit, so a device
removed by an administrator stops verifying the session on its next request. The cached copy
only tells the middleware which confirmed device of which user verified the session; tokens are
always checked against the device row read afresh (the login step does not go through here),
and the copy is kept without its TOTP secret.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from tongban.accounts import scope
from tongban.accounts.models import RoleAssignment, StaffProfile, User
from tongban.core.generations import Generation
from tongban.core.models import Region

GENERATION = Generation("identity")
TTL_SECONDS = 600


def invalidate(**kwargs: Any) -> None:
    """Every snapshot is stale (signal receiver; also callable after a bulk ``update()``)."""
    GENERATION.bump()


def _read(user: User) -> dict[str, Any]:
    profile = StaffProfile.objects.select_related("region").filter(user=user, is_active=True).first()
    user_perms, group_perms = set(), set()
    if not user.is_superuser:  # superusers pass every check without a permission list
        for label, codename, via_group in _permission_rows(user):
            (group_perms if via_group else user_perms).add(f"{label}.{codename}")
    return {
        "staff": profile is not None,
        "profile": (profile.region.path, profile.department_id) if profile is not None else None,
        "roles": sorted(
            RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list("role", flat=True)
        ),
        "user_perms": sorted(user_perms),
        "group_perms": sorted(group_perms),
    }


def _permission_rows(user: User):
    direct = Permission.objects.filter(user=user).values_list("content_type__app_label", "codename")
    grouped = Permission.objects.filter(group__user=user).values_list("content_type__app_label", "codename")
    yield from ((label, codename, False) for label, codename in direct)
    yield from ((label, codename, True) for label, codename in grouped)


def snapshot(user: User) -> dict[str, Any]:
    key = f"tongban:identity:{GENERATION.current()}:{user.pk}:{int(user.is_superuser)}"
    found = cache.get(key)
    if found is None:
        found = _read(user)
        cache.set(key, found, TTL_SECONDS)
    return found


def prime(user: User) -> None:
    """Put the user's snapshot where the permission and scope checks look first."""
    if not settings.IDENTITY_CACHE or not user.is_authenticated or not user.is_active:
        return
    found = snapshot(user)
    user._tongban_is_staff = found["staff"]
    user._tongban_roles = frozenset(found["roles"])
    # Paired with this process's scope generation: a profile saved later in the request wins.
    user._tongban_profile = (scope.generation(), tuple(found["profile"]) if found["profile"] else None)
    if not user.is_superuser:
        user._user_perm_cache = set(found["user_perms"])
        user._group_perm_cache = set(found["group_perms"])
        user._perm_cache = user._user_perm_cache | user._group_perm_cache


def _device_key(persistent_id: str) -> str:
    return f"tongban:otp-device:{persistent_id}"


def otp_device(persistent_id: str, load: Callable[[], Any]) -> Any:
    """The device named by ``persistent_id`` (``load`` reads it when it is not cached)."""
    if not settings.IDENTITY_CACHE:
        return load()
    device = cache.get(_device_key(persistent_id))
    if device is None:
        device = load()
        if device is not None:
            kept = copy.copy(device)
            if hasattr(kept, "key"):
                kept.key = ""  # the TOTP secret never goes to the cache
            cache.set(_device_key(persistent_id), kept, TTL_SECONDS)
    return device


def forget_device(sender, instance, **kwargs: Any) -> None:
    """Any save or delete of a two-factor device drops its cached copy."""
    key = _device_key(instance.persistent_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def connect_device_models() -> None:
    """Called from ``AccountsConfig.ready`` (every installed django-otp device model)."""
    from django.apps import apps
    from django_otp.models import Device

    for model in apps.get_models():
        if issubclass(model, Device):
            label = model._meta.label
            post_save.connect(forget_device, sender=model, dispatch_uid=f"identity-device-save-{label}")
            post_delete.connect(forget_device, sender=model, dispatch_uid=f"identity-device-delete-{label}")


for _model in (StaffProfile, RoleAssignment, Region, Group):
    post_save.connect(invalidate, sender=_model, dispatch_uid=f"identity-save-{_model.__name__}")
    post_delete.connect(invalidate, sender=_model, dispatch_uid=f"identity-delete-{_model.__name__}")
for _through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(invalidate, sender=_through, dispatch_uid=f"identity-m2m-{_through.__name__}")

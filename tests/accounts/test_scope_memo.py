"""scope_for is memoised on the user object while a request runs, and never outside one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.accounts.helpers import make_staff
from tests.core.factories import CityFactory, OrganisationFactory
from tongban.accounts.models import Role, RoleAssignment, StaffProfile
from tongban.accounts.scope import _request_begins, _request_ends, scope_for

# The receivers scope.py connects to request_started/request_finished, called directly: sending
# the signals themselves would also run close_old_connections inside the test transaction.

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    dept = OrganisationFactory(region=CityFactory(), name="测试市场监管局")
    user = make_staff(username="memo-clerk", department=dept, roles=(Role.WINDOW_CLERK,))
    return type(user).objects.get(pk=user.pk)  # a fresh object, as in a request


@pytest.fixture
def in_request():
    _request_begins()
    yield
    _request_ends()


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_within_a_request_a_second_lookup_is_free(clerk, in_request):
    first = scope_for(clerk)
    with CaptureQueriesContext(connection) as ctx:
        assert scope_for(clerk) is first
    assert ctx.captured_queries == []


def test_outside_a_request_every_lookup_reads_the_profile(clerk):
    scope_for(clerk)
    assert _queries(lambda: scope_for(clerk)) == 1  # the profile (roles are memoised by roles_of)
    StaffProfile.objects.filter(user=clerk).update(is_active=False)  # no signal
    assert scope_for(clerk).user_id is None


def test_the_next_request_reads_afresh(clerk):
    _request_begins()
    assert scope_for(clerk).sees_department
    _request_ends()
    StaffProfile.objects.filter(user=clerk).update(is_active=False)  # no signal
    _request_begins()
    try:
        assert scope_for(clerk).user_id is None
    finally:
        _request_ends()


def test_a_profile_saved_during_the_request_is_seen_on_the_same_object(clerk, in_request):
    assert scope_for(clerk).sees_department
    profile = StaffProfile.objects.get(user=clerk)
    profile.is_active = False
    profile.save()
    assert scope_for(clerk).user_id is None


def test_a_role_change_is_seen_on_a_new_user_object(clerk, in_request):
    assert not scope_for(clerk).can_approve_extensions
    RoleAssignment.objects.create(user=clerk, role=Role.DEPARTMENT_HEAD)
    fresh = type(clerk).objects.get(pk=clerk.pk)
    assert scope_for(fresh).can_approve_extensions


def test_deactivation_and_superuser_on_the_same_object(clerk, in_request):
    assert not scope_for(clerk).sees_everything
    clerk.is_superuser = True
    assert scope_for(clerk).sees_everything
    clerk.is_active = False
    assert scope_for(clerk).user_id is None

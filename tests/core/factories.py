"""factory-boy factories for the core reference data; other apps' tests import these.

Codes are well-formed by construction (levels, prefixes, check characters) but synthetic: the
test regions are named 测试省/测试市/... so they are never mistaken for real divisions.

    county = CountyFactory()                    # with its city and province
    town = TownFactory(parent=county)
    province, city, county = region_chain()     # the three levels at once
    department = OrganisationFactory(region=county)
    hall = ServiceHallFactory(region=county)
    WindowFactory(hall=hall, kind=Window.Kind.DEDICATED, organisations=[department])

Factories write straight to the database (no audit events); use ``tongban.core.services`` in
tests that are about the rules themselves.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from tongban.core.identifiers import credit_code_check_char
from tongban.core.models import Organisation, Region, ServiceHall, Window

STANDARD_HOURS = [
    {"days": [1, 2, 3, 4, 5], "open": "08:30", "close": "12:00"},
    {"days": [1, 2, 3, 4, 5], "open": "14:30", "close": "17:30"},
]


class ProvinceFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    # 83–98 are not used by any real province, so tests never collide with the demo data.
    code = factory.Sequence(lambda n: f"{83 + n % 16:02d}0000")
    name = factory.Sequence(lambda n: f"测试省{n}")
    level = Region.Level.PROVINCE
    parent = None


class CityFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    parent = factory.SubFactory(ProvinceFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code[:2]}{n % 99 + 1:02d}00")
    name = factory.Sequence(lambda n: f"测试市{n}")
    level = Region.Level.CITY


class CountyFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    parent = factory.SubFactory(CityFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code[:4]}{n % 98 + 1:02d}")
    name = factory.Sequence(lambda n: f"测试县{n}")
    level = Region.Level.COUNTY


class TownFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    parent = factory.SubFactory(CountyFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}{n % 899 + 1:03d}000")
    name = factory.Sequence(lambda n: f"测试镇{n}")
    level = Region.Level.TOWN


class VillageFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    parent = factory.SubFactory(TownFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code[:9]}{n % 998 + 1:03d}")
    name = factory.Sequence(lambda n: f"测试村{n}")
    level = Region.Level.VILLAGE


def region_chain(depth: int = 3) -> list[Region]:
    """[province, city, county, town, village][:depth], each the parent of the next."""
    factories = [ProvinceFactory, CityFactory, CountyFactory, TownFactory, VillageFactory]
    chain: list[Region] = [ProvinceFactory()]
    for make in factories[1:depth]:
        chain.append(make(parent=chain[-1]))
    return chain


def credit_code_for(region: Region, serial: int, prefix: str = "11") -> str:
    """A valid unified social credit code: ``prefix`` (11 = 机关), the region's 6 digits, a
    9-digit serial and the GB 32100 check character."""
    first17 = f"{prefix}{region.code[:6]}{serial:09d}"
    return first17 + credit_code_check_char(first17)


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("credit_code",)

    region = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"测试局{n}")
    short_name = "测试"
    kind = Organisation.Kind.DEPARTMENT
    credit_code = factory.LazyAttributeSequence(lambda o, n: credit_code_for(o.region, 900_000_000 + n))
    parent = None


class ServiceHallFactory(DjangoModelFactory):
    class Meta:
        model = ServiceHall

    region = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"测试政务服务中心{n}")
    kind = ServiceHall.Kind.CENTRE
    address = factory.Sequence(lambda n: f"测试路 {n} 号")
    longitude = Decimal("116.520000")
    latitude = Decimal("31.730000")
    opening_hours = factory.LazyFunction(lambda: [dict(p) for p in STANDARD_HOURS])
    hours_note = "法定节假日除外"
    phone = "12345"


class WindowFactory(DjangoModelFactory):
    class Meta:
        model = Window
        skip_postgeneration_save = True

    hall = factory.SubFactory(ServiceHallFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    name = "综合受理窗口"
    kind = Window.Kind.COMPREHENSIVE

    @factory.post_generation
    def organisations(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.organisations.set(extracted)


def login_superuser(client, django_user_model, username: str = "root"):
    """Log ``client`` in as a superuser whose session already passed the staff TOTP step, so
    admin pages answer directly (staff sessions without a verified device are redirected)."""
    user = django_user_model.objects.create_superuser(username, f"{username}@example.com", "pw-not-used-123")
    client.force_login(user)
    session = client.session
    session["session_version"] = getattr(user, "session_version", 0)
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="测试设备", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return user

import time

import pytest
from django.db import transaction

from tests.catalog import factories
from tongban.catalog import demo, services
from tongban.catalog.models import BasicItem, ItemImplementation
from tongban.catalog.search import search_items

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """Load the demo catalogue once for the module, inside a transaction rolled back at the end;
    each test runs in its own savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        factories.demo_departments()
        demo.load(None, counties=["341502"])
        yield
        transaction.set_rollback(True)


REQUIRED = [
    "企业设立登记",
    "食品经营许可",
    "个体工商户设立登记",
    "企业注销登记",
    "居民户口簿补领、换领",
    "出生登记",
    "居民身份证换领",
    "内地居民结婚登记",
    "社会保障卡申领",
    "基本养老保险待遇申领",
    "失业保险金申领",
    "购买自住住房提取住房公积金",
    "不动产转移登记",
    "建筑工程施工许可证核发",
    "医师执业注册",
    "独生子女父母奖励",
    "最低生活保障审核确认",
    "残疾人证核发",
    "机动车驾驶证期满换证",
    "道路货物运输经营许可",
]


def test_demo_catalogue_is_complete_and_idempotent(catalogue):
    names = set(BasicItem.objects.values_list("name", flat=True))
    assert len(names) >= 60
    assert set(REQUIRED) <= names
    published = ItemImplementation.objects.filter(published_version__isnull=False)
    count = published.count()
    assert count >= 60
    demo.load(None, counties=["341502"])
    assert ItemImplementation.objects.count() == count
    # the same item in the city and the county shares its basic code
    transfer = ItemImplementation.objects.filter(basic_item__name="不动产转移登记")
    assert {i.code[-12:] for i in transfer} == {transfer[0].basic_item.code} and transfer.count() == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("开饭店", "食品经营许可"),
        ("我想开个饭店需要什么", "食品经营许可"),
        ("开公司", "企业设立登记"),
        ("生孩子", "出生登记"),
        ("身份证过期了", "居民身份证换领"),
        ("提公积金", "住房公积金"),
        ("驾照到期", "机动车驾驶证期满换证"),
        ("低保", "最低生活保障审核确认"),
        ("食品经营许可", "食品经营许可"),
        ("跑运输", "道路货物运输经营许可"),
    ],
)
def test_search_understands_everyday_phrasings(catalogue, query, expected):
    hits = search_items(query, region="341502")
    assert hits, query
    assert expected in hits[0].implementation.basic_item.name, [
        h.implementation.basic_item.name for h in hits[:5]
    ]


def test_search_region_and_latency(catalogue, capsys):
    hits = search_items("开饭店", region="341502")
    assert hits[0].implementation.region.code == "341502"
    # 裕安区 has no demo departments here: it is served by the city's items only, never 金安区's
    assert all(h.implementation.region.code == "341500" for h in search_items("结婚登记", region="341503"))
    queries = [
        "开饭店",
        "开公司",
        "生孩子",
        "身份证过期",
        "公积金提取",
        "不动产",
        "施工许可",
        "低保",
        "社保卡",
        "驾照到期",
    ]
    timings = []
    for q in queries * 3:
        start = time.perf_counter()
        search_items(q, region="341502")
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    with capsys.disabled():
        print(
            f"\n[search latency over {ItemImplementation.objects.count()} implementations] "
            f"median {timings[len(timings) // 2]:.1f} ms, max {timings[-1]:.1f} ms"
        )


def test_unpublished_items_are_not_found(catalogue):
    impl = ItemImplementation.objects.filter(basic_item__name="食品经营许可").first()
    services.new_draft(impl)
    assert any("食品经营" in h.implementation.basic_item.name for h in search_items("食品经营"))
    new = services.create_implementation(
        factories.basic_item("测试专用事项甲乙丙", aliases=""),
        factories.department(factories.liuan()["yuan"]),
    )
    assert new.published_version is None
    assert not search_items("测试专用事项甲乙丙")

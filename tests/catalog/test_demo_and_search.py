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


# How people ask → (the expected first hit, words that each of the first three hits must contain one of).
EVERYDAY = [
    ("开饭店", "食品经营许可", None),
    ("我想开个饭店需要什么材料", "食品经营许可", None),
    ("开个奶茶店", "食品经营许可", None),
    ("生孩子", "出生登记", ("出生", "生育", "新生儿", "参保")),
    ("身份证过期了", "居民身份证换领", ("身份证",)),
    ("退休", "基本养老保险待遇申领", ("养老", "退休")),
    ("提公积金", None, ("提取住房公积金",)),
    ("房子过户", "不动产转移登记", ("不动产",)),
    ("开公司", "企业设立登记", None),
    ("低保", "最低生活保障审核确认", None),
    ("结婚", "内地居民结婚登记", ("婚",)),
    ("残疾证", "残疾人证核发", ("残疾",)),
    ("驾照到期", "机动车驾驶证期满换证", None),
    ("换驾照", "机动车驾驶证期满换证", None),
    ("失业了", "失业保险金申领", None),
    ("社保卡丢了", "社会保障卡申领", None),
    ("开药店", "药品零售企业经营许可", None),
    ("食品经营许可", "食品经营许可", None),
    ("跑运输", "道路货物运输经营许可", ("运输",)),
]


@pytest.mark.parametrize(("query", "first", "top3_words"), EVERYDAY)
def test_search_understands_everyday_phrasings(catalogue, query, first, top3_words):
    hits = search_items(query, region="341502")
    names = [h.implementation.basic_item.name for h in hits[:5]]
    assert hits, query
    if first:
        assert names[0] == first, names
    for name in names[:3] if top3_words else []:
        assert any(word in name for word in top3_words), names


@pytest.mark.parametrize(
    ("query", "unwanted"),
    [
        ("开饭店", "道路货物运输经营许可"),  # shared only the generic word 经营/许可
        ("身份证过期", "内地居民结婚登记"),  # shared only the synonym fragment 居民
        ("低保", "社会保障卡申领"),  # shared only the fragment 保障
        ("社保卡丢了", "最低生活保障审核确认"),
    ],
)
def test_weak_words_do_not_bring_unrelated_items(catalogue, query, unwanted):
    names = [h.implementation.basic_item.name for h in search_items(query, region="341502")]
    assert unwanted not in names, names


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

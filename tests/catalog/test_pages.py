import pytest
from django.urls import reverse

from tests.catalog import factories
from tongban.catalog import services
from tongban.catalog.models import ItemVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return factories.published_item()


def test_guide_page_shows_every_element_and_a_qr_code(client, item):
    response = client.get(item.get_absolute_url())
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    html = response.content.decode()
    for text in (
        "食品经营许可",
        item.code,
        item.basic_item.code,
        "受理条件",
        "房屋租赁合同",
        "法定办结时限",
        "20 个工作日",
        "承诺办结时限",
        "0564-3379000",
        "12345",
        "食品经营许可证",
        'src="data:image/svg+xml',
        "情形引导",
    ):
        assert text in html, text
    assert "<script>" not in html and "style=" not in html


def test_situation_guide_flow_gives_the_exact_list(client, item):
    url = reverse("catalog:situation", args=[item.code])
    page = client.get(url).content.decode()
    assert "是否委托他人办理" in page and "经营场所是否为自有房产" in page
    html = client.get(url, {"agent": "no", "premises": "rented", "done": "1"}).content.decode()
    assert "房屋租赁合同" in html and "授权委托书" not in html
    assert "您需要准备的材料（3 项）" in html


def test_index_search_and_department_pages(client, item):
    assert "食品经营许可" in client.get("/services/").content.decode()
    assert "食品经营许可" in client.get("/services/", {"dept": "market"}).content.decode()
    assert "食品经营许可" in client.get("/services/search/", {"q": "开饭店"}).content.decode()
    assert (
        "食品经营许可"
        in client.get(reverse("catalog:department", args=[item.organisation_id])).content.decode()
    )
    assert client.get("/services/11341500NOPE/").status_code == 404


def test_unpublished_draft_is_not_public(client):
    impl = factories.published_item()
    other = services.create_implementation(
        factories.basic_item("护士执业注册", department_key="health"), impl.organisation
    )
    assert client.get(other.get_absolute_url()).status_code == 404


def test_staff_pages_edit_review_publish(client, item):
    editor = factories.UserFactory(perms=factories.EDITOR_PERMS)
    reviewer = factories.UserFactory(perms=factories.REVIEWER_PERMS)
    manage = reverse("catalog:manage-item", args=[item.code])
    assert client.get(manage).status_code == 302  # login required

    factories.login_staff(client, editor)
    assert client.get(reverse("catalog:manage")).status_code == 200
    client.post(reverse("catalog:manage-draft", args=[item.code]), {"change_summary": "缩短时限"})
    edit = client.get(reverse("catalog:manage-edit", args=[item.code]))
    assert edit.status_code == 200
    form = edit.context["form"]
    data = {
        name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields
    }
    data = {k: v for k, v in data.items() if v is not False}
    data["form_schema"] = "{}"
    data["situations_text"] = form.initial["situations_text"]
    data["promised_limit_days"] = 30  # longer than the legal 20
    for prefix, formset in (
        ("materials", edit.context["materials"]),
        ("steps", edit.context["steps"]),
        ("fees", edit.context["fees"]),
    ):
        data[f"{prefix}-TOTAL_FORMS"] = len(formset.initial or [])
        data[f"{prefix}-INITIAL_FORMS"] = 0
        for i, row in enumerate(formset.initial or []):
            for key, value in row.items():
                if value is None or value is False:
                    continue
                data[f"{prefix}-{i}-{key}"] = value.pk if hasattr(value, "pk") else value
    response = client.post(reverse("catalog:manage-edit", args=[item.code]), data)
    assert "承诺办结时限不得超过法定办结时限" in response.content.decode()
    data["promised_limit_days"] = 3
    data["submit"] = "1"
    response = client.post(reverse("catalog:manage-edit", args=[item.code]), data, follow=True)
    assert "已提交审核" in response.content.decode(), response.content.decode()[:3000]

    factories.login_staff(client, reviewer)
    client.post(
        reverse("catalog:manage-review", args=[item.code]), {"decision": "approve", "comment": "同意"}
    )
    client.post(reverse("catalog:manage-publish", args=[item.code]))
    item.refresh_from_db()
    assert item.published_version.number == 2 and item.published_version.promised_limit_days == 3
    assert item.versions.filter(status=ItemVersion.Status.SUPERSEDED).count() == 1
    history = client.get(manage).content.decode()
    assert "承诺办结时限" in history and "已发布" in history
    assert "承诺 3 个工作日" in client.get("/services/search/", {"q": "食品经营"}).content.decode()


def test_staff_pages_need_permissions(client, item):
    factories.login_staff(client, factories.UserFactory(perms=[]))
    assert client.get(reverse("catalog:manage")).status_code == 403


def test_guide_links_to_online_application_when_the_depth_allows_it(client, item):
    html = client.get(item.get_absolute_url()).content.decode()
    assert f'href="/cases/apply/{item.code}/"' in html
    assert "在线申请" in html


def test_guide_of_an_offline_item_says_where_to_apply_instead(client):
    guide = {**factories.COMPLETE_GUIDE, "online_depth": ItemVersion.OnlineDepth.APPOINTMENT}
    impl = factories.published_item(guide=guide)
    assert impl.published_version.online_depth == ItemVersion.OnlineDepth.APPOINTMENT
    html = client.get(impl.get_absolute_url()).content.decode()
    assert "/cases/apply/" not in html
    assert "本事项暂不支持在线申请，请到窗口办理：六安市政务服务中心二楼综合窗口" in html
    assert "支持预约办理" in html

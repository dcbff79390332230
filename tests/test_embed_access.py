"""One setting decides who reads the handbook: public, signed-in users, or staff."""

import pytest

URLS = ["/handbook/", "/handbook/docs/checklist/", "/handbook/_images/deploy-order.svg", "/handbook/search/?q=lock"]


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user("reader", password="not-staff")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("lead", password="is-staff", is_staff=True)


def assert_sent_to_login(response, url):
    assert response.status_code == 302, f"{url}: {response.status_code}"
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", URLS)
def test_public_lets_everyone_in(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_login_sends_anonymous_users_to_sign_in(client, settings, reader, url):
    settings.HANDBOOK_ACCESS = "login"
    assert_sent_to_login(client.get(url), url)
    client.force_login(reader)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_staff_turns_away_other_users(client, settings, reader, staff, url):
    settings.HANDBOOK_ACCESS = "staff"
    assert_sent_to_login(client.get(url), url)
    client.force_login(reader)
    refused = client.get(url)
    assert refused.status_code == 403
    assert "Acme Engineering" in refused.content.decode(), "refused in the host site's look"
    client.force_login(staff)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_login_round_trip_lands_on_the_page(client, settings, reader):
    settings.HANDBOOK_ACCESS = "login"
    response = client.post(
        "/accounts/login/", {"username": "reader", "password": "not-staff", "next": "/handbook/docs/checklist/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/handbook/docs/checklist/"
    assert client.get(response["Location"]).status_code == 200

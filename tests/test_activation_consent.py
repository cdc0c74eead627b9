"""A confirmed sign-up's news by email is kept by the customer it becomes, stamped when and
through what the person gave it, never as the activating user's own form; an answer staff
change on the way is theirs."""
from store import Store


def test_a_confirmed_sign_ups_news_by_email_is_the_persons_not_staffs(store: Store):
    _, prospect = store.sign_up("private", {"first_name": "Zoé", "last_name": "Durand", "email": "zoe@example.fr",
                                            "consent": True}, consent_text="I agree", page="https://shop.example/signup",
                                wants_news=True)
    store.confirm_sign_up(prospect)
    asked_at = store.source(prospect)["origin"]["email_marketing_at"]
    customer = store.activate(prospect, "private")
    assert customer["email_marketing"] is True
    assert customer["marketing_consent"]["email"] == {"at": asked_at, "source": "sign-up page (address confirmed)"}


def test_an_answer_changed_on_the_way_is_the_activating_users(store: Store):
    _, prospect = store.sign_up("private", {"first_name": "Jan", "last_name": "de Vries", "email": "jan@example.nl",
                                            "consent": True}, wants_news=True)
    store.confirm_sign_up(prospect)
    customer = store.activate(prospect, "private", {"email_marketing": False})
    assert customer["email_marketing"] is False
    assert customer["marketing_consent"]["email"]["source"] == f"form by {store.user}"

"""Templates in the sandbox, bulk sending through a real SMTP server or an outbox,
resuming a campaign, and the obfuscation policy run."""
import email
import json
import re
import socket
import stat
from email import policy

import pytest
from aiosmtpd.controller import Controller
from helpers import custdesk, person, run_python, stored_bytes

from outreach.sending import preview, send_campaign
from outreach.transports import Outbox, Smtp
from store import Batch, RuleViolation
from store.base.errors import StoreError
from store.rules.messages import TemplateRefused

BODY = "Dear {{ customer.first_name }},\nyour number is {{ customer.number }}.\n"


def shop(store, n=6):
    ids = [store.add_customer("private", person(i, first_name=f"Ada{i}"))["id"] for i in range(n)]
    store.save_template("welcome", "email", "Hello {{ customer.name }}", BODY)
    return ids


# -- templates -------------------------------------------------------------------
def test_template_renders_the_customers_fields(store):
    ids = shop(store, 1)
    (message,), skipped = preview(store, "welcome", ids)
    assert skipped == [] and message.rendered.subject == "Hello Ada0 Lovelace"
    assert message.rendered.body == "Dear Ada0,\nyour number is C-000001.\n"


@pytest.mark.parametrize("body,message", [
    ("{{ customer.shoe_size }}", "unknown placeholder customer.shoe_size"),
    ("{{ colour }}", "unknown placeholder {{ colour }}"),
    ("{{ ''.__class__.__mro__ }}", "is not a placeholder; templates cannot reach Python's internals"),
    ("{{ customer.__class__ }}", "unknown placeholder customer.__class__"),
    ("{% for c in [1] %}{{ c.__class__.__subclasses__() }}{% endfor %}", "cannot reach Python's internals"),
    ("{{ cycler.__init__.__globals__ }}", "cannot reach Python's internals"),
    ("{% if customer.first_name == 'x' %}{{ ''.__class__ }}{% endif %}", "cannot reach Python's internals"),
    ("{% include 'other.txt' %}", "{% include %} is not allowed"),
    ("{% extends 'base.txt' %}", "{% extends %} is not allowed"),
    ("{{ range(10**9)|list }}", "range() counts to at most 1,000"),
    ("{{ 1/0 }}", "body: ZeroDivisionError"),
    ("{{ customer.name|truncate('x') }}", "body: TypeError"),
    ("{% for a in range(9) %}{% for b in range(9) %}x{% endfor %}{% endfor %}", "loops inside loops"),
    ("{{ 'x' * 10000000 }}", "renders to more than 1,000,000 characters"),
    ("Dear {{ customer.first_name }", "body: line 1"),
])
def test_bad_templates_are_refused_when_saved(store, body, message):
    with pytest.raises(TemplateRefused, match=re.escape(message)):
        store.save_template("bad", "email", "Hi", body)
    assert store.templates() == []


def test_template_rules(store):
    with pytest.raises(TemplateRefused, match="an email template needs a subject"):
        store.save_template("x", "email", "", "body")
    with pytest.raises(TemplateRefused, match="an SMS has no HTML part"):
        store.save_template("x", "sms", None, "body", "<p>x</p>")
    store.save_template("x", "sms", None, "Hi {{ customer.first_name }}")
    store.save_template("x", "sms", None, "Hello {{ customer.first_name }}")
    assert [(t["name"], t["body"]) for t in store.templates()] == [("x", "Hello {{ customer.first_name }}")]
    store.remove_template("x")
    assert store.templates() == []


def test_html_part_is_escaped(store):
    c = store.add_customer("private", person(1, first_name="<script>alert(1)</script>"))
    store.save_template("news", "email", "News", "Hi {{ customer.first_name }}", "<p>Hi {{ customer.first_name }}</p>")
    (message,), _ = preview(store, "news", [c["id"]])
    assert "&lt;script&gt;" in message.rendered.html and "<script>" in message.rendered.body


# -- outbox -------------------------------------------------------------------------
def test_outbox_messages_are_rfc5322_and_logged(store, tmp_path):
    ids = shop(store, 4)
    store.deactivate([ids[1]])
    store.edit_customer(ids[2], {"email": None})
    campaign = store.start_campaign("welcome", ids)
    report = send_campaign(store, campaign["id"], Outbox(tmp_path))
    assert report.sent == 2
    assert sorted(s["reason"] for s in report.skipped) == ["inactive", "no email address"]
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["To"] == "ada0@example.com" and parsed["Subject"] == "Hello Ada0 Lovelace"
    assert parsed.get_content() == BODY.replace("{{ customer.first_name }}", "Ada0").replace("{{ customer.number }}", "C-000001")
    assert parsed["From"] == "custdesk <custdesk@example.com>" and parsed["Reply-To"] is None
    assert parsed["Message-ID"] == f"<campaign-{campaign['id']}.C-000001@example.com>"
    # Without a public address only the mailed unsubscribe: no one-click, no footer link.
    (token,) = re.findall(r"^<mailto:custdesk@example\.com\?subject=unsubscribe%20([\w.-]+)>$", parsed["List-Unsubscribe"])
    assert store.check_link("unsubscribe", token) == (str(ids[0]), str(campaign["id"]))
    assert parsed["List-Unsubscribe-Post"] is None
    logged = store.children(ids[0], "conversations")
    assert [(c["channel"], c["template"], c["campaign"]) for c in logged] == [("email", "welcome", campaign["id"])]
    assert store.campaign(campaign["id"])["status"] == "done"


def test_campaign_mail_carries_the_sender_reply_to_and_one_click_unsubscribe(store, tmp_path):
    ids = shop(store, 2)
    store.update_settings(mail_from="Engines GmbH <office@engines.de>", reply_to="Support <help@engines.de>",
                          public_url="https://crm.engines.de/")
    campaign = store.start_campaign("welcome", ids)
    assert send_campaign(store, campaign["id"], Outbox(tmp_path)).sent == 2
    raw = (tmp_path / f"campaign-{campaign['id']}-C-000002.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    # The links as a client reads them: on one line, never folded into encoded words.
    assert re.search(rb"\r?\nList-Unsubscribe: <mailto:help@engines\.de\?subject=unsubscribe%20[\w.-]+>, "
                     rb"<https://crm\.engines\.de/unsubscribe/[\w.-]+>\r?\n", raw)
    assert (parsed["From"], parsed["Reply-To"]) == ("Engines GmbH <office@engines.de>", "Support <help@engines.de>")
    assert parsed["Message-ID"] == f"<campaign-{campaign['id']}.C-000002@engines.de>"
    (mailto, web), = re.findall(r"^<mailto:help@engines\.de\?subject=unsubscribe%20([\w.-]+)>, "
                                r"<https://crm\.engines\.de/unsubscribe/([\w.-]+)>$", parsed["List-Unsubscribe"])
    assert mailto == web and store.check_link("unsubscribe", web) == (str(ids[1]), str(campaign["id"]))
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content().endswith(f"\n\n-- \nNo more of these emails: https://crm.engines.de/unsubscribe/{web}\n")
    assert store.children(ids[1], "conversations")[0]["body"] == "Dear Ada1,\nyour number is C-000002.\n"


def test_one_click_needs_an_https_public_url(store, tmp_path):
    ids = shop(store, 1)
    store.update_settings(public_url="http://localhost:8080")
    send_campaign(store, store.start_campaign("welcome", ids)["id"], Outbox(tmp_path))
    parsed = email.message_from_bytes(next(tmp_path.glob("*.eml")).read_bytes(), policy=policy.default)
    assert "<http://localhost:8080/unsubscribe/" in parsed["List-Unsubscribe"] and parsed["List-Unsubscribe-Post"] is None


def test_sms_go_to_text_files_with_the_number(store, tmp_path):
    ids = shop(store, 2)
    store.save_template("remind", "sms", None, "Hi {{ customer.first_name }}, your order is ready.")
    report = send_campaign(store, store.start_campaign("remind", ids)["id"], Outbox(tmp_path))
    assert report.sent == 2
    text = sorted(tmp_path.glob("*.sms.txt"))[0].read_text()
    assert text == "To: +493012340000\n\nHi Ada0, your order is ready."


def test_obfuscated_customers_are_skipped(store, tmp_path):
    ids = shop(store, 2)
    store.obfuscate(ids[0])
    report = send_campaign(store, store.start_campaign("welcome", ids)["id"], Outbox(tmp_path))
    assert report.sent == 1 and report.skipped == [{"number": "C-000001", "reason": "obfuscated"}]


# -- a real SMTP server -------------------------------------------------------------
class Inbox:
    def __init__(self):
        self.messages = []
        self.connections = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.connections.add(session.peer)  # the client's (address, port): one per connection
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_smtp_delivery_and_resume_after_the_server_died(store):
    ids = shop(store, 6)
    store.edit_customer(ids[3], {"email": "refuse@example.com"})
    port = free_port()
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    campaign = store.start_campaign("welcome", ids)

    def die_after_two(done, total):
        if done == 2:
            server.stop()  # the server goes away mid-campaign

    first = send_campaign(store, campaign["id"], Smtp("127.0.0.1", port, timeout=5), progress=die_after_two)
    assert first.sent == 2 and first.stopped and "SMTP 127.0.0.1" in first.stopped
    assert store.campaign(campaign["id"])["status"] == "interrupted"
    assert len(inbox.messages) == 2

    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        second = send_campaign(store, campaign["id"], Smtp("127.0.0.1", port, timeout=5))
    finally:
        server.stop()
    assert second.already == 2 and second.sent == 3
    assert second.failed == [{"number": "C-000004", "reason": "refuse@example.com: refused by the server (550 no such user here)"}]
    delivered = [m["To"] for m in inbox.messages]
    assert sorted(delivered) == sorted(f"ada{i}@example.com" for i in (0, 1, 2, 4, 5))  # each exactly once
    assert inbox.messages[0]["Subject"] == "Hello Ada0 Lovelace" and "Dear Ada0," in inbox.messages[0].get_content()


def test_a_whole_campaign_goes_through_one_smtp_connection(store):
    ids = shop(store, 30)
    store.edit_customer(ids[5], {"email": "refuse@example.com"})  # a refused recipient keeps the connection
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        report = send_campaign(store, store.start_campaign("welcome", ids)["id"], Smtp("127.0.0.1", port, timeout=5))
    finally:
        server.stop()
    assert (report.sent, len(report.failed), len(inbox.messages)) == (29, 1, 29)
    assert len(inbox.connections) == 1


def test_an_unreachable_server_stops_the_campaign_cleanly(store):
    ids = shop(store, 2)
    campaign = store.start_campaign("welcome", ids)
    report = send_campaign(store, campaign["id"], Smtp("127.0.0.1", free_port(), timeout=2))
    assert report.sent == 0 and "SMTP 127.0.0.1" in report.stopped
    assert store.delivered(campaign["id"]) == set()


# -- the obfuscation policy ---------------------------------------------------------------
def test_policy_run_obfuscates_exactly_the_customers_due(store, store_path):
    old = "2024-01-01T00:00:00+00:00"
    store.apply_batch(Batch("private", creates=[
        person(1, first_name="Zebulon", active=False, deactivated_at=old),                     # due
        person(2, first_name="Quincy", active=False, deactivated_at=old),                      # due but an open order
        person(3, first_name="Rosalind", active=False, deactivated_at=old, obfuscate_enabled=False),  # opted out
        person(4, first_name="Walter"),                                                        # active
    ]))
    store.add_customer("private", person(5, first_name="Recent"))
    store.deactivate([5])                                                                      # inactive since today
    quincy = store.find("customers", "email", "ada2@example.com")[0]
    store.reactivate([quincy["id"]])
    store.add_related("orders", quincy["id"], {"title": "Open", "status": "processing"})
    store.deactivate([quincy["id"]])                                                           # inactive since today
    assert store.obfuscate_inactive(0, dry_run=True) == {
        "obfuscated": ["C-000001", "C-000005"],
        "refused": [{"number": "C-000002", "reason": "customer C-000002 has open orders, offers or tickets (O-000001); close them before obfuscating"}],
        "opted_out": 1}
    assert store.customer(1)["first_name"] == "Zebulon"  # a dry run changes nothing
    report = store.obfuscate_inactive(365)
    assert report["obfuscated"] == ["C-000001"] and report["refused"] == []
    assert store.customer(3)["first_name"] == "Rosalind" and store.customer(4)["first_name"] == "Walter"
    assert store.customer(5)["first_name"] == "Recent" and store.customer(2)["first_name"] == "Quincy"
    for name, data in stored_bytes(store_path).items():
        assert b"Zebulon" not in data, name


def test_policy_refuses_negative_days(store):
    with pytest.raises(RuleViolation, match="^the days inactive must be 0 or more$"):
        store.obfuscate_inactive(-1)


def test_the_store_judges_the_days_of_the_policy_and_of_the_retention_setting_alike(store):
    store.apply_batch(Batch("private", creates=[person(1, active=False, deactivated_at="2001-01-01T00:00:00+00:00")]))
    for typed, refusal in [("soon", "must be a whole number of days, not 'soon'"), ("-3", "must be 0 or more"),
                           ("²", "must be a whole number of days, not '²'"), (10**9, "must be at most 36,500 (a hundred years)")]:
        with pytest.raises(RuleViolation, match=f"^the days inactive {re.escape(refusal)}$"):
            store.obfuscate_inactive(typed, dry_run=True)
        with pytest.raises(RuleViolation, match=f"^obfuscation retention days {re.escape(refusal)}$"):
            store.update_settings(obfuscation_retention_days=typed)
    assert store.customer(1)["first_name"] == "Ada1" and store.settings["obfuscation_retention_days"] == 365
    assert store.obfuscate_inactive(" 365 ", dry_run=True)["obfuscated"] == ["C-000001"]  # the days as typed


def test_the_command_line_names_its_flag_in_the_stores_refusal(store_path):
    refused = custdesk("--db", store_path, "obfuscate", "--inactive-days", "-1")
    assert (refused.returncode, refused.stderr) == (2, "custdesk: --inactive-days: the days inactive must be 0 or more\n")


# -- command line ---------------------------------------------------------------------------


def test_mail_cli(store_path, tmp_path):
    from store import Store
    with Store(store_path) as s:
        shop(s, 3)
        s.set_tags([1, 2], add=["vip"])
    body = tmp_path / "body.txt"
    body.write_text("Hi {{ customer.first_name }}")
    def run(*a):
        return custdesk("--db", store_path, *a)
    assert run("mail", "templates", "add", "promo", "--subject", "Offer", "--body", body).returncode == 0
    assert "promo  (email)  Offer" in run("mail", "templates", "list").stdout
    assert run("mail", "templates", "show", "promo", "--customer", "C-000002").stdout.endswith("Hi Ada1\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("{{ ''.__class__ }}")
    refused = run("mail", "templates", "add", "evil", "--subject", "x", "--body", bad)
    assert refused.returncode == 2 and "Python's internals" in refused.stderr and "Traceback" not in refused.stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Grüße {{ customer.first_name }}".encode("cp1252"))
    refused = run("mail", "templates", "add", "old", "--subject", "x", "--body", latin1)
    assert refused.returncode == 2 and "latin1.txt: not UTF-8 text" in refused.stderr and "Traceback" not in refused.stderr
    dry = run("mail", "send", "--template", "promo", "--tag", "vip", "--dry-run", "--json")
    assert json.loads(dry.stdout) == {"would_send": 2, "skipped": []}
    outbox = tmp_path / "out"
    sent = run("mail", "send", "--template", "promo", "--tag", "vip", "--outbox", outbox, "--json")
    assert sent.returncode == 0 and json.loads(sent.stdout)["sent"] == 2 and len(list(outbox.glob("*.eml"))) == 2
    assert run("mail", "send", "--template", "promo").returncode == 2  # no way out chosen
    policy_run = run("obfuscate", "--inactive-days", "30", "--dry-run", "--json")
    assert json.loads(policy_run.stdout) == {"dry_run": True, "obfuscated": [], "refused": [], "opted_out": 0}


def test_mail_send_and_obfuscate_print_for_people_unless_asked_for_json(store_path, tmp_path):
    from store import Store
    with Store(store_path) as s:
        ids = shop(s, 5)
        s.deactivate(ids[:2])
        s.edit_customer(ids[2], {"email": None})
        s.set_marketing(ids[3], "email", False, source="unsubscribe link")

    def run(*a):
        return custdesk("--db", store_path, *a)
    skipped = ["  skipped     2  inactive", "  skipped     1  no email address", "  skipped     1  opted out of email marketing"]
    dry = run("mail", "send", "--template", "welcome", "--dry-run", "--outbox", tmp_path / "new" / "out")
    assert dry.stdout.splitlines() == ["would send 1 message(s) of template 'welcome', skip 4", *skipped,
                                       f"the outbox folder {tmp_path / 'new' / 'out'} would be created",
                                       "dry run: nothing was sent"]
    assert not (tmp_path / "new").exists()
    sent = run("mail", "send", "--template", "welcome", "--outbox", tmp_path / "new" / "out")
    assert sent.stdout.splitlines() == ["campaign #1: 1 sent, 4 skipped, 0 failed", *skipped]
    assert len(list((tmp_path / "new" / "out").glob("*.eml"))) == 1
    resumed = run("mail", "send", "--resume", "1", "--outbox", tmp_path / "new" / "out")
    assert resumed.stdout.splitlines()[0] == "campaign #1: 0 sent, 4 skipped, 0 failed, 1 reached by an earlier run"
    (tmp_path / "file").write_text("")
    for dry_run in ([], ["--dry-run"]):  # a folder that cannot be made: refused alike, dry run or not
        refused = run("mail", "send", "--template", "welcome", "--outbox", tmp_path / "file" / "out", *dry_run)
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr == (f"custdesk: {tmp_path / 'file' / 'out'}: cannot create the outbox folder "
                                  f"({tmp_path / 'file'} is not a folder one may write in)\n")
    policy_run = run("obfuscate", "--inactive-days", "0", "--dry-run")
    assert policy_run.stdout.splitlines() == ["would obfuscate 2 customer(s) inactive for 0+ days: C-000001, C-000002",
                                              "dry run: nothing was changed"]


def test_a_template_failing_on_one_customer_skips_that_customer_and_the_campaign_goes_on(store, tmp_path):
    from outreach.sending import send_campaign
    from outreach.transports import Outbox
    shop(store, 3)
    store.edit_customer(2, {"first_name": "Al"})
    # Passes the save check (the sample name is long enough), fails for "Al".
    store.save_template("third", "email", "Hi {{ customer.first_name }}\nBcc: x@example.com", "{{ customer.first_name[2] }}")
    campaign = store.start_campaign("third", [1, 2, 3])
    (tmp_path / "out").mkdir()
    report = send_campaign(store, campaign["id"], Outbox(tmp_path / "out"))
    assert report.sent == 2 and [s["number"] for s in report.skipped] == ["C-000002"]
    assert "no element 2" in report.skipped[0]["reason"]
    mails = sorted((tmp_path / "out").glob("*.eml"))
    assert len(mails) == 2 and all(b"\nBcc:" not in m.read_bytes() for m in mails)


KILLED_SEND = """
import os, signal, sys
import outreach.sending as sending
from outreach.transports import Outbox
from store import Store

sending.BATCH_MESSAGES = 3
def kill(done, total):
    if done == 7:
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no flush: as a power cut would
sending.send_campaign(Store(sys.argv[1]), int(sys.argv[2]), Outbox(sys.argv[3]), progress=kill)
"""


def test_a_killed_send_resumes_with_the_customers_it_had_not_logged(store_path, tmp_path):
    from store import Store
    with Store(store_path) as s:
        campaign = s.start_campaign("welcome", shop(s, 10))
    killed = run_python(KILLED_SEND, str(store_path), str(campaign["id"]), str(tmp_path))
    assert killed.returncode == -9
    assert len(list(tmp_path.glob("*.eml"))) == 6  # the seventh is a temporary file, never a message
    assert len(list(tmp_path.glob(".campaign-*.tmp"))) == 1
    with Store(store_path) as s:
        assert len(s.delivered(campaign["id"])) == 6  # two batches of three logged; the seventh not yet
        again = send_campaign(s, campaign["id"], Outbox(tmp_path))
        assert (again.already, again.sent) == (6, 4)
        assert len(s.delivered(campaign["id"])) == 10
    assert not list(tmp_path.glob(".*.tmp"))  # the dead writer's temporary file is gone
    mails = sorted(tmp_path.glob("*.eml"))
    assert len(mails) == 10 and len({email.message_from_bytes(m.read_bytes())["Message-ID"] for m in mails}) == 10
    # a customer's message is theirs: readable by the sending user only, as every file custdesk writes
    assert {stat.S_IMODE(m.stat().st_mode) for m in mails} == {0o600}


def test_a_cancelled_send_stops_between_messages_and_resumes_where_it_stopped(store, tmp_path):
    ids = shop(store, 4)
    campaign = store.start_campaign("welcome", ids)
    asked = []

    def cancelled() -> bool:  # the screen closes once two messages are out
        asked.append(True)
        return len(asked) > 2
    report = send_campaign(store, campaign["id"], Outbox(tmp_path), cancelled=cancelled)
    assert (report.sent, report.stopped) == (2, "cancelled before every message was sent")
    assert store.campaign(campaign["id"])["status"] == "interrupted"
    again = send_campaign(store, campaign["id"], Outbox(tmp_path))
    assert (again.sent, again.already) == (2, 2) and len(list(tmp_path.glob("*.eml"))) == 4


# -- one message outside a campaign (sign-up confirmations, self-service links) ----------------
def test_a_notice_goes_from_the_settings_sender_into_an_outbox_and_through_smtp(store, tmp_path):
    from outreach.notices import notice
    store.update_settings(mail_from="Engines GmbH <office@engines.de>")
    message = notice(store.settings, "ada@example.com", "Confirm your sign-up", "Follow this link: …\n")
    Outbox(tmp_path).send_email(message, "confirm-P-000001")
    parsed = email.message_from_bytes((tmp_path / "confirm-P-000001.eml").read_bytes(), policy=policy.default)
    assert (parsed["From"], parsed["To"], parsed["Subject"]) == ("Engines GmbH <office@engines.de>", "ada@example.com",
                                                                 "Confirm your sign-up")
    assert parsed["Message-ID"].endswith("@engines.de>") and parsed["Reply-To"] is None
    assert parsed.get_content() == "Follow this link: …\n"
    with pytest.raises(StoreError, match="one plain name"):
        Outbox(tmp_path).send_email(message, "../escape")
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        smtp = Smtp("127.0.0.1", port, timeout=5)
        smtp.send_email(message, "confirm-P-000001")
        smtp.close()
    finally:
        server.stop()
    assert [m["To"] for m in inbox.messages] == ["ada@example.com"]


# -- at scale: read a chunk at a time -----------------------------------------------
def test_a_send_reads_its_customers_a_chunk_at_a_time_and_leaves_out_those_gone(store, store_path, backend, tmp_path,
                                                                                 monkeypatch):
    from store import Store
    from store.domain import campaigns

    monkeypatch.setattr(campaigns, "CHUNK", 2)
    ids = shop(store, 7)
    store.edit_customer(ids[1], {"email_marketing": "no"})
    campaign = store.start_campaign("welcome", ids)
    store.delete(ids[4])  # (after the campaign was started)
    told: list[tuple[int, int]] = []
    with Store(store_path) as session:  # (another session's: nothing read yet)
        report = send_campaign(session, campaign["id"], Outbox(tmp_path), progress=lambda done, total: told.append((done, total)))
        conversations = session.parts.session.db.tables["conversations"]
        assert conversations.text_read == (backend == "json")  # (on a server, who it reached is asked of the server)
        assert session.delivered(campaign["id"]) == {ids[i] for i in (0, 2, 3, 5, 6)}
    assert report.sent == 5 and report.skipped == [{"number": "C-000002", "reason": "opted out of email marketing"}]
    assert told == [(2, 7), (3, 7), (4, 7), (6, 7), (7, 7)]
    assert len(list(tmp_path.glob("*.eml"))) == 5


def test_the_audience_is_selected_as_the_tables_filters_select(store):
    ids = shop(store, 5)
    store.add_customer("corporate", person(9, company="Şirket A.Ş.", tags="vip"))
    store.set_tags([ids[1], ids[3]], ["vip"])
    store.deactivate([ids[3]])
    assert store.audience(tag="vip") == [ids[1], ids[3], 6]
    assert store.audience(tag="vip", active_only=True) == [ids[1], 6]
    assert store.audience(tag="vip", kind="private") == [ids[1], ids[3]]
    assert store.audience(kind="corporate") == [6] and store.audience(tag="VIP") == []
    assert store.audience() == [*ids, 6]


def test_a_dry_run_reads_its_customers_a_chunk_at_a_time_and_counts_every_one(store, monkeypatch):
    from store.domain import campaigns

    monkeypatch.setattr(campaigns, "CHUNK", 2)
    ids = shop(store, 5)
    store.edit_customer(ids[1], {"email_marketing": "no"})
    store.delete(ids[3])
    messages, skipped = preview(store, "welcome", ids)
    assert [m.customer["id"] for m in messages] == [ids[i] for i in (0, 2, 4)]
    assert skipped == [{"number": "C-000002", "reason": "opted out of email marketing"}]
    dry = custdesk("--db", store.location, "mail", "send", "--template", "welcome", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {"would_send": 3, "skipped": skipped}

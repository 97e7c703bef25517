"""The web client in static/, driven in two real (headless Chromium) browsers against a running `chat`.

Two people register, become friends, open a DM, talk both ways, see each other typing and reading, share an
image, reload and still see the history; a message carrying HTML/script is shown as text and runs nothing.
In a group, the owner renames it, sets its topic, adds and removes a third person (made through the API) from
the group info panel, and the other member sees each change live; a reply shows the quoted original on the
other side, and clicking the quote brings the original into view; a plain member leaves.
Every browser console error fails the test. Screenshots of the main screens go to
Tests/EndToEndTests/.artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import itertools
import time

import pytest

from authhelpers import Api
from chathelpers import Chat, assert_status
from webhelpers import SCREENSHOTS, STATIC_DIR, Browser, By, Keys, png_bytes

PASSWORD = "correct horse battery"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"
_ids = itertools.count(1)


@pytest.fixture
def browsers(start_auth_server):
    server = start_auth_server(static_dir=STATIC_DIR)
    opened: list[Browser] = []

    def open_browser(name: str, **size) -> Browser:
        browser = Browser(name, server.url, **size)
        opened.append(browser)
        return browser

    open_browser.server = server
    yield open_browser
    errors = []
    for browser in opened:
        errors += browser.console_errors()
        browser.quit()
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def unique(prefix: str) -> str:
    return f"{prefix}{int(time.time() * 1000) % 10_000_000}{next(_ids)}"


def test_two_people_chat_in_the_browser(browsers, tmp_path):
    started = time.monotonic()
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    ann_name, bob_name = unique("ann"), unique("bob")
    ann = browsers("ann")
    bob = browsers("bob")

    # -- register (ann through the register form, screenshot of the auth screen first)
    ann.open("/")
    ann.visible("#login-form", "the login screen")
    ann.screenshot("01-login")
    ann.register(ann_name, PASSWORD, "Ann Example")
    bob.register(bob_name, PASSWORD, "Bob Example")

    # -- friends: ann finds bob and asks; bob accepts from his Friends tab (the request arrives live)
    ann.click("#tab-friends")
    ann.fill("#user-search", bob_name)
    ann.find("#user-search-form button[type=submit]").click()
    ann.click(f'#user-results li[data-user-id] .add-friend-btn', "the Add friend button")
    ann.wait_text("#outgoing-requests", "Bob Example", "the sent request")
    bob.click("#tab-friends")
    bob.wait_text("#incoming-requests", "Ann Example", "ann's request on bob's screen")
    bob.wait(lambda d: d.find_element(By.ID, "req-badge").is_displayed(), "the request badge")
    bob.screenshot("02-friend-request")
    bob.click("#incoming-requests .accept-btn")
    bob.wait_text("#friend-list", "Ann Example", "ann in bob's friends")
    ann.wait_text("#friend-list", "Bob Example", "bob in ann's friends (FRIEND_REQUEST_ACCEPTED)")

    # -- ann opens the DM from her friend list; it shows up on bob's side live (ROOM_ADDED)
    ann.click("#friend-list .message-btn")
    ann.wait(lambda d: d.find_element(By.ID, "room-title").text == "Bob Example", "the DM with bob open")
    ann.wait_text("#room-subtitle", "Active now", "bob's presence in the header")
    bob.open_room_with("Ann Example")

    # -- typing, then a message ann -> bob with markdown-lite
    ann.type_message("hello **Bob**, see `code` and https://example.com/x")
    bob.wait_text("#typing", "Ann Example is typing", "ann's typing indicator on bob's screen")
    ann.find("#composer-input").send_keys("\n")
    first = bob.wait_text("#message-list .msg-text", "hello Bob", "ann's message on bob's screen")
    assert first.find_element(By.CSS_SELECTOR, "strong").text == "Bob"
    assert first.find_element(By.CSS_SELECTOR, "code").text == "code"
    link = first.find_element(By.CSS_SELECTOR, "a")
    assert link.get_attribute("href") == "https://example.com/x" and link.get_attribute("rel") == "noopener noreferrer"
    bob.wait(lambda d: not d.find_element(By.ID, "typing").text, "the typing indicator to go once the message came")

    # -- bob reads it: ann sees "Seen by Bob Example" (READ_RECEIPT); bob answers, ann gets it
    ann.wait_text("#seen", "Seen by Bob Example", "bob's read receipt on ann's screen")
    bob.send("hi Ann, *nice* to meet you")
    reply = ann.wait_text("#message-list .msg-text", "hi Ann", "bob's reply on ann's screen")
    assert reply.find_element(By.CSS_SELECTOR, "em").text == "nice"
    bob.wait_text("#seen", "Seen by Ann Example", "ann's read receipt on bob's screen")
    ann.screenshot("03-dm-ann")
    bob.screenshot("04-dm-bob")

    # -- an XSS payload is text on both sides, and runs nothing
    for browser in (ann, bob):
        browser.driver.execute_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));")
    ann.send(f"look {XSS_IMG} and {XSS_SCRIPT}")
    for browser in (bob, ann):
        shown = browser.wait_text("#message-list .msg-text", XSS_IMG, f"the XSS payload as text ({browser.name})")
        assert XSS_SCRIPT in shown.text, shown.text
        assert not shown.find_elements(By.CSS_SELECTOR, "img, script"), shown.get_attribute("innerHTML")
        assert browser.alert_text() is None
        assert browser.driver.execute_script("return window.__alerts") == []
        assert not browser.find_all('img[src="x"]') and not browser.find_all("#message-list script")
    bob.screenshot("05-xss-as-text")

    # -- ann uploads an image (progress bar, then sent with Enter); bob sees the picture load
    picture = tmp_path / "red-square.png"
    picture.write_bytes(png_bytes(40, 30))
    ann.find("#file-input").send_keys(str(picture))
    ann.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#uploads .upload.done"), "the upload to finish")
    ann.send("a picture")
    for browser in (bob, ann):
        image = browser.wait(
            lambda d: next((img for img in d.find_elements(By.CSS_SELECTOR, "#message-list img.attachment-image")
                            if d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 40),
                           False),
            f"the image loaded ({browser.name})")
        source = image.get_attribute("src")
        assert "/local/image/authenticated/" in source and "?__cld_token__=exp=" in source, source
    bob.screenshot("06-image")
    # A link that expired while the page stayed open (here: its token made invalid) is replaced by a fresh one.
    expired = bob.driver.execute_script("""
        const img = document.querySelector('#message-list img.attachment-image');
        img.src = img.src.replace(/exp=\\d+/, 'exp=1');
        return img.src;""")
    bob.wait(lambda d: d.execute_script("""
        const img = document.querySelector('#message-list img.attachment-image');
        return img.src !== arguments[0] && img.complete && img.naturalWidth === 40;""", expired),
        "the expired image link refreshed")
    # The browser reports the refused load itself; that one console error is this check's own doing.
    logs = bob.collect_logs()
    caused = [entry for entry in logs if entry.get("level") == "SEVERE" and expired in entry.get("message", "")]
    assert caused, f"no console entry for the refused link: {logs[-5:]}"
    bob.logs = [entry for entry in logs if entry not in caused]

    # -- a reaction from bob appears on ann's side; ann edits her first message and bob sees the edit
    bob.driver.execute_script("document.querySelector('#message-list .msg .react-btn').click()")
    bob.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#message-list .picker:not([hidden]) .pick"), "the picker")
    bob.find("#message-list .picker:not([hidden]) .pick").click()
    ann.wait_text("#message-list .reaction", "1", "bob's reaction on ann's screen")
    ann.driver.execute_script("document.querySelector('#message-list .msg.mine .edit-btn').click()")
    editor = ann.visible("#message-list .edit-input", "the edit box")
    editor.send_keys(" (edited by Ann)\n")
    bob.wait_text("#message-list .msg", "(edited by Ann)", "ann's edit on bob's screen")
    bob.wait_text("#message-list .msg .edited", "(edited)", "the edited mark")

    # -- reload: history comes back from REST, in order, without duplicates
    bob.driver.refresh()
    bob.wait(lambda d: d.find_element(By.ID, "room-title").text == "Ann Example", "the DM reopened after reload")
    bob.wait_text("#message-list .msg-text", "hello Bob", "history after reload")
    texts = bob.message_texts()
    order = [next(i for i, t in enumerate(texts) if needle in t) for needle in ("hello Bob", "hi Ann", XSS_IMG, "a picture")]
    assert order == sorted(order), texts
    assert len(texts) == len(set(texts)), f"duplicates after reload: {texts}"
    bob.wait(lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") == "online", "reconnected")

    # -- a message sent while bob reloads arrives once (RESUME / history dedupe by seq)
    ann.send("after the reload")
    bob.wait_text("#message-list .msg-text", "after the reload", "the message after reload")
    assert sum("after the reload" in t for t in bob.message_texts()) == 1

    # -- a network drop: bob's socket closes, ann sends while he is away; after the reconnect (backoff) RESUME
    #    brings the missed messages once each, in order
    bob.driver.execute_script("window.chatDebug.dropSocket()")
    bob.wait(lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") != "online", "the drop")
    ann.send("while you were away 1")
    ann.send("while you were away 2")
    bob.wait(lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") == "online", "reconnected")
    bob.wait_text("#message-list .msg-text", "while you were away 2", "the missed messages after RESUME")
    texts = bob.message_texts()
    assert [t for t in texts if "while you were away" in t] == ["while you were away 1", "while you were away 2"], texts
    assert len(texts) == len(set(texts)), f"duplicates after resume: {texts}"

    # -- phone size: one pane at a time, back button to the list
    bob.set_size(390, 800)
    bob.visible("#back-btn", "the back button on a phone")
    bob.screenshot("07-phone-room")
    bob.click("#back-btn")
    bob.visible("#room-list .room-item", "the room list on a phone")
    bob.screenshot("08-phone-list")

    # -- ann makes a group with bob; it shows up on bob's list live, its creation is in the timeline
    ann.click("#tab-rooms")
    ann.click("#new-group-btn")
    ann.fill("#group-name", "Weekend <b>plans</b>")
    ann.click("#group-members input[type=checkbox]")
    ann.find("#group-form button[type=submit]").click()
    ann.wait(lambda d: d.find_element(By.ID, "room-title").text == "Weekend <b>plans</b>", "the new group open")
    ann.send("group hello <b>all</b>")
    bob.wait_text("#room-list .room-item", "Weekend <b>plans</b>", "the group on bob's list")
    ann.screenshot("09-group")

    # -- cy (made through the API) asks ann to be friends; ann accepts in her Friends tab
    chat = Chat(browsers.server)
    cy = chat.user(unique("cy"), display_name="Cy Example")
    ann_id = ann.driver.execute_script("return JSON.parse(sessionStorage.getItem('chat.session')).user.id")
    assert_status(chat.request_friend(cy, ann_id), 201, "cy asks ann")
    ann.click("#tab-friends")
    ann.click("#incoming-requests .accept-btn", "cy's request on ann's screen")
    ann.wait_text("#friend-list", "Cy Example", "cy in ann's friends")
    ann.click("#tab-rooms")

    # -- group info: ann (owner) renames the group and sets a topic; bob sees both live, as text
    bob.set_size(1200, 800)
    bob.open_room_with("Weekend <b>plans</b>")
    ann.click("#room-info-btn")
    ann.wait_text("#info-members", "Bob Example", "the members in ann's group info")
    assert "owner" in ann.text_of(f'#info-members li[data-user-id="{ann_id}"]')
    ann.fill("#info-name", "Trip & <i>fun</i>")
    ann.fill("#info-topic", "Saturday 10:00")
    ann.click("#info-save")
    bob.wait(lambda d: d.find_element(By.ID, "room-title").text == "Trip & <i>fun</i>", "the new name in bob's header")
    bob.wait_text("#room-list .room-name", "Trip & <i>fun</i>", "the new name in bob's room list")
    bob.wait_text("#room-subtitle", "Saturday 10:00", "the topic in bob's header")
    bob.wait_text("#message-list .system", 'renamed the room to "Trip & <i>fun</i>"', "the rename in bob's timeline")
    assert not bob.find_all("#room-title i, #room-list i")
    ann.wait_text("#room-list .room-name", "Trip & <i>fun</i>", "the new name in ann's room list")

    # -- bob, a plain member, sees the members but no management controls
    bob.click("#room-info-btn")
    bob.wait_text("#info-members", "Ann Example", "the members in bob's group info")
    assert not bob.find("#room-edit-form").is_displayed() and not bob.find("#add-members-form").is_displayed()
    assert bob.text_of("#info-title") == "Trip & <i>fun</i>"
    assert not bob.find_all("#info-members .remove-member-btn")

    # -- ann adds cy from her friends; bob sees cy in the members and the header
    ann.click(f'#add-members label[data-user-id="{cy.id}"] input', "cy in the add list")
    ann.click("#add-members-btn")
    ann.wait_text("#info-members", "Cy Example", "cy in ann's members")
    bob.wait_text("#info-members", "Cy Example", "cy added, on bob's screen")
    bob.wait_text("#room-subtitle", "Cy Example", "cy in bob's header")
    bob.screenshot("10-group-info")

    # -- ann removes cy (two clicks: Remove, Confirm remove); bob sees cy go; cy has lost the room
    cy_row = f'#info-members li[data-user-id="{cy.id}"] .remove-member-btn'
    ann.click(cy_row, "the Remove button for cy")
    ann.wait_text(cy_row, "Confirm remove", "the confirmation")
    ann.click(cy_row)
    bob.wait(lambda d: "Cy Example" not in d.find_element(By.ID, "info-members").text, "cy gone from bob's members")
    bob.wait_text("#message-list .system", f"removed {cy.username}", "the removal in bob's timeline")
    assert "Trip & <i>fun</i>" not in [room["name"] for room in chat.rooms(cy)]
    bob.click("#info-close")

    # -- a reply: bob answers ann's greeting (Escape cancels once), ann sees the quoted original as text
    reply_to_greeting = ("[...document.querySelectorAll('#message-list .msg')]"
                         ".find((m) => m.textContent.includes('group hello')).querySelector('.reply-btn').click()")
    bob.driver.execute_script(reply_to_greeting)
    bob.wait_text("#reply-bar", "group hello <b>all</b>", "the reply bar over bob's composer")
    bob.find("#composer-input").send_keys(Keys.ESCAPE)
    bob.wait(lambda d: not d.find_element(By.ID, "reply-bar").is_displayed(), "Escape to cancel the reply")
    bob.driver.execute_script(reply_to_greeting)
    bob.wait_text("#reply-bar", "Ann Example", "the reply bar again")
    bob.send("count me in")
    bob.wait(lambda d: not d.find_element(By.ID, "reply-bar").is_displayed(), "the reply bar gone once sent")
    bob.wait_text("#message-list .msg:not(.pending) .quote", "group hello", "the quote on bob's own reply")
    quote = ann.wait_text("#message-list .msg .quote", "group hello <b>all</b>", "the quote on ann's screen")
    assert not quote.find_elements(By.CSS_SELECTOR, "b"), quote.get_attribute("innerHTML")
    answer = ann.wait_text("#message-list .msg", "count me in", "bob's reply on ann's screen")
    assert "group hello" in answer.find_element(By.CSS_SELECTOR, ".quote").text
    ann.driver.execute_script("arguments[0].click()", answer.find_element(By.CSS_SELECTOR, ".quote"))
    flashed = ann.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#message-list .msg.flash"), "the original highlighted")
    assert "group hello" in flashed[0].text
    ann.screenshot("11-reply")

    # -- bob leaves the group: it goes from his list; ann sees him go from the members
    bob.click("#room-info-btn")
    bob.click("#leave-btn")
    bob.wait_text("#leave-btn", "Confirm leave", "the leave confirmation")
    bob.click("#leave-btn")
    bob.wait(lambda d: not any("Trip" in e.text for e in d.find_elements(By.CSS_SELECTOR, "#room-list .room-name")),
             "the group gone from bob's list")
    bob.visible("#empty-chat", "bob's empty chat pane")
    ann.wait(lambda d: "Bob Example" not in d.find_element(By.ID, "info-members").text, "bob gone from ann's members")
    ann.wait_text("#message-list .system", f"{bob_name} left", "bob's leaving in ann's timeline")

    # -- log out
    ann.click("#logout-btn")
    ann.visible("#login-form", "the login screen after logout")
    assert ann.driver.execute_script("return sessionStorage.getItem('chat.session')") is None

    assert list(SCREENSHOTS.glob("*.png"))
    assert time.monotonic() - started < 90, f"the browser test took {time.monotonic() - started:.0f}s"


def test_tokens_are_refreshed_before_expiry_and_the_socket_stays(start_auth_server):
    """With 6-second access tokens the client refreshes ahead of expiry (twice here), re-authenticates its
    socket with AUTH, and keeps working: no 401, no dropped connection, no console error."""
    server = start_auth_server(static_dir=STATIC_DIR, env={"CHAT_AUTH_ACCESS_TTL": "6s", "CHAT_AUTH_LEEWAY": "0"})
    browser = Browser("refresh", server.url)
    try:
        browser.register(unique("cara"), PASSWORD, "Cara Example")
        token = lambda d: d.execute_script("return JSON.parse(sessionStorage.getItem('chat.session')).access_token")
        first = token(browser.driver)
        second = browser.wait(lambda d: token(d) != first and token(d), "the first refresh", timeout=10)
        browser.wait(lambda d: token(d) not in (first, second), "the second refresh", timeout=10)
        # the socket outlived the first token (the server would close it 4001 without AUTH)
        assert browser.find("#conn-status").get_attribute("data-state") == "online"
        browser.click("#new-group-btn")
        browser.fill("#group-name", "notes")
        browser.find("#group-form button[type=submit]").click()
        browser.wait(lambda d: d.find_element(By.ID, "room-title").text == "notes", "the group open")
        browser.send("still here")
        browser.wait(lambda d: any("still here" in m.text for m in d.find_elements(By.CSS_SELECTOR, "#message-list .msg:not(.pending)")),
                     "the message acknowledged")
        errors = browser.console_errors()
        assert not errors, "browser console errors:\n" + "\n".join(errors)
    finally:
        browser.quit()


def test_signed_out_elsewhere_returns_to_the_login_screen(browsers):
    """Logging out every session from another device closes this page's socket (ERROR session_revoked): the page
    goes back to the login screen at once, without trying to refresh (no failed request in the console)."""
    name = unique("dora")
    browser = browsers("dora")
    browser.register(name, PASSWORD, "Dora Example")
    browser.wait(lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") == "online",
                 "the socket online")
    other = Api(browsers.server)
    phone = other.login(name, PASSWORD)
    assert phone.status == 200, phone.describe()
    response = other.post("auth/logout-all", token=phone.json()["tokens"]["access_token"])
    assert response.status == 204, response.describe()
    browser.wait(lambda d: not d.find_element(By.ID, "auth").get_attribute("hidden"), "the login screen")
    assert "session ended" in browser.find("#auth-error").text.lower()

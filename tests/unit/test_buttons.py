"""Every button comes from one table: its label, what a tap does, and its callback data."""

from __future__ import annotations

import re

from bot.workflow.choices import Choice
from bot.workflow.sop import Action
from handlers.callbacks import BUTTONS, INCIDENT_PATTERN, TEAM_PATTERN, Tap, button, decode
from handlers.delivery import markup

BIG = 999_999_999_999  # the largest id the codec carries


def test_every_button_of_the_table_round_trips_within_telegrams_64_bytes() -> None:
    for verb in BUTTONS:
        tap = Tap(verb, BIG, 999_999_999, BIG)
        data = tap.encode()
        assert len(data.encode()) <= 64, verb
        assert decode(data) == tap


def test_a_queued_choice_is_labelled_from_the_table_with_its_name_or_variant() -> None:
    rows = markup({"text": "-", "buttons": [
        [Choice("d", 5, 2, 17, name="Ir. Hendra Wijaya").as_dict()],
        [Choice("a", 5, 2, 0, variant="grup").as_dict()],
        [Choice("a", 5, 2, 18, name="Dimas Pratama").as_dict()],
        [Choice("b", 5, 3, variant="lain").as_dict(), Choice("rb", 5, 3, 9).as_dict()]]})
    assert rows is not None
    shown = [[(b.text, b.callback_data) for b in row] for row in rows.inline_keyboard]
    assert shown == [[("Disposisi ke Ir. Hendra Wijaya", "v1:d:5:2:17")],
                     [("Ke Tim Teknis (grup)", "v1:a:5:2:0")],
                     [("Ke Dimas Pratama", "v1:a:5:2:18")],
                     [("Cek titik lain", "v1:b:5:3"), ("Rollback", "v1:rb:5:3:9")]]


def test_a_message_queued_before_choices_keeps_its_own_label_and_data() -> None:
    rows = markup({"text": "-", "buttons": [[{"text": "Sahkan", "data": "v1:y:5:7"}]]})
    assert rows is not None
    assert rows.inline_keyboard[0][0].text == "Sahkan"
    assert rows.inline_keyboard[0][0].callback_data == "v1:y:5:7"


def test_team_steps_go_to_the_team_handler_and_decisions_to_the_decision_handler() -> None:
    for verb, kind in BUTTONS.items():
        data = Tap(verb, 1, 1).encode()
        routed_to_team = re.match(TEAM_PATTERN, data) is not None
        routed_to_incident = re.match(INCIDENT_PATTERN, data) is not None
        assert routed_to_team is kind.team, verb
        assert routed_to_incident is verb.startswith("i"), verb
        assert not (routed_to_team and routed_to_incident), verb
        if not kind.team and not routed_to_incident:
            assert kind.verdict, verb  # a decision's card is stamped with what was decided
    asks = {verb for verb, kind in BUTTONS.items() if kind.asks}
    assert asks == {"r", "x", "n", "yr", "no"}
    assert {kind.action for kind in BUTTONS.values()} >= {
        Action.DISPOSE, Action.ASSIGN, Action.RATIFY, Action.ACKNOWLEDGE, Action.ROLLBACK}


def test_a_button_outside_the_table_cannot_be_made_or_read() -> None:
    assert decode("v1:zz:1:1") is None
    try:
        Tap("zz", 1, 1).encode()
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown verb was encoded")
    assert button(Tap("s", 3, 0, 4)).text == "Batal"

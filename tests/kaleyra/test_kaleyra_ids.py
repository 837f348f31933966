"""Kaleyra user ids derived from external ids: stable, valid for Kaleyra, not revealing."""

import re

from kaleyra.ids import kaleyra_user_id_for


def test_the_same_external_id_always_gives_the_same_kaleyra_id():
    assert kaleyra_user_id_for("ada@example.com") == kaleyra_user_id_for("ada@example.com")


def test_different_external_ids_give_different_kaleyra_ids():
    assert kaleyra_user_id_for("ada@example.com") != kaleyra_user_id_for("Ada@example.com")


def test_the_id_fits_kaleyra_rules_and_does_not_contain_the_external_id():
    kaleyra_id = kaleyra_user_id_for("ada.lovelace@example.com" * 20)
    assert re.fullmatch(r"[a-zA-Z0-9._-]{1,128}", kaleyra_id)
    assert "ada" not in kaleyra_id
    assert kaleyra_id.startswith("tc-")
    assert len(kaleyra_id) == 67

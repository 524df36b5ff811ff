"""A structure is named by position in `structure …` and by --structure
elsewhere; the wrong form is answered with the right one (exit 2, nothing runs)."""

from __future__ import annotations

import json

import pytest

from tests.test_i18n import run


@pytest.mark.parametrize(
    ("args", "right"),
    [
        (("structure", "show", "--structure", "1234567001"), "`chorus structure show ID`"),
        (("structure", "service", "add", "--structure", "1", "--code", "X"),
         "`chorus structure service add ID`"),
        (("attach", "request", "1234567001"), "`chorus attach request --structure ID`"),
        (("habil", "grant", "marie@example.fr"),
         "`chorus habil grant EMAIL --structure ID`"),
    ],
    ids=["show-by-option", "service-by-option", "request-by-position", "grant-without"],
)  # fmt: skip
def test_contract_the_wrong_form_of_naming_a_structure_gets_the_right_one(tmp_path, args, right):
    refused = run(tmp_path, *args)
    assert refused.exit_code == 2
    assert right in refused.stderr
    assert not (tmp_path / "store.db").exists()  # nothing ran


def test_contract_the_right_form_is_in_the_json_usage_error_too(tmp_path):
    refused = run(tmp_path, "structure", "show", "--structure", "1", "--json", "--lang", "en")
    assert refused.exit_code == 2
    message = json.loads(refused.stderr)["error"]["message"]
    assert "No such option: --structure" in message
    assert "Here the structure is given by position: `chorus structure show ID`." in message

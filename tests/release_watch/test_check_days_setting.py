"""TOOLING_CHECK_DAYS is read by env_int_list: sorted, without repeats; a bad value names the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from observatory.env import env_int_list


@pytest.mark.parametrize("raw, expected", [(None, (0, 1, 3, 7, 14, 30)), ("", (0, 1, 3, 7, 14, 30)),
                                           ("7, 0,3,3", (0, 3, 7)), ("30", (30,))])
def test_it_reads_the_check_days(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("TOOLING_CHECK_DAYS", raising=False)
    else:
        monkeypatch.setenv("TOOLING_CHECK_DAYS", raw)
    assert env_int_list("TOOLING_CHECK_DAYS", (0, 1, 3, 7, 14, 30), minimum=0) == expected


@pytest.mark.parametrize("raw", ["0,one", "-1,3", "1.5"])
def test_a_bad_value_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("TOOLING_CHECK_DAYS", raw)
    with pytest.raises(ImproperlyConfigured, match="TOOLING_CHECK_DAYS"):
        env_int_list("TOOLING_CHECK_DAYS", (0,), minimum=0)

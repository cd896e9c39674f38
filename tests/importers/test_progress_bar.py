"""The command line's progress bar (what `make run`'s bootstrap shows) over every kind of input an
importer hands it: a generator of rows, a list of batches, a sized range."""

import pytest

from ingest.importing import progress


@pytest.mark.parametrize("items", [(row for row in range(5)), list(range(5)), range(5)],
                         ids=["generator", "list", "range"])
def test_it_yields_every_item_with_the_bar_on(items, capsys):
    assert list(progress(items, desc="rows.csv", enabled=True)) == [0, 1, 2, 3, 4]


def test_it_yields_every_item_with_the_bar_off():
    assert list(progress((row for row in range(3)), desc="rows.csv")) == [0, 1, 2]

"""Every importer in the dataset table takes the same keywords, so ingest/datasets.py calls each
one alike (no signature sniffing, no special case)."""

import inspect

import pytest

from ingest.datasets import DATASETS

P = inspect.Parameter
# The contract, written out by hand: (path, *, progress_bar=False, run=None).
CONTRACT = [("path", P.POSITIONAL_OR_KEYWORD, P.empty), ("progress_bar", P.KEYWORD_ONLY, False),
            ("run", P.KEYWORD_ONLY, None)]


@pytest.mark.parametrize("dataset", DATASETS, ids=[dataset.name for dataset in DATASETS])
def test_every_registered_importer_has_exactly_the_contract(dataset):
    parameters = inspect.signature(dataset.importer).parameters.values()
    assert [(p.name, p.kind, p.default) for p in parameters] == CONTRACT, dataset.importer.__qualname__


def test_the_table_names_each_dataset_once_and_ten_in_all():
    assert len({dataset.name for dataset in DATASETS}) == len(DATASETS) == 10

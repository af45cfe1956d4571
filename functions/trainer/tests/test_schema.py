"""The committed config.schema.json is what the platform validates experiments against: keep it in sync."""
import os

from ril_trainer import schema

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_committed_schema_is_current():
    with open(os.path.join(HERE, "config.schema.json")) as f:
        committed = f.read()
    assert committed == schema.render(), "run: cd functions/trainer && python3 -m ril_trainer.schema > config.schema.json"


def test_schema_describes_defaults_ranges_and_docs():
    fields = schema.schema()["fields"]
    assert fields["lr"]["type"] == "number" and fields["lr"]["exclusiveMinimum"] == 0
    assert fields["batch_size"] == {**fields["batch_size"], "type": "integer", "minimum": 1}
    assert fields["betas"]["type"] == "array" and fields["betas"]["items"] == "number"
    assert fields["init_checkpoint"]["nullable"] is True
    assert "AdamW" in fields["lr"]["doc"]

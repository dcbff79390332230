"""Settings of the example: the release and database come from the environment (see lab.releases)."""

from lab.example_settings import example_settings

globals().update(example_settings(__file__, app_label="shop"))

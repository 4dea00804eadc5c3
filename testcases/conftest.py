"""A compliance run writes reports/report.html (self-contained) and reports/junit.xml by default."""

import pytest

from harness.report import use_default_report_paths


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    use_default_report_paths(config)

"""Tools built on the public API: the YAML test runner, coverage, batch evaluation, `policy diff`
and the documentation site."""

"""The expression language: parsing and checking expressions, operators, the reference evaluator
(`expressions`), compiled closures (`closures`), built-in functions, exact numbers, dates and
`because` templates (`reasons`). Imports only `engine.errors` and `engine.io`."""
